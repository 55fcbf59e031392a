package bench

import (
	"fmt"
	"runtime"

	"sargo/tensor"
)

// Memory is what one run of a case does with memory, measured over Steps
// untimed runs after the timed ones. Device byte counts are the tensors'
// sizes (4 bytes per element); PeakBytes, LiveBytesAfterStep and
// StateBytes count what the case holds, not what was live before it.
type Memory struct {
	Steps int `json:"steps"`
	// AllocsPerStep, BytesAllocatedPerStep and BytesZeroFilledPerStep are
	// the device storages allocated, their bytes, and the bytes filled
	// with zeros (accumulators), per run.
	AllocsPerStep          float64 `json:"allocs_per_step"`
	BytesAllocatedPerStep  float64 `json:"bytes_allocated_per_step"`
	BytesZeroFilledPerStep float64 `json:"bytes_zero_filled_per_step"`
	// PeakBytes is the most bytes live during the runs.
	PeakBytes int64 `json:"peak_bytes"`
	// LiveBytesAfterStep is what is live after the last run.
	LiveBytesAfterStep int64 `json:"live_bytes_after_step"`
	// StateBytes is what should be live after a run (for a training step:
	// parameters, their gradients, the optimiser moments and the fixed
	// batch); 0 when the case does not say.
	StateBytes int64 `json:"state_bytes,omitempty"`
	// ReservedBytes is the memory the device holds for storages, live or
	// kept for reuse.
	ReservedBytes int64 `json:"reserved_bytes"`
	// GoAllocsPerStep and GoBytesPerStep are the Go heap's allocations
	// per run (runtime.MemStats Mallocs and TotalAlloc).
	GoAllocsPerStep float64 `json:"go_allocs_per_step"`
	GoBytesPerStep  float64 `json:"go_bytes_per_step"`
}

// memorySteps is the number of runs Memory is measured over.
const memorySteps = 3

// measureMemory runs run memorySteps times and reports what the runs did
// with memory; base is the live bytes before the case was set up.
func measureMemory(be tensor.Backend, run func() error, base int64, state func() int64) (*Memory, error) {
	be.ResetPeak()
	before := be.MemStats()
	var g0, g1 runtime.MemStats
	runtime.ReadMemStats(&g0)
	for range memorySteps {
		if err := run(); err != nil {
			return nil, fmt.Errorf("memory: %w", err)
		}
	}
	runtime.ReadMemStats(&g1)
	after := be.MemStats()
	d := after.Sub(before)
	n := float64(memorySteps)
	m := &Memory{Steps: memorySteps,
		AllocsPerStep: float64(d.Allocs) / n, BytesAllocatedPerStep: float64(d.AllocatedBytes) / n,
		BytesZeroFilledPerStep: float64(d.ZeroFilledBytes) / n,
		PeakBytes:              after.PeakBytes - base, LiveBytesAfterStep: after.LiveBytes - base,
		ReservedBytes:   after.ReservedBytes,
		GoAllocsPerStep: float64(g1.Mallocs-g0.Mallocs) / n, GoBytesPerStep: float64(g1.TotalAlloc-g0.TotalAlloc) / n}
	if state != nil {
		m.StateBytes = state()
	}
	return m, nil
}

// String is a one-line summary for the progress log.
func (m *Memory) String() string {
	zero := 0.0
	if m.BytesAllocatedPerStep > 0 {
		zero = 100 * m.BytesZeroFilledPerStep / m.BytesAllocatedPerStep
	}
	return fmt.Sprintf("%.0f allocs/step, %.1f MiB/step (%.1f%% zero-filled), peak %.1f MiB, live after %.1f MiB, %.0f Go allocs/step",
		m.AllocsPerStep, m.BytesAllocatedPerStep/(1<<20), zero, float64(m.PeakBytes)/(1<<20), float64(m.LiveBytesAfterStep)/(1<<20), m.GoAllocsPerStep)
}
