package autograd

import (
	"testing"

	"sargo/tensor"
)

func TestConv2d(t *testing.T) {
	cases := []struct {
		n, cin, h, w, cout, kh, kw, stride, pad int
		bias                                    bool
	}{
		{1, 1, 1, 1, 1, 1, 1, 1, 0, true},
		{1, 3, 7, 5, 2, 3, 3, 1, 1, true},
		{2, 2, 7, 7, 3, 3, 3, 2, 1, false},
		{1, 3, 5, 7, 2, 1, 3, 2, 0, true},
	}
	for ci, c := range cases {
		t.Run("", func(t *testing.T) {
			x := randTensor(uint64(ci), -1, 1, c.n, c.cin, c.h, c.w)
			w := randTensor(uint64(ci)+10, -1, 1, c.cout, c.cin, c.kh, c.kw)
			b := randTensor(uint64(ci)+20, -1, 1, c.cout)
			xv, wv, bv := read64(t, x), read64(t, w), read64(t, b)
			ho := (c.h+2*c.pad-c.kh)/c.stride + 1
			wo := (c.w+2*c.pad-c.kw)/c.stride + 1
			want := make([]float64, c.n*c.cout*ho*wo)
			for n := range c.n {
				for o := range c.cout {
					for i := range ho {
						for j := range wo {
							s := 0.0
							if c.bias {
								s = bv[o]
							}
							for ch := range c.cin {
								for u := range c.kh {
									for v := range c.kw {
										y, x := i*c.stride-c.pad+u, j*c.stride-c.pad+v
										if y < 0 || y >= c.h || x < 0 || x >= c.w {
											continue
										}
										s += xv[((n*c.cin+ch)*c.h+y)*c.w+x] * wv[((o*c.cin+ch)*c.kh+u)*c.kw+v]
									}
								}
							}
							want[((n*c.cout+o)*ho+i)*wo+j] = s
						}
					}
				}
			}
			inputs := []*tensor.Tensor{x, w}
			var bc *Var
			if c.bias {
				inputs = append(inputs, b)
				bc = Const(b)
			}
			requireClose(t, want, []int{c.n, c.cout, ho, wo}, NoGrad().Conv2d(Const(x), Const(w), bc, c.stride, c.pad).Value, 1e-5, 1e-5)
			checkGrad(t, func(g *Graph, v []*Var) *Var {
				var bias *Var
				if len(v) == 3 {
					bias = v[2]
				}
				return g.Conv2d(v[0], v[1], bias, c.stride, c.pad)
			}, inputs...)
		})
	}
}
