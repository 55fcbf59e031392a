package bench

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/kernels/kerneltest"
	"sargo/tensor"
)

// TestTrainStepMemory runs the quick bench model's training step on every
// device and checks, after two warm-up steps, that a step takes no new
// memory (the device's reserved bytes stay put: every storage is recycled),
// that what stays live after each step is exactly the parameters, their
// gradients, the moments and the batch, and that a zero fill is a small
// part of what a step allocates. On the CPU, tensors no longer come from
// the Go heap: at width 256 and batch 4 a step allocates from it less than
// 5% of what it allocates for tensors (what it does allocate is tensor
// headers, closures and the tape, about 4 KB per tensor). The CPU runs
// that size, a Vulkan device the quick model.
func TestTrainStepMemory(t *testing.T) {
	kerneltest.Run(t, func(t *testing.T, be tensor.Backend) {
		mb := benchModel(true)
		if be.Name() == "cpu" {
			mb.Cfg.Width, mb.Cfg.Heads, mb.Batch = 256, 4, 4
		}
		for _, method := range []string{"tf", "sar"} {
			t.Run(method, func(t *testing.T) {
				s := tensor.NewScope(be)
				defer s.Close()
				base := be.MemStats().LiveBytes
				var state int64
				run, _, err := setupTrain(be, mb, method, &state)
				require.NoError(t, err)
				for range 2 {
					require.NoError(t, run())
				}
				warm := be.MemStats()
				var g0, g1 runtime.MemStats
				runtime.ReadMemStats(&g0)
				const steps = 5
				for i := range steps {
					require.NoError(t, run())
					require.Equal(t, state, be.MemStats().LiveBytes-base, "live bytes after step %d", i)
				}
				runtime.ReadMemStats(&g1)
				d := be.MemStats().Sub(warm)
				assert.Equal(t, warm.ReservedBytes, d.ReservedBytes, "reserved bytes after warm-up")
				allocated := float64(d.AllocatedBytes) / steps
				assert.Less(t, float64(d.ZeroFilledBytes)/steps, 0.05*allocated, "zero-filled bytes per step")
				goBytes, goAllocs := float64(g1.TotalAlloc-g0.TotalAlloc)/steps, float64(g1.Mallocs-g0.Mallocs)/steps
				t.Logf("per step: %.0f storages, %.0f bytes, %.0f zero-filled; Go heap %.0f allocations, %.0f bytes",
					float64(d.Allocs)/steps, allocated, float64(d.ZeroFilledBytes)/steps, goAllocs, goBytes)
				if be.Name() == "cpu" {
					assert.Less(t, goBytes, 0.05*allocated, "Go heap bytes per step")
				}
			})
		}
	})
}
