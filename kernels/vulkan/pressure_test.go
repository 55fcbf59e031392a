package vulkan

import (
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/autograd"
	"sargo/nn"
	"sargo/sar"
	"sargo/sar/schedule"
	"sargo/tensor"
)

// TestMemoryPressureWithoutCollector drops tensors without Release while
// Go's collector is off: only the pool's forced collections free them. With
// them the pool stays at a few blocks; without them every block is new.
func TestMemoryPressureWithoutCollector(t *testing.T) {
	tests := []struct {
		name     string
		pressure bool
		maxAlloc int // driver allocations allowed after the loop
	}{
		{"pressure", true, 3},
		{"no pressure", false, 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := openValidated(t)
			if !tt.pressure {
				b.pool.relieve = nil
			}
			defer debug.SetGCPercent(debug.SetGCPercent(-1))
			const n, count = 1 << 18, 160 // 1 MiB each, 160 MiB in all
			x := tensor.FromSlice(b, randData(n, 3), n)
			for range count {
				y := tensor.Empty(b, n)
				b.Unary(tensor.OpSigmoid, y.View(), x.View(), 0, 0)
			}
			require.NoError(t, b.Sync())
			st := b.Stats()
			t.Logf("%+v", st)
			assert.LessOrEqual(t, st.DriverAllocations, tt.maxAlloc)
			if tt.pressure {
				assert.Positive(t, st.PressureGCs)
			} else {
				assert.GreaterOrEqual(t, st.DriverAllocations, count/64, "without pressure the dropped tensors pile up")
			}
			runtime.GC() // free the dropped tensors before Close
		})
	}
}

// TestMemoryPressureTraining trains a tiny transformer with AdamW on the
// device with Go's collector off, so that the step intermediates that
// autograd does not release are freed only through the pool's forced
// collections, and checks that after warm-up the pool makes no driver
// allocation, its high water stays within the warm pool and the process's
// resident memory stays within a bound. It runs 200 steps, or 1,000 with
// SARGO_LONG=1 outside -short.
func TestMemoryPressureTraining(t *testing.T) {
	steps := 200
	if os.Getenv("SARGO_LONG") == "1" && !testing.Short() {
		steps = 1000
	}
	const warmup = 20
	b := openValidated(t)
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	cfg := sar.Config{Depth: 1, Width: 32, Heads: 2, MLPRatio: 2, NumClasses: 3, Vocab: 16, CVae: 4,
		Largest: 4, CondDrop: 0.1, AttnL2: true}
	m, err := sar.NewModel(cfg, b, 1)
	require.NoError(t, err)
	m.SetTrain(true)
	opt, err := nn.NewAdamW(m.Parameters(), nn.DefaultAdamWConfig())
	require.NoError(t, err)
	scales := schedule.Schedule{1, 2, 4}
	const batch = 4
	labels := tensor.FromSlice(b, []float32{0, 1, 2, 1}, batch)
	z := make([]*tensor.Tensor, len(scales))
	var tokens []float32
	for k, s := range scales {
		z[k] = tensor.Randn(b, 7, uint64(k)<<20, batch, cfg.CVae, s, s)
	}
	for i := range batch * scales.Tokens() {
		tokens = append(tokens, float32(i*7%cfg.Vocab))
	}
	targets := tensor.FromSlice(b, tokens, batch*scales.Tokens())
	inputs := autograd.Const(sar.NextScaleInputs(z, scales))

	step := func(i int) float32 {
		g := autograd.NewGraph()
		m.SetDropPathOffset(uint64(i) << 24)
		logits := m.Forward(g, m.DropLabels(labels, 1, uint64(i)<<24), scales, inputs)
		loss := g.CrossEntropy(g.Reshape(logits, batch*scales.Tokens(), cfg.Vocab), targets, autograd.DefaultCEOptions())
		require.NoError(t, g.Backward(loss))
		require.NoError(t, opt.Update())
		nn.ZeroGrads(m.Parameters())
		v, err := loss.Value.Read()
		require.NoError(t, err)
		return v[0]
	}
	for i := range warmup {
		step(i)
	}
	// Warm-up ends once the pool has reached its steady size: a forced
	// collection has recycled the intermediates at least once.
	for i := warmup; b.Stats().PressureGCs == 0 && i < 10*warmup; i++ {
		step(i)
	}
	warm, rssWarm := b.Stats(), residentBytes(t)
	first := step(0)
	var last float32
	for i := range steps {
		last = step(warmup + i)
	}
	require.NoError(t, b.Sync())
	after, rssAfter := b.Stats(), residentBytes(t)
	t.Logf("loss %.4f -> %.4f; after warm-up %+v, RSS %d MiB; after %d steps %+v, RSS %d MiB",
		first, last, warm, rssWarm>>20, steps, after, rssAfter>>20)
	assert.Less(t, last, first, "the model trains")
	assert.Greater(t, after.PressureGCs, warm.PressureGCs, "forced collections recycle the intermediates")
	assert.Equal(t, warm.DriverAllocations, after.DriverAllocations, "driver allocations after warm-up")
	assert.Equal(t, warm.BytesReserved, after.BytesReserved, "bytes reserved after warm-up")
	assert.LessOrEqual(t, after.HighWater, warm.BytesReserved, "high water within the warm pool")
	assert.Less(t, rssAfter, rssWarm+64<<20, "resident memory after %d steps", steps)
}

// residentBytes reads the process's resident set size from /proc.
func residentBytes(t *testing.T) int64 {
	t.Helper()
	buf, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Skipf("no /proc/self/statm: %v", err)
	}
	fields := strings.Fields(string(buf))
	require.GreaterOrEqual(t, len(fields), 2)
	pages, err := strconv.ParseInt(fields[1], 10, 64)
	require.NoError(t, err)
	return pages * int64(os.Getpagesize())
}
