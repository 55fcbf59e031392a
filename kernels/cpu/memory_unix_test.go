//go:build unix

package cpu

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestPoolMapsLargeStorages checks that a storage of mapMin bytes or more
// takes nothing from the Go heap (it is mapped from the system) and one
// below it does, and that both are usable and recycled.
func TestPoolMapsLargeStorages(t *testing.T) {
	tests := []struct {
		name   string
		values int
		mapped bool
	}{
		{"below mapMin: Go heap", mapMin / 8, false},
		{"mapMin: mapped", mapMin / 4, true},
		{"16 MiB: mapped", 4 * mapMin, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := New()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			buf := b.Alloc(tc.values).(*Buffer)
			runtime.ReadMemStats(&after)
			heap := after.TotalAlloc - before.TotalAlloc
			if tc.mapped {
				assert.Less(t, heap, uint64(4096), "Go heap bytes for a mapped storage")
			} else {
				assert.GreaterOrEqual(t, heap, uint64(4*tc.values), "Go heap bytes for a small storage")
			}
			buf.Data[0], buf.Data[tc.values-1] = 1, 2
			b.Free(buf)
			again := b.Alloc(tc.values).(*Buffer)
			assert.Same(t, buf, again, "recycled")
			assert.Equal(t, float32(2), again.Data[tc.values-1])
			b.Free(again)
		})
	}
}
