package bench

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"runtime"

	"sargo/tensor"
)

// Config is one benchmark invocation.
type Config struct {
	Suites  []Suite
	Backend tensor.Backend
	Timing  Timing
	// Quick shrinks every case (for CPU Vulkan drivers and tests).
	Quick bool
	// GPUShapes selects each suite's GPU cases where it has them.
	GPUShapes bool
	// Reference, when set, runs each suite's PyTorch reference after
	// sargo's cases.
	Reference *TorchRunner
	// Match, when set, keeps only the cases whose "suite/case" name it
	// matches.
	Match *regexp.Regexp
	// Log receives one progress line per case; nil discards them.
	Log io.Writer
}

// Run measures every case of every suite and returns one record per case.
// A case that fails is recorded with its error and the run goes on; Run
// itself fails only when the context ends or a suite cannot list its cases.
func Run(ctx context.Context, cfg Config) ([]Record, error) {
	log := cfg.Log
	if log == nil {
		log = io.Discard
	}
	var all []Record
	for _, s := range cfg.Suites {
		cases, err := s.List(cfg.Quick, cfg.GPUShapes)
		if err != nil {
			return all, fmt.Errorf("suite %s: %w", s.Name, err)
		}
		cases = filterCases(cases, s.Name, cfg.Match)
		recs := make([]Record, len(cases))
		for i, c := range cases {
			recs[i] = runCase(ctx, cfg, s.Name, c)
			if err := ctx.Err(); err != nil {
				return append(all, recs[:i+1]...), fmt.Errorf("suite %s: %w", s.Name, err)
			}
			fmt.Fprintf(log, "%-11s %-40s sargo %s %s ±%s%s\n", s.Name, c.Name, formatRate(recs[i].Sargo), c.Unit,
				formatSpread(recs[i].SargoSpread), errSuffix(recs[i].Error))
		}
		if cfg.Reference != nil && len(cases) > 0 {
			addReference(ctx, cfg.Reference, s.Name, cases, recs, log)
		}
		all = append(all, recs...)
	}
	return all, ctx.Err()
}

// runCase sets up, measures and releases one case.
func runCase(ctx context.Context, cfg Config, suite string, c Case) (rec Record) {
	rec = Record{Suite: suite, Case: c.Name, Unit: c.Unit, Device: cfg.Backend.Describe(), Params: c.Params}
	defer func() {
		if p := recover(); p != nil {
			rec.Error = fmt.Sprintf("panic: %v", p)
		}
	}()
	runtime.GC()
	run, done, err := c.Setup(cfg.Backend)
	if err != nil {
		rec.Error = fmt.Sprintf("setup: %v", err)
		return rec
	}
	defer done()
	st, err := Measure(ctx, cfg.Timing, c.Work, run)
	if err != nil {
		rec.Error = err.Error()
		return rec
	}
	rec.Sargo, rec.SargoSpread, rec.SargoRuns, rec.SargoCPU = st.Median, st.Spread(), st.Runs, st.CPU
	return rec
}

// addReference runs the suite's reference and fills recs from it.
func addReference(ctx context.Context, ref *TorchRunner, suite string, cases []Case, recs []Record, log io.Writer) {
	out, err := ref.Run(ctx, suite, cases)
	if err != nil {
		for i := range recs {
			recs[i].Error = joinErr(recs[i].Error, "reference: "+err.Error())
		}
		fmt.Fprintf(log, "%-11s reference failed: %v\n", suite, err)
		return
	}
	byCase := map[string]TorchResult{}
	for _, r := range out.Results {
		byCase[r.Case] = r
	}
	info := out.Info.String()
	for i := range recs {
		r, ok := byCase[recs[i].Case]
		switch {
		case !ok:
			recs[i].Error = joinErr(recs[i].Error, "reference: no result")
		case r.Error != "":
			recs[i].Error = joinErr(recs[i].Error, "reference: "+r.Error)
			recs[i].ReferenceDevice = info
		default:
			st := Summarise(r.Runs)
			if len(r.CPURuns) == len(r.Runs) {
				st.CPU = Summarise(r.CPURuns).Median
			}
			recs[i].setReference(st, info)
			ratio := "-"
			if recs[i].Ratio != nil {
				ratio = fmt.Sprintf("%.2fx", *recs[i].Ratio)
			}
			fmt.Fprintf(log, "%-11s %-40s torch %s %s ±%s  ratio %s\n", suite, recs[i].Case, formatRate(*recs[i].Reference),
				recs[i].Unit, formatSpread(*recs[i].ReferenceSpread), ratio)
		}
	}
}

// filterCases keeps the cases whose "suite/case" name m matches (all of
// them when m is nil).
func filterCases(cases []Case, suite string, m *regexp.Regexp) []Case {
	if m == nil {
		return cases
	}
	var out []Case
	for _, c := range cases {
		if m.MatchString(suite + "/" + c.Name) {
			out = append(out, c)
		}
	}
	return out
}

func joinErr(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

func errSuffix(e string) string {
	if e == "" {
		return ""
	}
	return "  error: " + e
}
