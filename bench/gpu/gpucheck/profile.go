package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"regexp"
	"sort"

	"sargo/bench"
	"sargo/kernels/vulkan"
)

// ProfileResult is what the Vulkan profiler saw over the steps of one bench
// case, per step.
type ProfileResult struct {
	Suite  string `json:"suite"`
	Case   string `json:"case"`
	Device string `json:"device,omitempty"`
	// Steps is the number of steps the figures are taken over.
	Steps int `json:"steps"`
	// WallMs is the median wall time of a step (from the start of its
	// recording to the end of its Sync).
	WallMs float64 `json:"wall_ms_per_step"`
	// GPUMs is the sum of the GPU times of a step's dispatches (from
	// timestamps written around each); where dispatches overlap on the
	// device it exceeds the time the device was busy.
	GPUMs float64 `json:"gpu_ms_per_step"`
	// IdleMs is WallMs − GPUMs, at least 0: the time of a step in which the
	// device ran none of its dispatches (waiting for the host, for
	// transfers, or between batches). IdleFraction is IdleMs / WallMs.
	IdleMs       float64 `json:"idle_ms_per_step"`
	IdleFraction float64 `json:"idle_fraction"`
	// Dispatches is the number of compute dispatches of a step.
	Dispatches float64 `json:"dispatches_per_step"`
	// HostCPUMs is the processor time of the whole process in a step (all
	// threads: recording, autograd, Go's runtime); HostUsPerDispatch is
	// HostCPUMs over Dispatches, an upper bound of the host cost of one
	// dispatch.
	HostCPUMs         float64 `json:"host_cpu_ms_per_step"`
	HostUsPerDispatch float64 `json:"host_cpu_us_per_dispatch"`
	// Shaders are the shaders of a step, most GPU time first.
	Shaders []ShaderStep `json:"shaders"`
	// Counters are the backend's dispatch counters of the bench record
	// (its "vulkan" field), when the backend counts.
	Counters json.RawMessage `json:"counters,omitempty"`
	Error    string          `json:"error,omitempty"`
}

// ShaderStep is one shader's share of a step.
type ShaderStep struct {
	Name       string  `json:"name"`
	Dispatches float64 `json:"dispatches_per_step"`
	Ms         float64 `json:"ms_per_step"`
}

func profileCmd(args []string) error {
	fs := flag.NewFlagSet("profile", flag.ContinueOnError)
	suiteName := fs.String("suite", "train", "bench suite")
	match := fs.String("cases", "", "profile the suite's cases whose names match this regular expression (default all)")
	steps := fs.Int("steps", 5, "steps measured per case (after one warm-up)")
	index := fs.Int("index", 0, "Vulkan device index (vulkan:N)")
	quick := fs.Bool("quick", false, "the suite's quick cases")
	gpuShapes := fs.Bool("gpu-shapes", false, "the suite's GPU cases")
	jsonPath := fs.String("json", "", "write the results to this JSON file (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *jsonPath == "" || fs.NArg() > 0 || *steps < 1 {
		return fmt.Errorf("profile: want --json FILE, --steps at least 1 and no arguments\n%s", usage)
	}
	re, err := regexp.Compile(*match)
	if err != nil {
		return fmt.Errorf("profile: --cases: %w", err)
	}
	suites, err := bench.Lookup(*suiteName)
	if err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	cases, err := suites[0].List(*quick, *gpuShapes)
	if err != nil {
		return fmt.Errorf("profile: suite %s: %w", *suiteName, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var results []ProfileResult
	for _, c := range cases {
		if !re.MatchString(c.Name) {
			continue
		}
		p := profiler{index: *index, suite: suites[0], quick: *quick, gpuShapes: *gpuShapes}
		r := p.profile(ctx, c, *steps)
		results = append(results, r)
		if r.Error != "" {
			fmt.Fprintf(os.Stderr, "profile %s/%s: %s\n", r.Suite, r.Case, r.Error)
		} else {
			fmt.Fprintf(os.Stderr, "profile %s/%s: %.2f ms/step wall, %.2f ms GPU, %.2f ms idle (%.0f%%), %.0f dispatches, %.1f µs host CPU/dispatch\n",
				r.Suite, r.Case, r.WallMs, r.GPUMs, r.IdleMs, 100*r.IdleFraction, r.Dispatches, r.HostUsPerDispatch)
		}
		if err := writeJSON(*jsonPath, results); err != nil {
			return err
		}
		if ctx.Err() != nil {
			break
		}
	}
	if len(results) == 0 {
		return fmt.Errorf("profile: no case of suite %s matches %q", *suiteName, *match)
	}
	return ctx.Err()
}

// profiler times one case on fresh backends with profiling on.
type profiler struct {
	index            int
	suite            bench.Suite
	quick, gpuShapes bool
}

// profile runs the case twice, each time on a freshly opened backend that
// is closed afterwards: once for the set-up and a warm-up step and one
// timed step, once for the same and steps more. The profiler's totals of
// the second run minus the first are those of exactly the extra steps,
// whatever the set-up and the bench harness dispatch besides.
func (p profiler) profile(ctx context.Context, c bench.Case, steps int) ProfileResult {
	res := ProfileResult{Suite: p.suite.Name, Case: c.Name, Steps: steps}
	base, _, err := p.run(ctx, c.Name, 1)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	totals, rec, err := p.run(ctx, c.Name, 1+steps)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	res.Device = rec.Device
	// Each repeat ran one step, at a rate of the case's work per second.
	var step []float64
	for _, rate := range rec.SargoRuns {
		if rate > 0 {
			step = append(step, 1e3*c.Work/rate)
		}
	}
	res.WallMs = median(step)
	if rec.SargoCPU > 0 {
		res.HostCPUMs = 1e3 * c.Work / rec.SargoCPU
	}
	for name, t := range totals {
		b := base[name]
		s := ShaderStep{Name: name, Dispatches: float64(t.Count-b.Count) / float64(steps), Ms: max(0, t.Ms-b.Ms) / float64(steps)}
		if s.Dispatches <= 0 {
			continue
		}
		res.Shaders = append(res.Shaders, s)
		res.Dispatches += s.Dispatches
		res.GPUMs += s.Ms
	}
	sort.Slice(res.Shaders, func(i, j int) bool { return res.Shaders[i].Ms > res.Shaders[j].Ms })
	res.IdleMs = max(0, res.WallMs-res.GPUMs)
	if res.WallMs > 0 {
		res.IdleFraction = res.IdleMs / res.WallMs
	}
	if res.Dispatches > 0 {
		res.HostUsPerDispatch = 1e3 * res.HostCPUMs / res.Dispatches
	}
	if raw, err := json.Marshal(rec); err == nil {
		var fields map[string]json.RawMessage
		if json.Unmarshal(raw, &fields) == nil && len(fields["vulkan"]) > 0 && string(fields["vulkan"]) != "null" {
			res.Counters = fields["vulkan"]
		}
	}
	return res
}

// run measures the case with one warm-up and repeats single-step repeats
// on a new profiling backend, and returns the profiler's totals and the
// bench record.
func (p profiler) run(ctx context.Context, name string, repeats int) (map[string]shaderTotal, bench.Record, error) {
	var table bytes.Buffer
	be, err := vulkan.Open(p.index, vulkan.Options{Profile: true, ProfileOutput: &table})
	if err != nil {
		return nil, bench.Record{}, fmt.Errorf("open vulkan:%d: %w", p.index, err)
	}
	cfg := bench.Config{Suites: []bench.Suite{p.suite}, Backend: be, Quick: p.quick, GPUShapes: p.gpuShapes,
		Timing: bench.Timing{Warmup: 1, Repeats: repeats, MinTime: 0},
		Match:  regexp.MustCompile("^" + regexp.QuoteMeta(p.suite.Name+"/"+name) + "$")}
	recs, runErr := bench.Run(ctx, cfg)
	closeErr := be.Close()
	switch {
	case runErr != nil:
		return nil, bench.Record{}, runErr
	case len(recs) != 1:
		return nil, bench.Record{}, fmt.Errorf("bench returned %d records for one case", len(recs))
	case recs[0].Error != "":
		return nil, recs[0], errors.New(recs[0].Error)
	case closeErr != nil:
		return nil, recs[0], fmt.Errorf("close vulkan:%d: %w", p.index, closeErr)
	case table.Len() == 0:
		return nil, recs[0], fmt.Errorf("vulkan:%d wrote no profile: it has no compute timestamps", p.index)
	}
	totals, err := parseProfileTable(table.String())
	return totals, recs[0], err
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// writeJSON writes v as indented JSON to path through a temporary file.
func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
