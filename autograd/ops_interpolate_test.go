package autograd

import (
	"math"
	"testing"

	"sargo/tensor"
)

// refInterpAxis returns, for each output position along an axis of length
// in resized to out, the source indices and weights of PyTorch's
// F.interpolate with align_corners=False.
func refInterpAxis(mode tensor.InterpMode, in, out int) [][]struct {
	i int
	w float64
} {
	type tap = struct {
		i int
		w float64
	}
	scale := float64(in) / float64(out)
	clampIdx := func(i int) int { return min(max(i, 0), in-1) }
	res := make([][]tap, out)
	for o := range out {
		switch mode {
		case tensor.InterpNearest:
			res[o] = []tap{{min(int(math.Floor(float64(o)*scale)), in-1), 1}}
		case tensor.InterpBilinear:
			src := math.Max((float64(o)+0.5)*scale-0.5, 0)
			i0 := min(int(src), in-1)
			i1 := min(i0+1, in-1)
			l := src - float64(i0)
			res[o] = []tap{{i0, 1 - l}, {i1, l}}
		case tensor.InterpBicubic:
			src := (float64(o)+0.5)*scale - 0.5
			i0 := int(math.Floor(src))
			tt := src - float64(i0)
			const a = -0.75
			c1 := func(x float64) float64 { return ((a+2)*x-(a+3))*x*x + 1 }
			c2 := func(x float64) float64 { return ((a*x-5*a)*x+8*a)*x - 4*a }
			ws := []float64{c2(tt + 1), c1(tt), c1(1 - tt), c2(2 - tt)}
			for k, w := range ws {
				res[o] = append(res[o], tap{clampIdx(i0 - 1 + k), w})
			}
		case tensor.InterpArea:
			s := int(math.Floor(float64(o*in) / float64(out)))
			e := int(math.Ceil(float64((o+1)*in) / float64(out)))
			for i := s; i < e; i++ {
				res[o] = append(res[o], tap{i, 1 / float64(e-s)})
			}
		}
	}
	return res
}

func TestInterpolate(t *testing.T) {
	modes := []tensor.InterpMode{tensor.InterpNearest, tensor.InterpBilinear, tensor.InterpBicubic, tensor.InterpArea}
	sizes := []struct{ h, w, oh, ow int }{
		{1, 1, 3, 1},
		{3, 7, 7, 3},
		{7, 3, 13, 7},
		{13, 7, 3, 3},
		{4, 4, 4, 4},
	}
	for _, mode := range modes {
		for si, s := range sizes {
			t.Run(mode.String(), func(t *testing.T) {
				shape := []int{2, 1, s.h, s.w}
				x := randTensor(uint64(si), -1, 1, shape...)
				xv := read64(t, x)
				rows, cols := refInterpAxis(mode, s.h, s.oh), refInterpAxis(mode, s.w, s.ow)
				want := make([]float64, 2*s.oh*s.ow)
				for p := range 2 {
					for i := range s.oh {
						for j := range s.ow {
							v := 0.0
							for _, r := range rows[i] {
								for _, c := range cols[j] {
									v += r.w * c.w * xv[(p*s.h+r.i)*s.w+c.i]
								}
							}
							want[(p*s.oh+i)*s.ow+j] = v
						}
					}
				}
				requireClose(t, want, []int{2, 1, s.oh, s.ow}, NoGrad().Interpolate(Const(x), s.oh, s.ow, mode).Value, 1e-5, 1e-5)
				checkGrad(t, func(g *Graph, v []*Var) *Var { return g.Interpolate(v[0], s.oh, s.ow, mode) }, x)
			})
		}
	}
}
