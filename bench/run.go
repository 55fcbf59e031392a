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
// With a reference, each suite's script runs beside sargo and the repeats
// of each case alternate between them (measure). A case that fails is
// recorded with its error and the run goes on; Run itself fails only when
// the context ends or a suite cannot list its cases.
func Run(ctx context.Context, cfg Config) ([]Record, error) {
	log := cfg.Log
	if log == nil {
		log = io.Discard
	}
	var all []Record
	var peak *gemmPeak
	for _, s := range cfg.Suites {
		cases, err := s.List(cfg.Quick, cfg.GPUShapes)
		if err != nil {
			return all, fmt.Errorf("suite %s: %w", s.Name, err)
		}
		cases = filterCases(cases, s.Name, cfg.Match)
		if peak == nil && countsFLOPs(cases) {
			peak = measureGemmPeak(ctx, cfg)
			msg := ""
			if peak.err != nil {
				msg = peak.err.Error()
			}
			fmt.Fprintf(log, "%-11s %-40s sargo %s GFLOP/s (the GEMM peak of model FLOP utilisation)%s\n", "gemm peak",
				peak.name, formatRate(peak.rate), errSuffix(msg))
		}
		ref := &refProcess{runner: cfg.Reference, suite: s.Name, log: log}
		for _, c := range cases {
			rec := runCase(ctx, cfg, s.Name, c, ref)
			if c.ModelGFLOP > 0 && peak != nil {
				rec.setMFU(c.ModelGFLOP, c.Work, peak)
			}
			all = append(all, rec)
			logRecord(log, rec)
			if err := ctx.Err(); err != nil {
				ref.close()
				return all, fmt.Errorf("suite %s: %w", s.Name, err)
			}
		}
		ref.close()
	}
	return all, ctx.Err()
}

// refProcess is the reference script of one suite, started at its first
// case and again after a case that ended it (a crash of one case does not
// lose the others).
type refProcess struct {
	runner *TorchRunner
	suite  string
	log    io.Writer
	sess   *TorchSession
}

// session returns the running script, starting it when needed.
func (p *refProcess) session(ctx context.Context) (*TorchSession, error) {
	if p.sess != nil && p.sess.Alive() {
		return p.sess, nil
	}
	p.close()
	sess, err := p.runner.Start(ctx, p.suite)
	if err != nil {
		return nil, err
	}
	p.sess = sess
	return sess, nil
}

// close ends the script, if one runs.
func (p *refProcess) close() {
	if p.sess == nil {
		return
	}
	if err := p.sess.Close(); err != nil {
		fmt.Fprintf(p.log, "%-11s %v\n", p.suite, err)
	}
	p.sess = nil
}

// runCase sets up, measures and releases one case, with its reference
// when ref has a runner.
func runCase(ctx context.Context, cfg Config, suite string, c Case, ref *refProcess) (rec Record) {
	rec = Record{Suite: suite, Case: c.Name, Unit: c.Unit, Device: cfg.Backend.Describe(), Params: c.Params}
	defer func() {
		if p := recover(); p != nil {
			rec.Error = joinErr(rec.Error, fmt.Sprintf("panic: %v", p))
		}
	}()
	runtime.GC()
	s := tensor.NewScope(cfg.Backend) // what the case sets up
	defer s.Close()
	base := cfg.Backend.MemStats().LiveBytes
	run, done, err := c.Setup(cfg.Backend)
	if err != nil {
		rec.Error = fmt.Sprintf("setup: %v", err)
		return rec
	}
	defer done()
	var refSide side
	var info string
	if ref != nil && ref.runner != nil {
		sess, err := ref.session(ctx)
		if err != nil {
			rec.Error = "reference: " + err.Error()
		} else {
			info = sess.Info.String()
			rec.ReferenceDevice = info
			rc := &refCase{sess: sess, c: c}
			refSide = rc
			defer func() {
				if rc.set {
					pb, err := sess.Release()
					if err != nil {
						rec.Error = joinErr(rec.Error, "reference: "+err.Error())
					} else if pb > 0 {
						rec.ReferencePeakBytes = &pb
					}
				}
			}()
		}
	}
	peak := c.PeakMemory && resetPeakRSS()
	local := &localSide{ctx: ctx, run: run, work: c.Work, minTime: cfg.Timing.MinTime}
	m, err := measure(ctx, cfg.Timing, local, refSide)
	if err != nil {
		rec.Error = joinErr(rec.Error, err.Error())
	}
	if len(m.runs) > 0 {
		rec.setSargo(m.stats())
	}
	if peak {
		rec.SargoPeakBytes = peakRSS()
	}
	if m.refErr != nil {
		rec.Error = joinErr(rec.Error, "reference: "+m.refErr.Error())
	}
	if len(m.refRuns) > 0 {
		rec.setReference(m, info)
	}
	rec.setStable(cfg.Timing.tolerance())
	if c.Memory && len(m.runs) > 0 {
		var err error
		if rec.Memory, err = measureMemory(cfg.Backend, run, base, c.StateBytes); err != nil {
			rec.Error = joinErr(rec.Error, err.Error())
		}
	}
	return rec
}

// refCase is a case on the reference side: its warm-up is the script's
// setup, which runs the warm-ups there.
type refCase struct {
	sess *TorchSession
	c    Case
	set  bool
}

func (r *refCase) warmup(int) error {
	if err := r.sess.Setup(r.c); err != nil {
		return err
	}
	r.set = true
	return nil
}

func (r *refCase) repeat() (float64, float64, error) { return r.sess.repeat() }

// logRecord prints one progress line for rec.
func logRecord(log io.Writer, r Record) {
	line := fmt.Sprintf("%-11s %-40s sargo %s %s ±%s", r.Suite, r.Case, formatRate(r.Sargo), r.Unit, formatSpread(r.SargoSpread))
	if r.Reference != nil {
		line += fmt.Sprintf("  torch %s ±%s", formatRate(*r.Reference), formatSpread(*r.ReferenceSpread))
	}
	if r.Ratio != nil {
		line += fmt.Sprintf("  ratio %s %s (%d pairs)", formatRatio(*r.Ratio), formatInterval(r.RatioInterval), len(r.PairRatios))
	}
	if r.MFU > 0 {
		line += fmt.Sprintf("  MFU %.0f%%", 100*r.MFU)
	}
	fmt.Fprintln(log, line+errSuffix(r.Error))
	if m := r.Memory; m != nil {
		fmt.Fprintf(log, "%-11s %-40s memory: %s\n", "", "", m)
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
