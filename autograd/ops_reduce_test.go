package autograd

import (
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// refReduce folds x over axes (all when none) into the kept shape with
// f(acc, v) from init; it returns the values and the output shape
// (squeezed unless keep).
func refReduce(x []float64, shape []int, keep bool, axes []int, init float64, f func(acc, v float64) float64) ([]float64, []int) {
	ax := normAxes("ref", len(shape), axes)
	ks := keptShape(shape, ax)
	out := make([]float64, numel(ks))
	for i := range out {
		out[i] = init
	}
	for i, v := range x {
		idx := unravel(i, shape)
		for _, a := range ax {
			idx[a] = 0
		}
		o := ravel(idx, ks)
		out[o] = f(out[o], v)
	}
	if keep {
		return out, ks
	}
	var sq []int
	for i, s := range shape {
		if !slices.Contains(ax, i) {
			sq = append(sq, s)
		}
	}
	return out, sq
}

func TestReductions(t *testing.T) {
	cases := []struct {
		shape []int
		keep  bool
		axes  []int
	}{
		{[]int{7}, false, nil},
		{[]int{1}, true, nil},
		{[]int{3, 7}, false, []int{1}},
		{[]int{3, 7}, true, []int{0}},
		{[]int{3, 7, 13}, false, []int{0, 2}},
		{[]int{3, 7, 13}, true, []int{-1}},
		{[]int{13, 1, 3}, false, nil},
	}
	for ci, c := range cases {
		xv := randVals(uint64(ci), numel(c.shape), -2, 2)
		x := tens(xv, c.shape...)
		n := float64(len(xv))
		if len(c.axes) > 0 {
			n = float64(reducedCount(c.shape, normAxes("t", len(c.shape), c.axes)))
		}
		sum, shape := refReduce(xv, c.shape, c.keep, c.axes, 0, func(a, v float64) float64 { return a + v })
		mean := make([]float64, len(sum))
		for i := range sum {
			mean[i] = sum[i] / n
		}
		t.Run("Sum", func(t *testing.T) {
			requireClose(t, sum, shape, NoGrad().Sum(Const(x), c.keep, c.axes...).Value, 1e-5, 1e-5)
			checkGrad(t, func(g *Graph, xs []*Var) *Var { return g.Sum(xs[0], c.keep, c.axes...) }, x)
		})
		t.Run("Mean", func(t *testing.T) {
			requireClose(t, mean, shape, NoGrad().Mean(Const(x), c.keep, c.axes...).Value, 1e-5, 1e-5)
			checkGrad(t, func(g *Graph, xs []*Var) *Var { return g.Mean(xs[0], c.keep, c.axes...) }, x)
		})
		for _, unbiased := range []bool{false, true} {
			if unbiased && n < 2 {
				continue
			}
			t.Run("Variance", func(t *testing.T) {
				// Squared deviations from the per-output mean.
				ax := normAxes("t", len(c.shape), c.axes)
				ks := keptShape(c.shape, ax)
				vr := make([]float64, len(mean))
				for i, v := range xv {
					idx := unravel(i, c.shape)
					for _, a := range ax {
						idx[a] = 0
					}
					o := ravel(idx, ks)
					vr[o] += (v - mean[o]) * (v - mean[o])
				}
				d := n
				if unbiased {
					d = n - 1
				}
				for i := range vr {
					vr[i] /= d
				}
				requireClose(t, vr, shape, NoGrad().Variance(Const(x), c.keep, unbiased, c.axes...).Value, 1e-5, 1e-4)
				checkGrad(t, func(g *Graph, xs []*Var) *Var { return g.Variance(xs[0], c.keep, unbiased, c.axes...) }, x)
			})
		}
	}
}

func TestMax(t *testing.T) {
	cases := []struct {
		shape []int
		axis  int
		keep  bool
	}{
		{[]int{7}, 0, false},
		{[]int{1}, 0, true},
		{[]int{3, 13}, 1, false},
		{[]int{7, 3}, 0, true},
		{[]int{3, 7, 13}, -2, false},
	}
	for ci, c := range cases {
		t.Run("", func(t *testing.T) {
			// A permutation of distinct values keeps ties away (distance 0.1 > h).
			n := numel(c.shape)
			xv := make([]float64, n)
			for i, p := range randPerm(uint64(ci), n) {
				xv[i] = 0.1 * float64(p-n/2)
			}
			want, shape := refReduce(xv, c.shape, c.keep, []int{c.axis}, math.Inf(-1), math.Max)
			x := tens(xv, c.shape...)
			requireClose(t, want, shape, NoGrad().Max(Const(x), c.axis, c.keep).Value, 1e-6, 0)
			checkGrad(t, func(g *Graph, xs []*Var) *Var { return g.Max(xs[0], c.axis, c.keep) }, x)
		})
	}
}

// randPerm is a permutation of [0, n) drawn from seed.
func randPerm(seed uint64, n int) []int {
	v := randVals(seed, n, 0, 1)
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	slices.SortFunc(p, func(a, b int) int {
		switch {
		case v[a] < v[b]:
			return -1
		case v[a] > v[b]:
			return 1
		}
		return 0
	})
	return p
}

func TestMaxTiesGoToFirst(t *testing.T) {
	x := Param(tens([]float64{1, 3, 3, 2, 5, 5}, 2, 3))
	g := newGraph(t)
	require.NoError(t, g.Backward(g.Sum(g.Max(x, 1, false), false)))
	require.Equal(t, []float32{0, 1, 0, 0, 1, 0}, x.Grad.Data())
}
