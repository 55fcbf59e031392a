package autograd

import (
	"math"
	"testing"

	"sargo/tensor"
)

// refAttention computes softmax(scale·q·kᵀ + mask)·v per [B·H] slice in
// float64; visible(i, j) and bias(i, j) describe the mask. A query that
// sees no key gives zeros.
func refAttention(q, k, v []float64, bh, lq, lk, d int, scale float64, visible func(i, j int) bool, bias func(i, j int) float64) []float64 {
	out := make([]float64, bh*lq*d)
	for s := range bh {
		for i := range lq {
			scores := make([]float64, lk)
			m := math.Inf(-1)
			for j := range lk {
				if !visible(i, j) {
					scores[j] = math.Inf(-1)
					continue
				}
				dot := 0.0
				for c := range d {
					dot += q[(s*lq+i)*d+c] * k[(s*lk+j)*d+c]
				}
				scores[j] = scale*dot + bias(i, j)
				m = math.Max(m, scores[j])
			}
			if math.IsInf(m, -1) {
				continue
			}
			z := 0.0
			for j := range scores {
				scores[j] = math.Exp(scores[j] - m)
				z += scores[j]
			}
			for j := range lk {
				for c := range d {
					out[(s*lq+i)*d+c] += scores[j] / z * v[(s*lk+j)*d+c]
				}
			}
		}
	}
	return out
}

func TestAttention(t *testing.T) {
	all := func(i, j int) bool { return true }
	zero := func(i, j int) float64 { return 0 }
	cases := []struct {
		name           string
		b, h, lq, lk   int
		d              int
		scaleQ, scaleK []float64 // MaskScale ids
		additive       bool
	}{
		{name: "none", b: 1, h: 1, lq: 1, lk: 1, d: 1},
		{name: "none", b: 2, h: 3, lq: 7, lk: 5, d: 4},
		{name: "additive", b: 1, h: 2, lq: 3, lk: 7, d: 3, additive: true},
		{name: "scale", b: 2, h: 1, lq: 5, lk: 5, d: 3, scaleQ: []float64{0, 1, 1, 2, 2}, scaleK: []float64{0, 1, 1, 2, 2}},
		// The first query sees no key (its scale is below every key's).
		{name: "scale-empty", b: 1, h: 2, lq: 3, lk: 4, d: 2, scaleQ: []float64{0, 1, 2}, scaleK: []float64{1, 1, 2, 2}},
	}
	for ci, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			scale := 1 / math.Sqrt(float64(c.d))
			q := randTensor(uint64(ci), -1, 1, c.b, c.h, c.lq, c.d)
			k := randTensor(uint64(ci)+10, -1, 1, c.b, c.h, c.lk, c.d)
			v := randTensor(uint64(ci)+20, -1, 1, c.b, c.h, c.lk, c.d)
			visible, bias := all, zero
			var mask tensor.AttentionMask
			switch {
			case c.additive:
				mv := randVals(uint64(ci)+30, c.lq*c.lk, -2, 2)
				mask = tensor.AttentionMask{Kind: tensor.MaskAdditive, Values: tens(mv, c.lq, c.lk)}
				bias = func(i, j int) float64 { return mv[i*c.lk+j] }
			case c.scaleQ != nil:
				mask = tensor.AttentionMask{Kind: tensor.MaskScale, ScaleQ: tens(c.scaleQ, c.lq), ScaleK: tens(c.scaleK, c.lk)}
				visible = func(i, j int) bool { return c.scaleK[j] <= c.scaleQ[i] }
			}
			want := refAttention(read64(t, q), read64(t, k), read64(t, v), c.b*c.h, c.lq, c.lk, c.d, scale, visible, bias)
			got := NoGrad().Attention(Const(q), Const(k), Const(v), float32(scale), mask).Value
			requireClose(t, want, []int{c.b, c.h, c.lq, c.d}, got, 1e-5, 1e-4)
			checkGrad(t, func(g *Graph, x []*Var) *Var {
				return g.Attention(x[0], x[1], x[2], float32(scale), mask)
			}, q, k, v)
		})
	}
}
