package bench

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/kernels/cpu"
	"sargo/kernels/kerneltest"
	"sargo/nn"
	"sargo/sar"
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
				if be.Name() == "cpu" {
					// The CPU pool keeps at most the live peak plus 64 MiB
					// (kernels/cpu poolSlack) and drops free blocks past it;
					// which ones depends on the order the workers free their
					// scratch, so after warm-up the reserve may shrink but
					// never grows past what warm-up reserved or that bound.
					bound := max(warm.ReservedBytes, d.PeakBytes+64<<20)
					assert.LessOrEqual(t, d.ReservedBytes, bound, "reserved bytes after warm-up")
				} else {
					assert.Equal(t, warm.ReservedBytes, d.ReservedBytes, "reserved bytes after warm-up")
				}
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

// TestTrainStepGoAllocs counts the Go heap allocations of one training
// step of the quick bench model on the CPU (two workers, as on the CI
// machine), after warm-up, with testing.AllocsPerRun, against the goal of
// at most 100. Kernels launch without the heap (on the calling goroutine,
// or handed to the backend's long-lived workers in reused frames), tensors
// keep small shapes in their headers, scopes and graphs allocate headers,
// Vars, node inputs, tape nodes, gradients and broadcast strides a slab at
// a time, and the operations of a step record plain backward functions
// with what they saved in the node instead of closures. What remains is
// mostly those slabs, the graph and its gradient map, and a few leaves
// (Const) and scalars the step makes.
func TestTrainStepGoAllocs(t *testing.T) {
	tests := []struct {
		method string
		most   float64 // allocations per step; 8,809 (tf) and 17,132 (sar) at first, 924 and 1,824 before the worker pool
	}{
		{"tf", 100},
		{"sar", 100},
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	be := cpu.New()
	for _, tc := range tests {
		t.Run(tc.method, func(t *testing.T) {
			s := tensor.NewScope(be)
			defer s.Close()
			var state int64
			run, _, err := setupTrain(be, benchModel(true), tc.method, &state)
			require.NoError(t, err)
			for range 3 {
				require.NoError(t, run())
			}
			allocs := testing.AllocsPerRun(10, func() { require.NoError(t, run()) })
			t.Logf("%s: %.0f Go heap allocations per step", tc.method, allocs)
			assert.LessOrEqual(t, allocs, tc.most, "Go heap allocations per step")
		})
	}
}

// TestTrainStepMemoryFlat runs 200 steps of the quick bench model's SAR
// training step on the CPU (kernels/vulkan's TestTrainingMemoryFlat does
// the same on a Vulkan device) and checks after every step that the live
// bytes are exactly the state (parameters, gradients, the two AdamW
// moments, the fixed batch and codebook; the log splits it) and that after
// the first step the device takes no new memory (reserved bytes constant).
func TestTrainStepMemoryFlat(t *testing.T) {
	be := tensor.MustOpen("cpu")
	mb := benchModel(true)
	model := 3 * 4 * int64(numParams(t, be, mb))
	s := tensor.NewScope(be)
	defer s.Close()
	base := be.MemStats().LiveBytes
	var state int64
	run, _, err := setupTrain(be, mb, "sar", &state)
	require.NoError(t, err)
	require.NoError(t, run())
	reserved := be.MemStats().ReservedBytes
	const steps = 200
	for i := range steps {
		require.NoError(t, run())
		m := be.MemStats()
		require.Equal(t, state, m.LiveBytes-base, "live bytes after step %d", i+2)
		require.Equal(t, reserved, m.ReservedBytes, "reserved bytes after step %d", i+2)
	}
	t.Logf("live after every step: %d bytes = parameters, gradients and moments %d + batch and codebook %d; reserved %d",
		state, model, state-model, reserved)
	assert.Less(t, model, state)
}

// numParams is the number of parameters of the bench model mb.
func numParams(t *testing.T, be tensor.Backend, mb modelBench) int {
	t.Helper()
	s := tensor.NewScope(be)
	defer s.Close()
	m, err := sar.NewModel(mb.Cfg, be, 1)
	require.NoError(t, err)
	return nn.NumParams(m.Parameters())
}
