package bench

import (
	"context"
	"fmt"
	"time"

	"sargo/internal/cputime"
)

// side is one side of a measurement: sargo's case or its reference.
type side interface {
	// warmup runs the untimed runs.
	warmup(n int) error
	// repeat runs one timed repeat and returns its rate and its rate per
	// processor-second (0 when unknown).
	repeat() (rate, cpuRate float64, err error)
}

// localSide runs a case in this process.
type localSide struct {
	ctx     context.Context
	run     func() error
	work    float64
	minTime time.Duration
}

func (s *localSide) warmup(n int) error {
	for i := range n {
		if err := s.ctx.Err(); err != nil {
			return err
		}
		if err := s.run(); err != nil {
			return fmt.Errorf("warm-up run %d: %w", i+1, err)
		}
	}
	return nil
}

// repeat runs the case until minTime has passed (at least once).
func (s *localSide) repeat() (float64, float64, error) {
	iters := 0
	cpu0 := cputime.Process()
	start := time.Now()
	var elapsed time.Duration
	for {
		if err := s.ctx.Err(); err != nil {
			return 0, 0, err
		}
		if err := s.run(); err != nil {
			return 0, 0, err
		}
		iters++
		elapsed = time.Since(start)
		if elapsed >= s.minTime {
			break
		}
	}
	rate := s.work * float64(iters) / elapsed.Seconds()
	var cpuRate float64
	if cpu := cputime.Process() - cpu0; cpu > 0 {
		cpuRate = s.work * float64(iters) / cpu.Seconds()
	}
	return rate, cpuRate, nil
}

// measured are the repeats of both sides of one case, in the order they
// ran: repeat i of the reference ran right after repeat i of sargo.
type measured struct {
	runs, cpuRuns       []float64
	refRuns, refCPURuns []float64
	// refErr says why the reference stopped, when it did; sargo's repeats
	// then go on alone.
	refErr error
}

// Measure times run, which performs work units of work each call (for
// example GFLOP), and returns the rates in units per second.
func Measure(ctx context.Context, t Timing, work float64, run func() error) (Stats, error) {
	m, err := measure(ctx, t, &localSide{ctx: ctx, run: run, work: work, minTime: t.MinTime}, nil)
	if err != nil {
		return Stats{}, err
	}
	return m.stats(), nil
}

// measure runs the warm-ups of a and then of ref (when not nil), then
// timed repeats in turn, a ref a ref …, so that a change of the machine's
// speed during the case reaches both sides alike and each pair of repeats
// gives a ratio. It stops after t.Repeats pairs, or earlier once the
// budget is spent (after two); with t.UntilStable it goes on until the 95%
// interval of the median (of the paired ratios with ref, else of a's
// rates) is within the tolerance, the budget is spent or t.MaxRepeats is
// reached. An error of a ends the measurement; an error of ref is kept in
// refErr and a goes on alone.
func measure(ctx context.Context, t Timing, a, ref side) (measured, error) {
	var m measured
	if err := a.warmup(t.Warmup); err != nil {
		return m, err
	}
	if ref != nil {
		if err := ref.warmup(t.Warmup); err != nil {
			m.refErr, ref = err, nil
		}
	}
	var spent time.Duration
	for r := 0; ; r++ {
		if m.done(t, r, spent, ref != nil) {
			return m, nil
		}
		if err := ctx.Err(); err != nil {
			return m, err
		}
		start := time.Now()
		rate, cpuRate, err := a.repeat()
		if err != nil {
			return m, fmt.Errorf("repeat %d: %w", r+1, err)
		}
		m.runs = append(m.runs, rate)
		m.cpuRuns = append(m.cpuRuns, cpuRate)
		if ref != nil {
			rate, cpuRate, err := ref.repeat()
			if err != nil {
				m.refErr, ref = fmt.Errorf("repeat %d: %w", r+1, err), nil
			} else {
				m.refRuns = append(m.refRuns, rate)
				m.refCPURuns = append(m.refCPURuns, cpuRate)
			}
		}
		spent += time.Since(start)
	}
}

// done reports whether the measurement stops before repeat r.
func (m *measured) done(t Timing, r int, spent time.Duration, paired bool) bool {
	least := max(t.Repeats, 1)
	overBudget := t.Budget > 0 && r >= 2 && spent > t.Budget
	if !t.UntilStable {
		return r >= least || overBudget
	}
	if r >= t.maxRepeats() || overBudget {
		return true
	}
	if r < max(least, MinIntervalRepeats) {
		return false
	}
	var xs []float64
	if paired {
		xs = pairRatios(m.runs, m.refRuns)
	} else {
		xs = m.runs
	}
	st := Summarise(xs)
	return WithinTolerance(st.Median, st.Lo, st.Hi, t.tolerance())
}

// stats summarises sargo's repeats.
func (m measured) stats() Stats {
	st := Summarise(m.runs)
	if cpu := positive(m.cpuRuns); len(cpu) == len(m.runs) {
		st.CPU = Summarise(cpu).Median
	}
	return st
}

// refStats summarises the reference's repeats.
func (m measured) refStats() Stats {
	st := Summarise(m.refRuns)
	if cpu := positive(m.refCPURuns); len(cpu) == len(m.refRuns) {
		st.CPU = Summarise(cpu).Median
	}
	return st
}

// pairRatios is a[i]/b[i] for each pair with both rates positive.
func pairRatios(a, b []float64) []float64 {
	var out []float64
	for i := range min(len(a), len(b)) {
		if a[i] > 0 && b[i] > 0 {
			out = append(out, a[i]/b[i])
		}
	}
	return out
}

// positive keeps the positive values of xs.
func positive(xs []float64) []float64 {
	var out []float64
	for _, x := range xs {
		if x > 0 {
			out = append(out, x)
		}
	}
	return out
}
