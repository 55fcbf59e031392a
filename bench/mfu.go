package bench

import (
	"context"
	"fmt"
)

// gemmPeak is the best rate of sargo's GEMM over a few products, measured
// in the same invocation as the cases whose model FLOP utilisation it
// divides.
type gemmPeak struct {
	rate float64 // GFLOP/s
	name string  // the product that reached it
	err  error
}

// peakProducts are the products whose best median rate is the GEMM peak:
// a square product and the bench model's forward products.
var peakProducts = map[bool][]string{
	false: {"square 2048x2048x2048 NN", "qkv 5440x1152x384 NT", "fc1 5440x1536x384 NT", "head 5440x4096x384 NT"},
	true:  {"square 128x128x128 NN", "fc1 28x128x32 NT"},
}

// countsFLOPs reports whether a case of cases asks for its model FLOP
// utilisation.
func countsFLOPs(cases []Case) bool {
	for _, c := range cases {
		if c.ModelGFLOP > 0 {
			return true
		}
	}
	return false
}

// measureGemmPeak times the peak products with cfg's timing (without
// repeating until stable) and keeps the best median.
func measureGemmPeak(ctx context.Context, cfg Config) *gemmPeak {
	cases, err := matmulCases(cfg.Quick)
	if err != nil {
		return &gemmPeak{err: err}
	}
	want := map[string]bool{}
	for _, n := range peakProducts[cfg.Quick] {
		want[n] = true
	}
	t := cfg.Timing
	t.UntilStable = false
	best := &gemmPeak{}
	for _, c := range cases {
		if !want[c.Name] {
			continue
		}
		run, done, err := c.Setup(cfg.Backend)
		if err != nil {
			best.err = fmt.Errorf("gemm peak %s: %w", c.Name, err)
			continue
		}
		st, err := Measure(ctx, t, c.Work, run)
		done()
		if err != nil {
			best.err = fmt.Errorf("gemm peak %s: %w", c.Name, err)
			continue
		}
		if st.Median > best.rate {
			best.rate, best.name = st.Median, c.Name
		}
	}
	if best.rate > 0 {
		best.err = nil
	}
	return best
}

// setMFU fills the model FLOP utilisation of a case doing gflop of model
// arithmetic per work units of its rate.
func (r *Record) setMFU(gflop, work float64, peak *gemmPeak) {
	r.ModelGFLOP = gflop
	if peak.rate <= 0 || r.Sargo <= 0 || work <= 0 {
		return
	}
	r.GemmPeak, r.GemmPeakCase = peak.rate, peak.name
	r.MFU = r.Sargo / work * gflop / peak.rate
}
