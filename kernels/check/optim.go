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

// multiCases are the multi-tensor optimiser kernels: AdamWSteps over
// tensors of several sizes (more tensors and storages than one GPU
// dispatch takes), decayed or not, with moments in one storage or each in
// its own, and SquaredNorm over 1 to 23 tensors.
func multiCases() []testCase {
	var cs []testCase
	for _, sizes := range [][]int{{33}, {1, 1031, 5, 4097, 2, 64}, {7, 300, 1, 9, 70, 2, 11, 1500, 3, 40, 8, 600, 13}} {
		for _, arena := range []bool{false, true} {
			name := fmt.Sprintf("adamw_multi/tensors=%d,moment_arena=%v", len(sizes), arena)
			cs = append(cs, testCase{name, func(c *ctx) { adamWMultiCase(c, sizes, arena) }})
		}
	}
	for _, sizes := range [][]int{{1}, {5000}, {3, 0, 70000, 17}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 4096, 9000}} {
		name := fmt.Sprintf("squared_norm/tensors=%d,size=%d", len(sizes), sumInts(sizes))
		cs = append(cs, testCase{name, func(c *ctx) { squaredNormCase(c, sizes) }})
	}
	return cs
}

func sumInts(xs []int) int {
	n := 0
	for _, x := range xs {
		n += x
	}
	return n
}

// adamWMultiCase runs three AdamWSteps (gradient scale 1, 0.5, 0) over
// tensors of the given sizes, every third one without weight decay, and
// checks every parameter and moment against the CPU backend and float64.
func adamWMultiCase(c *ctx, sizes []int, arena bool) {
	args := tensor.AdamWArgs{LR: 1e-2, Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, WeightDecay: 0.1}
	scales := []float32{1, 0.5, 0}
	k := len(sizes)
	var in []pair
	for i, n := range sizes {
		in = append(in, c.randn(uint64(200+i), n))
	}
	for s := range scales {
		for i, n := range sizes {
			in = append(in, c.randn(uint64(300+100*s+i), n))
		}
	}
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		be := in[0].Backend()
		ps, ms, vs := make([]*tensor.Tensor, k), make([]*tensor.Tensor, k), make([]*tensor.Tensor, k)
		mArena, vArena := tensor.Zeros(be, sumInts(sizes)), tensor.Zeros(be, sumInts(sizes))
		off := 0
		for i, n := range sizes {
			ps[i] = in[i].Clone()
			if arena {
				ms[i], vs[i] = mArena.Narrow(0, off, n), vArena.Narrow(0, off, n)
			} else {
				ms[i], vs[i] = tensor.Zeros(be, n), tensor.Zeros(be, n)
			}
			off += n
		}
		for s, scale := range scales {
			a := args
			a.Step, a.GradScale = s+1, scale
			ts := make([]tensor.AdamWTensors, k)
			for i := range sizes {
				ts[i] = tensor.AdamWTensors{Param: ps[i], Grad: in[k*(s+1)+i], M: ms[i], V: vs[i], Decay: i%3 != 2}
			}
			tensor.AdamWSteps(a, ts)
		}
		return append(append(ps, ms...), vs...)
	}, in...)
	for i := range sizes {
		c.near(fmt.Sprintf("param%d", i), got[i], want[i], tolFP32)
		c.near(fmt.Sprintf("m%d", i), got[k+i], want[k+i], tolFP32)
		c.near(fmt.Sprintf("v%d", i), got[2*k+i], want[2*k+i], tolFP32)

		p, m, v := c.read64(in[i].ref), make([]float64, sizes[i]), make([]float64, sizes[i])
		for s, scale := range scales {
			a := args
			a.Step = s + 1
			if i%3 == 2 {
				a.WeightDecay = 0
			}
			g := c.read64(in[k*(s+1)+i].ref)
			if scale != 0 {
				for j := range g {
					g[j] *= float64(scale)
				}
			}
			adamW64(a, p, g, m, v)
		}
		c.near64(fmt.Sprintf("param%d/vs_float64", i), got[i], p, tolF64)
	}
}

// squaredNormCase checks SquaredNorm over tensors of the given sizes
// against the CPU backend and float64.
func squaredNormCase(c *ctx, sizes []int) {
	var in []pair
	for i, n := range sizes {
		in = append(in, c.randn(uint64(400+i), n))
	}
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		return []*tensor.Tensor{tensor.SquaredNorm(in...)}
	}, in...)
	if got[0].Rank() != 0 {
		c.t.Errorf("SquaredNorm: shape %v, want a scalar", got[0].Shape())
	}
	c.near("sum", got[0], want[0], tolFP32)
	var sum float64
	for _, p := range in {
		for _, x := range c.read64(p.ref) {
			sum += x * x
		}
	}
	c.near64("sum/vs_float64", got[0], []float64{sum}, tolF64)
}
