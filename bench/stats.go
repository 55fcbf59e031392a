package bench

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Stats summarises the rates of the timed repeats of one case.
type Stats struct {
	// Median, Min and Max are rates in the case's unit.
	Median, Min, Max float64
	// Runs holds the rate of each repeat in order.
	Runs []float64
	// CPU is the median rate per processor-second (user + system time of
	// the whole process, all threads), or 0 when unknown. On a shared
	// machine it depends less on how much processor time the process got.
	CPU float64
}

// Spread is the range of the repeats relative to the median, (max-min)/median;
// 0.05 means the repeats lie within 5% of each other.
func (s Stats) Spread() float64 {
	if s.Median == 0 {
		return 0
	}
	return (s.Max - s.Min) / s.Median
}

// Summarise computes the median, minimum and maximum of runs.
func Summarise(runs []float64) Stats {
	if len(runs) == 0 {
		return Stats{}
	}
	s := slices.Clone(runs)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return Stats{Median: med, Min: s[0], Max: s[len(s)-1], Runs: slices.Clone(runs)}
}

// Timing says how a case is measured.
type Timing struct {
	// Warmup is the number of untimed runs before measuring.
	Warmup int
	// Repeats is the number of timed repeats whose median is reported.
	Repeats int
	// MinTime is the least duration of one repeat: a repeat runs the case
	// again until this much time has passed (at least once).
	MinTime time.Duration
	// Budget, when positive, ends the repeats early once the timed repeats
	// together took longer than it, after at least two (or Repeats, if
	// fewer): slow cases such as a training step then take two repeats.
	Budget time.Duration
}

// Measure times run, which performs work units of work each call (for
// example GFLOP), and returns the rates in units per second.
func Measure(ctx context.Context, t Timing, work float64, run func() error) (Stats, error) {
	for i := range t.Warmup {
		if err := ctx.Err(); err != nil {
			return Stats{}, err
		}
		if err := run(); err != nil {
			return Stats{}, fmt.Errorf("warm-up run %d: %w", i+1, err)
		}
	}
	repeats := max(t.Repeats, 1)
	runs := make([]float64, 0, repeats)
	var cpuRuns []float64
	var spent time.Duration
	for r := range repeats {
		if t.Budget > 0 && r >= 2 && spent > t.Budget {
			break
		}
		iters := 0
		cpu0 := processCPUTime()
		start := time.Now()
		var elapsed time.Duration
		for {
			if err := ctx.Err(); err != nil {
				return Stats{}, err
			}
			if err := run(); err != nil {
				return Stats{}, fmt.Errorf("repeat %d: %w", r+1, err)
			}
			iters++
			elapsed = time.Since(start)
			if elapsed >= t.MinTime {
				break
			}
		}
		spent += elapsed
		runs = append(runs, work*float64(iters)/elapsed.Seconds())
		if cpu := processCPUTime() - cpu0; cpu > 0 {
			cpuRuns = append(cpuRuns, work*float64(iters)/cpu.Seconds())
		}
	}
	st := Summarise(runs)
	if len(cpuRuns) == len(runs) {
		st.CPU = Summarise(cpuRuns).Median
	}
	return st, nil
}
