package bench

import (
	"fmt"
	"io"

	"sargo/kernels/vulkan"
	"sargo/tensor"
)

// Dispatch is what one run of a case recorded on a Vulkan device, counted
// by the backend (vulkan.Counters) over the same untimed runs as Memory.
type Dispatch struct {
	// DispatchesPerStep are compute dispatches; BarriersPerStep the
	// pipeline barriers recorded between commands on a hazard.
	DispatchesPerStep float64 `json:"dispatches_per_step"`
	BarriersPerStep   float64 `json:"barriers_per_step"`
	// DescriptorWritesPerStep are storage-buffer descriptors written
	// (updated or pushed); DescriptorSetsPerStep the sets allocated.
	DescriptorWritesPerStep float64 `json:"descriptor_writes_per_step"`
	DescriptorSetsPerStep   float64 `json:"descriptor_sets_per_step"`
	// FillsPerStep and CopiesPerStep are transfer commands; SubmitsPerStep
	// queue submissions.
	FillsPerStep   float64 `json:"fills_per_step"`
	CopiesPerStep  float64 `json:"copies_per_step"`
	SubmitsPerStep float64 `json:"submits_per_step"`
	// HostUsPerDispatch is the host time of the dispatch path (recording
	// and submitting, fence waits excluded) divided by the dispatches.
	HostUsPerDispatch float64 `json:"host_us_per_dispatch"`
	// ByShader is the dispatches per step of each shader.
	ByShader map[string]float64 `json:"by_shader,omitempty"`
	// DeviceUsPerStep is each shader's device time per step, from
	// timestamps, when profiling (SARGO_PROFILE=1; dispatches are then
	// serialised).
	DeviceUsPerStep map[string]float64 `json:"device_us_per_step,omitempty"`
}

// dispatchCounter is a backend that counts its dispatches.
type dispatchCounter interface {
	Counters() vulkan.Counters
}

// tracer is a backend that records Chrome traces.
type tracer interface {
	StartTrace() error
	StopTrace(w io.Writer) error
}

// traceRun records a Chrome trace of one run into w.
func traceRun(be tensor.Backend, run func() error, w io.Writer) error {
	tr, ok := be.(tracer)
	if !ok {
		return fmt.Errorf("trace: %s cannot record a trace", be.Name())
	}
	if err := tr.StartTrace(); err != nil {
		return fmt.Errorf("trace: %w", err)
	}
	runErr := run()
	if err := tr.StopTrace(w); err != nil {
		return fmt.Errorf("trace: %w", err)
	}
	if runErr != nil {
		return fmt.Errorf("trace: %w", runErr)
	}
	return nil
}

// startDispatch snapshots be's counters; the returned function gives the
// per-step figures of the runs made since, or nil when be counts nothing.
func startDispatch(be tensor.Backend) func(steps int) *Dispatch {
	dc, ok := be.(dispatchCounter)
	if !ok {
		return func(int) *Dispatch { return nil }
	}
	before := dc.Counters()
	return func(steps int) *Dispatch {
		d := dc.Counters().Sub(before)
		n := float64(steps)
		out := &Dispatch{
			DispatchesPerStep: float64(d.Dispatches) / n, BarriersPerStep: float64(d.Barriers) / n,
			DescriptorWritesPerStep: float64(d.DescriptorWrites) / n, DescriptorSetsPerStep: float64(d.DescriptorSets) / n,
			FillsPerStep: float64(d.Fills) / n, CopiesPerStep: float64(d.Copies) / n, SubmitsPerStep: float64(d.Submits) / n,
			HostUsPerDispatch: float64(d.HostPerDispatch().Nanoseconds()) / 1e3,
			ByShader:          map[string]float64{},
		}
		for k, v := range d.ByShader {
			out.ByShader[k] = float64(v) / n
		}
		if d.DeviceTime != nil {
			out.DeviceUsPerStep = map[string]float64{}
			for k, v := range d.DeviceTime {
				out.DeviceUsPerStep[k] = float64(v.Nanoseconds()) / 1e3 / n
			}
		}
		return out
	}
}

// String is a one-line summary for the progress log.
func (d *Dispatch) String() string {
	return fmt.Sprintf("%.0f dispatches/step, %.0f barriers, %.0f descriptor writes, %.0f sets, %.0f fills, %.0f copies, %.0f submits, %.1f µs host/dispatch",
		d.DispatchesPerStep, d.BarriersPerStep, d.DescriptorWritesPerStep, d.DescriptorSetsPerStep, d.FillsPerStep,
		d.CopiesPerStep, d.SubmitsPerStep, d.HostUsPerDispatch)
}
