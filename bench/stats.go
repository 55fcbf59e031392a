package bench

import (
	"math"
	"slices"
	"time"
)

// Stats summarises the rates of the timed repeats of one case.
type Stats struct {
	// Median, Min and Max are rates in the case's unit.
	Median, Min, Max float64
	// Lo and Hi bound the median with 95% confidence (MedianInterval);
	// both are 0 when there are too few repeats for such an interval.
	Lo, Hi float64
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

// Summarise computes the median, minimum and maximum of runs and the 95%
// interval of the median.
func Summarise(runs []float64) Stats {
	if len(runs) == 0 {
		return Stats{}
	}
	s := slices.Clone(runs)
	slices.Sort(s)
	st := Stats{Median: median(s), Min: s[0], Max: s[len(s)-1], Runs: slices.Clone(runs)}
	if lo, hi, ok := MedianInterval(runs, Confidence); ok {
		st.Lo, st.Hi = lo, hi
	}
	return st
}

// median is the median of sorted values.
func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// Confidence is the coverage of the intervals that bench reports.
const Confidence = 0.95

// MinIntervalRepeats is the fewest repeats from which MedianInterval gives
// a 95% interval: with 5, even the whole range [min, max] covers the median
// only with probability 1 − 2/2⁵ = 93.75%.
const MinIntervalRepeats = 6

// MedianInterval is the exact, distribution-free confidence interval of the
// median of the population that xs were drawn from (independently): the
// order statistics [x₍k₎, x₍n+1−k₎] of the sorted values, with k the
// largest rank for which P(Binomial(n, ½) < k) ≤ (1−level)/2. Each tail
// then misses the median with probability at most (1−level)/2, so the
// interval covers it with probability at least level. ok is false when even
// [min, max] does not reach that coverage (fewer than 6 values at 95%).
func MedianInterval(xs []float64, level float64) (lo, hi float64, ok bool) {
	n := len(xs)
	if n == 0 || !(level > 0 && level < 1) {
		return 0, 0, false
	}
	k := medianRank(n, level)
	if k < 1 {
		return 0, 0, false
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[k-1], s[n-k], true
}

// medianRank is the largest k (1-based) with P(Binomial(n, ½) ≤ k−1) ≤
// (1−level)/2, or 0 when there is none.
func medianRank(n int, level float64) int {
	alpha := (1 - level) / 2
	k, cdf := 0, 0.0
	for j := 0; j <= n/2; j++ {
		cdf += binomHalf(n, j) // P(X ≤ j)
		if cdf > alpha {
			break
		}
		k = j + 1
	}
	return k
}

// binomHalf is P(X = j) for X ~ Binomial(n, ½), from log-gamma so that it
// neither overflows nor underflows for the repeat counts bench runs.
func binomHalf(n, j int) float64 {
	lg := func(x int) float64 { v, _ := math.Lgamma(float64(x) + 1); return v }
	return math.Exp(lg(n) - lg(j) - lg(n-j) - float64(n)*math.Ln2)
}

// WithinTolerance reports whether the interval [lo, hi] lies within
// ±tol of med (0.1: both ends within 10% of the median).
func WithinTolerance(med, lo, hi, tol float64) bool {
	return med > 0 && lo > 0 && lo >= med*(1-tol) && hi <= med*(1+tol)
}

// Timing says how a case is measured.
type Timing struct {
	// Warmup is the number of untimed runs before measuring.
	Warmup int
	// Repeats is the number of timed repeats whose median is reported
	// (with a reference: the number of pairs). With UntilStable it is the
	// least number.
	Repeats int
	// MinTime is the least duration of one repeat: a repeat runs the case
	// again until this much time has passed (at least once).
	MinTime time.Duration
	// Budget, when positive, ends the repeats early once the timed repeats
	// (of both sides, with a reference) together took longer than it, after
	// at least two: slow cases such as a training step then take two
	// repeats. With UntilStable it is the time allowed to reach stability.
	Budget time.Duration
	// UntilStable keeps repeating, past Repeats, until the 95% interval
	// of the reported median (the median paired ratio with a reference,
	// else the median rate) lies within ±Tolerance of it, the Budget is
	// spent or MaxRepeats is reached.
	UntilStable bool
	// Tolerance is the relative half-width that counts as stable (0.1
	// when 0).
	Tolerance float64
	// MaxRepeats bounds the repeats of UntilStable (200 when 0).
	MaxRepeats int
}

// tolerance is t.Tolerance or its default.
func (t Timing) tolerance() float64 {
	if t.Tolerance > 0 {
		return t.Tolerance
	}
	return 0.1
}

// maxRepeats is t.MaxRepeats or its default.
func (t Timing) maxRepeats() int {
	if t.MaxRepeats > 0 {
		return t.MaxRepeats
	}
	return 200
}
