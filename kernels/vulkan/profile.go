package vulkan

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
	"time"
)

// The profiler: timestamps written before and after every dispatch while
// SARGO_PROFILE=1 (per-shader device time, printed at Close and counted in
// Counters.DeviceTime) or while a trace is recorded (StartTrace). Timed
// dispatches are serialised by a barrier each, so that one dispatch's
// timestamps do not include another's work; timestamps are masked to the
// queue's timestampValidBits and a counter that wrapped is unwrapped.

// profiler holds the timestamp settings and what was measured.
type profiler struct {
	period  float64 // nanoseconds per tick
	bits    uint32  // valid timestamp bits
	enabled bool    // SARGO_PROFILE: per-shader totals
	stats   map[string]*shaderTime
	ticks   []uint64
	trace   *trace // non-nil while a trace is recorded
}

type shaderTime struct {
	count int
	ns    float64
}

func newProfiler(period float32, bits uint32, enabled bool) *profiler {
	return &profiler{period: float64(period), bits: bits, enabled: enabled, stats: map[string]*shaderTime{}}
}

// active reports whether dispatches are timed now.
func (p *profiler) active() bool { return p != nil && (p.enabled || p.trace != nil) }

// tracing returns the trace being recorded, or nil.
func (p *profiler) tracing() *trace {
	if p == nil {
		return nil
	}
	return p.trace
}

// elapsed is the number of ticks from a to b of a bits-wide counter.
func elapsed(a, b uint64, bits uint32) uint64 {
	if bits == 0 || bits >= 64 {
		return b - a
	}
	mask := uint64(1)<<bits - 1
	return (b - a) & mask
}

// collect reads the timestamps of a completed frame.
func (b *Backend) collectTimes(f *frame) {
	p := b.prof
	n := 2 * len(f.timed)
	if n == 0 {
		return
	}
	if cap(p.ticks) < n {
		p.ticks = make([]uint64, n)
	}
	ticks := p.ticks[:n]
	if err := b.stream.dev.queryResults(f.h, ticks); err != nil {
		return
	}
	for i, d := range f.timed {
		ns := float64(elapsed(ticks[2*i], ticks[2*i+1], p.bits)) * p.period
		if p.enabled {
			st := p.stats[d.name]
			if st == nil {
				st = &shaderTime{}
				p.stats[d.name] = st
			}
			st.count++
			st.ns += ns
			if b.count.DeviceTime == nil {
				b.count.DeviceTime = map[string]time.Duration{}
			}
			b.count.DeviceTime[d.name] += time.Duration(ns)
		}
		if t := p.trace; t != nil && d.traced {
			// Device time is placed on the host's clock from the batch's
			// submission: its first timestamp is taken as the moment of
			// submission.
			at := f.submitted.Add(time.Duration(float64(elapsed(ticks[0], ticks[2*i], p.bits)) * p.period))
			t.add(traceEvent{Name: d.name, Cat: "device", Ph: "X", TS: t.us(at), Dur: ns / 1e3, PID: 1, TID: 2,
				Args: map[string]any{"batch": f.serial}})
		}
	}
}

// print writes the per-shader table, slowest total first.
func (p *profiler) print(w io.Writer, device string) {
	names := make([]string, 0, len(p.stats))
	var total float64
	for n, st := range p.stats {
		names = append(names, n)
		total += st.ns
	}
	sort.Slice(names, func(i, j int) bool { return p.stats[names[i]].ns > p.stats[names[j]].ns })
	fmt.Fprintf(w, "sargo vulkan profile (%s): %.3f ms of GPU time, dispatches serialised\n", device, total/1e6)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "shader\tcount\ttotal ms\tmean µs\t")
	for _, n := range names {
		st := p.stats[n]
		fmt.Fprintf(tw, "%s\t%d\t%.3f\t%.1f\t\n", n, st.count, st.ns/1e6, st.ns/1e3/float64(st.count))
	}
	tw.Flush()
}

// timedDispatch is one timed dispatch of a frame.
type timedDispatch struct {
	name   string
	traced bool // recorded while tracing
}

// trace is a Chrome trace being recorded: host events as they happen,
// device events as their batches complete.
type trace struct {
	start  time.Time
	events []traceEvent
}

// traceEvent is one event of the Chrome trace format ("X": a complete
// event with a duration; "M": metadata).
type traceEvent struct {
	Name string         `json:"name"`
	Cat  string         `json:"cat,omitempty"`
	Ph   string         `json:"ph"`
	TS   float64        `json:"ts"`
	Dur  float64        `json:"dur,omitempty"`
	PID  int            `json:"pid"`
	TID  int            `json:"tid"`
	Args map[string]any `json:"args,omitempty"`
}

func (t *trace) us(at time.Time) float64 { return float64(at.Sub(t.start).Nanoseconds()) / 1e3 }

func (t *trace) add(e traceEvent) { t.events = append(t.events, e) }

// host adds a host event that started at start and ends now.
func (t *trace) host(name string, start time.Time, args map[string]any) {
	t.add(traceEvent{Name: name, Cat: "host", Ph: "X", TS: t.us(start), Dur: float64(time.Since(start).Nanoseconds()) / 1e3,
		PID: 1, TID: 1, Args: args})
}

// StartTrace starts recording a Chrome trace: every launch on the host
// (from the kernel's call to the end of its recording) and every dispatch
// on the device (from its timestamps), until StopTrace. It fails on a
// device without compute timestamps.
func (b *Backend) StartTrace() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.prof == nil {
		return fmt.Errorf("vulkan: %s has no compute timestamps to trace", b.info.Name)
	}
	b.flushAndWait() // batches recorded before the trace stay out of it
	b.prof.trace = &trace{start: time.Now()}
	return nil
}

// StopTrace waits for the device and writes what was recorded since
// StartTrace to w in the Chrome trace event format (JSON, for a browser's
// trace viewer such as chrome://tracing or ui.perfetto.dev).
func (b *Backend) StopTrace(w io.Writer) error {
	b.mu.Lock()
	if b.prof == nil || b.prof.trace == nil {
		b.mu.Unlock()
		return fmt.Errorf("vulkan: StopTrace without StartTrace")
	}
	b.flushAndWait()
	t := b.prof.trace
	b.prof.trace = nil
	err := b.err
	b.mu.Unlock()
	if err != nil {
		return err
	}
	meta := []traceEvent{
		{Name: "process_name", Ph: "M", PID: 1, Args: map[string]any{"name": "sargo " + b.name + " (" + b.info.Name + ")"}},
		{Name: "thread_name", Ph: "M", PID: 1, TID: 1, Args: map[string]any{"name": "host: launches and submits"}},
		{Name: "thread_name", Ph: "M", PID: 1, TID: 2, Args: map[string]any{"name": "device: dispatches (serialised)"}},
	}
	out := struct {
		TraceEvents     []traceEvent `json:"traceEvents"`
		DisplayTimeUnit string       `json:"displayTimeUnit"`
	}{append(meta, t.events...), "ms"}
	enc := json.NewEncoder(w)
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("vulkan: write trace: %w", err)
	}
	return nil
}
