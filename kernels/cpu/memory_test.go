package cpu

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPoolRecyclesByClass(t *testing.T) {
	b := New()
	s := b.Alloc(1000).(*Buffer)
	s.Data[0] = 7
	b.Free(s)
	again := b.Alloc(990).(*Buffer) // the same class (4000 bytes round to 4096)
	require.Same(t, s, again, "a freed buffer of the class is handed out again")
	assert.Equal(t, float32(7), again.Data[0], "Alloc does not clear it")
	assert.Len(t, again.Data, 990)
	other := b.Alloc(2000).(*Buffer) // another class: a new buffer
	assert.NotSame(t, s, other)
	st := b.MemStats()
	assert.Equal(t, int64(3), st.Allocs)
	assert.Equal(t, int64(1), st.Frees)
	assert.Equal(t, int64(990+2000)*4, st.LiveBytes)
	assert.Equal(t, int64(4096+8192), st.ReservedBytes)
	b.Free(again)
	b.Free(other)
	assert.Panics(t, func() { b.Free(other) }, "a second Free is a bug")
	assert.Zero(t, b.MemStats().Live())
}

// TestPoolHoldsAtMostThePeak frees storages of sizes that change from step
// to step (as a sampler's scales do) or repeat (as training steps do): the
// pool, live and free together, never holds more than the live peak plus
// poolSlack, and a repeated workload is served from the free lists.
func TestPoolHoldsAtMostThePeak(t *testing.T) {
	const mib = 1 << 18 // float32 values in a MiB
	tests := []struct {
		name   string
		sizes  func(step int) []int // the transients of a step, in values (exact class sizes)
		steps  int
		reused bool // steps after the first take no new buffer
	}{
		{"sizes that grow step by step", func(k int) []int { return []int{4 * (k + 1) * mib, 2 * (k + 1) * mib} }, 10, false},
		{"the same sizes every step", func(int) []int { return []int{8 * mib, 6 * mib, 6 * mib} }, 4, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := New()
			resident := b.Alloc(8 * mib)
			seen := map[*Buffer]bool{}
			for k := range tc.steps {
				var live []*Buffer
				fresh := 0
				for _, n := range tc.sizes(k) {
					buf := b.Alloc(n).(*Buffer)
					if !seen[buf] {
						fresh++
					}
					seen[buf] = true
					live = append(live, buf)
				}
				for _, buf := range live {
					b.Free(buf)
				}
				st := b.MemStats()
				assert.LessOrEqual(t, st.ReservedBytes, st.PeakBytes+poolSlack, "step %d: pool holds %d bytes, live peak %d", k, st.ReservedBytes, st.PeakBytes)
				if tc.reused && k > 0 {
					assert.Zero(t, fresh, "step %d takes new buffers", k)
				}
			}
			b.Free(resident)
		})
	}
}
