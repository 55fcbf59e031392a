package reproduce

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// Summary is the mean and sample standard deviation of a few values.
type Summary struct {
	Mean float64 `json:"mean"`
	SD   float64 `json:"sd"`
	N    int     `json:"n"`
}

// Summarize returns the mean and the sample standard deviation (n − 1 in
// the denominator; 0 for one value) of v.
func Summarize(v []float64) Summary {
	s := Summary{N: len(v), Mean: math.NaN()}
	if len(v) == 0 {
		return s
	}
	sum := 0.0
	for _, x := range v {
		sum += x
	}
	s.Mean = sum / float64(len(v))
	if len(v) > 1 {
		ss := 0.0
		for _, x := range v {
			ss += (x - s.Mean) * (x - s.Mean)
		}
		s.SD = math.Sqrt(ss / float64(len(v)-1))
	}
	return s
}

// String writes "mean ± sd".
func (s Summary) String() string { return fmt.Sprintf("%.4g ± %.2g", s.Mean, s.SD) }

// Welch is Welch's unequal-variance t-test of mean(A) − mean(B).
type Welch struct {
	A Summary `json:"a"`
	B Summary `json:"b"`
	// T is the statistic, DF the Welch–Satterthwaite degrees of freedom
	// and P the two-sided p-value.
	T  float64 `json:"t"`
	DF float64 `json:"df"`
	P  float64 `json:"p"`
}

// WelchTest compares the means of a and b (at least two values each).
// When both samples are constant the difference is either exactly 0
// (P = 1) or certain (P = 0), and T is left at 0.
func WelchTest(a, b []float64) (Welch, error) {
	if len(a) < 2 || len(b) < 2 {
		return Welch{}, fmt.Errorf("welch test: %d and %d values: want at least 2 in each sample", len(a), len(b))
	}
	w := Welch{A: Summarize(a), B: Summarize(b)}
	va, vb := w.A.SD*w.A.SD/float64(w.A.N), w.B.SD*w.B.SD/float64(w.B.N)
	se2 := va + vb
	d := w.A.Mean - w.B.Mean
	if se2 == 0 {
		w.DF = float64(w.A.N + w.B.N - 2)
		if d == 0 {
			w.P = 1
		}
		return w, nil
	}
	w.T = d / math.Sqrt(se2)
	w.DF = se2 * se2 / (va*va/float64(w.A.N-1) + vb*vb/float64(w.B.N-1))
	w.P = 2 * distuv.StudentsT{Mu: 0, Sigma: 1, Nu: w.DF}.CDF(-math.Abs(w.T))
	return w, nil
}
