package vulkan

import (
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
)

// profiler accumulates per-shader GPU time from timestamp queries written
// around every dispatch (SARGO_PROFILE=1).
type profiler struct {
	period float64 // nanoseconds per tick
	stats  map[string]*shaderTime
	ticks  []uint64
}

type shaderTime struct {
	count int
	ns    float64
}

func newProfiler(period float32) *profiler {
	return &profiler{period: float64(period), stats: map[string]*shaderTime{}}
}

// collect reads the timestamps of a completed frame.
func (p *profiler) collect(dev *device, f *frame) {
	n := 2 * len(f.shaders)
	if n == 0 {
		return
	}
	if cap(p.ticks) < n {
		p.ticks = make([]uint64, n)
	}
	ticks := p.ticks[:n]
	if err := dev.queryResults(f.h, ticks); err != nil {
		return
	}
	for i, name := range f.shaders {
		st := p.stats[name]
		if st == nil {
			st = &shaderTime{}
			p.stats[name] = st
		}
		st.count++
		if ticks[2*i+1] >= ticks[2*i] {
			st.ns += float64(ticks[2*i+1]-ticks[2*i]) * p.period
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
	fmt.Fprintf(w, "sargo vulkan profile (%s): %.3f ms of GPU time\n", device, total/1e6)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "shader\tcount\ttotal ms\tmean µs\t")
	for _, n := range names {
		st := p.stats[n]
		fmt.Fprintf(tw, "%s\t%d\t%.3f\t%.1f\t\n", n, st.count, st.ns/1e6, st.ns/1e3/float64(st.count))
	}
	tw.Flush()
}
