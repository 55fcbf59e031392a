package check

import (
	"fmt"

	"sargo/tensor"
)

// Convolution cases: stride 1 and 2, padding 0 and 1, odd and even and 1×1
// kernels, long batch-times-space axes and many output channels, with and
// without bias, forward and the three gradients. The
// forward is checked against a direct float64 convolution, the input and
// weight gradients as adjoints of the forward, and the bias gradient as the
// sum of the output gradient.

// convShape is the size of one convolution case.
type convShape struct {
	n, cin, h, w, cout, k, stride, pad int
}

func (s convShape) String() string {
	return fmt.Sprintf("n=%d,cin=%d,%dx%d,cout=%d,k=%d,stride=%d,pad=%d", s.n, s.cin, s.h, s.w, s.cout, s.k, s.stride, s.pad)
}

func convCases() []testCase {
	shapes := []convShape{
		{1, 1, 1, 1, 1, 1, 1, 0},
		{2, 3, 7, 7, 5, 3, 1, 1},
		{1, 4, 13, 13, 8, 3, 2, 1},
		{2, 3, 8, 8, 4, 3, 2, 0},
		{1, 2, 5, 7, 3, 1, 1, 0},
		{1, 3, 9, 9, 4, 4, 2, 1},
		{1, 5, 6, 5, 2, 3, 1, 0},
		// a long weight-gradient K (N·Hout·Wout), which GPUs split, at
		// stride 1 and 2, and more output channels than one tile holds
		{2, 3, 20, 20, 5, 3, 1, 1},
		{4, 2, 24, 24, 6, 3, 2, 1},
		{1, 8, 10, 10, 70, 3, 1, 1},
	}
	var cs []testCase
	for _, s := range shapes {
		for _, bias := range []bool{true, false} {
			name := fmt.Sprintf("%v,bias=%v", s, bias)
			cs = append(cs, testCase{name, func(c *ctx) { convCase(c, s, bias) }})
		}
	}
	return cs
}

// conv64 is the direct float64 convolution (without bias) on the host.
func conv64(s convShape, x, w []float64, hout, wout int) []float64 {
	y := make([]float64, s.n*s.cout*hout*wout)
	for n := range s.n {
		for o := range s.cout {
			for i := range hout {
				for j := range wout {
					var acc float64
					for ci := range s.cin {
						for a := range s.k {
							for b := range s.k {
								hi, wi := i*s.stride-s.pad+a, j*s.stride-s.pad+b
								if hi < 0 || hi >= s.h || wi < 0 || wi >= s.w {
									continue
								}
								acc += x[((n*s.cin+ci)*s.h+hi)*s.w+wi] * w[((o*s.cin+ci)*s.k+a)*s.k+b]
							}
						}
					}
					y[((n*s.cout+o)*hout+i)*wout+j] = acc
				}
			}
		}
	}
	return y
}

func convCase(c *ctx, s convShape, bias bool) {
	x := c.randn(81, s.n, s.cin, s.h, s.w)
	w := c.randn(82, s.cout, s.cin, s.k, s.k)
	b := c.randn(83, s.cout)
	hout := (s.h+2*s.pad-s.k)/s.stride + 1
	wout := (s.w+2*s.pad-s.k)/s.stride + 1
	gy := c.randn(84, s.n, s.cout, hout, wout)
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		var bt *tensor.Tensor
		if bias {
			bt = in[2]
		}
		y := tensor.Conv2d(in[0], in[1], bt, s.stride, s.pad)
		dx, dw, db := tensor.Conv2dBackward(in[0], in[1], bias, in[3], s.stride, s.pad)
		return []*tensor.Tensor{y, dx, dw, db}
	}, x, w, b, gy)
	c.near("y", got[0], want[0], tolFP32)
	c.near("dx", got[1], want[1], tolFP32)
	c.near("dw", got[2], want[2], tolFP32)
	if bias {
		c.near("db", got[3], want[3], tolFP32)
	} else if got[3] != nil {
		c.t.Errorf("db: present without bias")
	}

	xs, ws, bs, gs := c.read64(x.ref), c.read64(w.ref), c.read64(b.ref), c.read64(gy.ref)
	y := conv64(s, xs, ws, hout, wout)
	lin := dot(y, gs) // <conv(x, w), gy>, linear in x and in w
	yb := append([]float64(nil), y...)
	if bias {
		for i := range yb {
			yb[i] += bs[(i/(hout*wout))%s.cout]
		}
	}
	c.near64("y/vs_float64", got[0], yb, tolF64)
	scale := norm2(y) * norm2(gs)
	if rhs := dot(xs, c.read64(got[1])); !relClose(lin, rhs, scale, 1e-5) {
		c.t.Errorf("dx adjoint: <conv(x,w), gy> = %v but <x, dx> = %v", lin, rhs)
	}
	if rhs := dot(ws, c.read64(got[2])); !relClose(lin, rhs, scale, 1e-5) {
		c.t.Errorf("dw adjoint: <conv(x,w), gy> = %v but <w, dw> = %v", lin, rhs)
	}
	if bias {
		db := make([]float64, s.cout)
		for i, g := range gs {
			db[(i/(hout*wout))%s.cout] += g
		}
		c.near64("db/vs_float64", got[3], db, tolF64)
	}
}
