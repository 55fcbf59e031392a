package check

import (
	"fmt"
	"math"

	"sargo/tensor"
)

// Optimiser cases: the fused AdamW update, one step from fresh moments and
// several consecutive steps from populated ones, checked against the
// float64 update of torch.optim.AdamW.

func optimCases() []testCase {
	var cs []testCase
	for _, n := range []int{1, 33, 1031} {
		for _, wd := range []float32{0, 0.1} {
			for _, steps := range [][2]int{{1, 1}, {7, 3}} {
				name := fmt.Sprintf("adamw/n=%d,weight_decay=%v,first_step=%d,steps=%d", n, wd, steps[0], steps[1])
				cs = append(cs, testCase{name, func(c *ctx) { adamWCase(c, n, wd, steps[0], steps[1]) }})
			}
		}
	}
	return cs
}

// adamW64 applies one AdamW step in float64 to p, m, v in place.
func adamW64(a tensor.AdamWArgs, p, g, m, v []float64) {
	b1, b2 := float64(a.Beta1), float64(a.Beta2)
	lr, eps, wd := float64(a.LR), float64(a.Eps), float64(a.WeightDecay)
	c1 := 1 - math.Pow(b1, float64(a.Step))
	c2 := 1 - math.Pow(b2, float64(a.Step))
	for i := range p {
		p[i] *= 1 - lr*wd
		m[i] = b1*m[i] + (1-b1)*g[i]
		v[i] = b2*v[i] + (1-b2)*g[i]*g[i]
		p[i] -= lr / c1 * m[i] / (math.Sqrt(v[i]/c2) + eps)
	}
}

// adamWCase runs steps updates starting at step first; the moments start at
// zero for step 1 and populated otherwise. Each step uses a new gradient.
func adamWCase(c *ctx, n int, wd float32, first, steps int) {
	args := tensor.AdamWArgs{LR: 1e-2, Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, WeightDecay: wd}
	p := c.randn(101, n)
	m, v := c.input(tensor.Zeros(c.ref, n)), c.input(tensor.Zeros(c.ref, n))
	if first > 1 {
		m = c.input(tensor.Scale(tensor.Randn(c.ref, 102, 0, n), 0.1))
		v = c.uniform(103, 0, 0.05, n)
	}
	grads := make([]pair, steps)
	for s := range grads {
		grads[s] = c.randn(uint64(110+s), n)
	}
	in := append([]pair{p, m, v}, grads...)
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		p, m, v := in[0].Clone(), in[1].Clone(), in[2].Clone()
		for s, g := range in[3:] {
			a := args
			a.Step = first + s
			tensor.AdamWStep(a, p, g, m, v)
		}
		return []*tensor.Tensor{p, m, v}
	}, in...)
	c.near("param", got[0], want[0], tolFP32)
	c.near("m", got[1], want[1], tolFP32)
	c.near("v", got[2], want[2], tolFP32)

	ps, ms, vs := c.read64(p.ref), c.read64(m.ref), c.read64(v.ref)
	for s, g := range grads {
		a := args
		a.Step = first + s
		adamW64(a, ps, c.read64(g.ref), ms, vs)
	}
	c.near64("param/vs_float64", got[0], ps, tolF64)
	c.near64("m/vs_float64", got[1], ms, tolF64)
	c.near64("v/vs_float64", got[2], vs, tolF64)
}
