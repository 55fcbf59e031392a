package check

import (
	"fmt"
	"math"

	"sargo/tensor"
)

// Interpolation cases: every mode up and down between ragged sizes,
// forward and backward. The backward is checked as the adjoint of the
// forward (<Interp(x), g> = <x, InterpBackward(g)>), constants must stay
// constant, and a same-size resize must be the identity. Agreement with
// PyTorch itself is the job of the golden tests in package tensor.

func interpolateCases() []testCase {
	sizes := [][4]int{
		{1, 1, 4, 4}, {3, 3, 8, 8}, {8, 8, 3, 3}, {5, 5, 13, 13},
		{13, 13, 5, 5}, {8, 8, 8, 8}, {2, 3, 7, 5}, {7, 5, 2, 3},
		// Scales whose products land exactly on integers (7/21·3 = 1):
		// nearest must take the same tap as the CPU there.
		{7, 7, 21, 21}, {10, 3, 30, 9},
	}
	var cs []testCase
	for mode := tensor.InterpNearest; mode <= tensor.InterpArea; mode++ {
		for _, s := range sizes {
			name := fmt.Sprintf("%v/%dx%d->%dx%d", mode, s[0], s[1], s[2], s[3])
			cs = append(cs, testCase{name, func(c *ctx) { interpolateCase(c, mode, s[0], s[1], s[2], s[3]) }})
		}
	}
	return cs
}

func interpolateCase(c *ctx, mode tensor.InterpMode, hin, win, hout, wout int) {
	const planes0, planes1 = 2, 3
	x := c.randn(71, planes0, planes1, hin, win)
	g := c.randn(72, planes0, planes1, hout, wout)
	k := c.input(tensor.Full(c.ref, 1.75, 1, 1, hin, win))
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		return []*tensor.Tensor{
			tensor.Interpolate(in[0], hout, wout, mode),
			tensor.InterpolateBackward(in[1], hin, win, mode),
			tensor.Interpolate(in[2], hout, wout, mode),
		}
	}, x, g, k)
	c.near("y", got[0], want[0], tolFP32)
	c.near("dx", got[1], want[1], tolFP32)
	c.near("const", got[2], want[2], tolFP32)

	ys, dxs := c.read64(got[0]), c.read64(got[1])
	xs, gs := c.read64(x.ref), c.read64(g.ref)
	lhs, rhs := dot(ys, gs), dot(xs, dxs)
	if !relClose(lhs, rhs, norm2(ys)*norm2(gs), 1e-5) {
		c.t.Errorf("adjoint: <Interp(x), g> = %v but <x, InterpBackward(g)> = %v", lhs, rhs)
	}
	for i, v := range c.read(got[2]) {
		if math.Abs(float64(v)-1.75) > 1e-5 {
			c.t.Errorf("const: element %d is %v, want 1.75", i, v)
			break
		}
	}
	if hin == hout && win == wout {
		c.near64("y/identity", got[0], xs, tolF64)
		c.near64("dx/identity", got[1], gs, tolF64)
	}
}
