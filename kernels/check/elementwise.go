package check

import (
	"fmt"
	"math"
	"slices"

	"sargo/tensor"
)

// Elementwise cases: every unary op forward and backward, every binary op
// with broadcast and strided operands, Where, and the strided copies behind
// Contiguous, CopyFrom, Pad, Concat and AddInto, and the one-launch
// concatenation and split of ConcatInto and SplitCopies.

// unaryParams gives each unary op its alpha, beta and input domain.
type unaryParams struct {
	alpha, beta float32
	positive    bool // inputs drawn from U[0.25, 3) instead of N(0,1)
}

func unaryParamsFor(op tensor.UnaryOp) unaryParams {
	switch op {
	case tensor.OpLog, tensor.OpSqrt, tensor.OpRsqrt, tensor.OpRecip:
		return unaryParams{positive: true}
	case tensor.OpPow:
		return unaryParams{alpha: 2.5, positive: true}
	case tensor.OpClamp, tensor.OpExpClamp:
		return unaryParams{alpha: -0.5, beta: 0.7}
	case tensor.OpAffine:
		return unaryParams{alpha: 1.5, beta: -0.25}
	}
	return unaryParams{}
}

// unary64 is the float64 definition of each unary op.
func unary64(op tensor.UnaryOp, x, alpha, beta float64) float64 {
	switch op {
	case tensor.OpNeg:
		return -x
	case tensor.OpExp:
		return math.Exp(x)
	case tensor.OpLog:
		return math.Log(x)
	case tensor.OpSqrt:
		return math.Sqrt(x)
	case tensor.OpRsqrt:
		return 1 / math.Sqrt(x)
	case tensor.OpAbs:
		return math.Abs(x)
	case tensor.OpTanh:
		return math.Tanh(x)
	case tensor.OpSigmoid:
		return 1 / (1 + math.Exp(-x))
	case tensor.OpRelu:
		return math.Max(x, 0)
	case tensor.OpSilu:
		return x / (1 + math.Exp(-x))
	case tensor.OpGeluTanh:
		return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
	case tensor.OpGeluErf:
		return 0.5 * x * (1 + math.Erf(x/math.Sqrt2))
	case tensor.OpPow:
		return math.Pow(x, alpha)
	case tensor.OpClamp:
		return math.Min(math.Max(x, alpha), beta)
	case tensor.OpExpClamp:
		return math.Exp(math.Min(math.Max(x, alpha), beta))
	case tensor.OpAffine:
		return alpha*x + beta
	case tensor.OpSquare:
		return x * x
	case tensor.OpRecip:
		return 1 / x
	case tensor.OpSign:
		switch {
		case x > 0:
			return 1
		case x < 0:
			return -1
		}
		return 0
	}
	panic(fmt.Sprintf("check: no float64 definition of %v", op))
}

// unaryDeriv64 is the derivative of unary64 by central differences.
func unaryDeriv64(op tensor.UnaryOp, x, alpha, beta float64) float64 {
	h := 1e-6 * math.Max(1, math.Abs(x))
	return (unary64(op, x+h, alpha, beta) - unary64(op, x-h, alpha, beta)) / (2 * h)
}

func elementwiseCases() []testCase {
	var cs []testCase
	for op := range tensor.NumUnaryOps {
		cs = append(cs, testCase{"unary/" + op.String(), func(c *ctx) { unaryCase(c, op) }})
	}
	for op := range tensor.NumBinaryOps {
		cs = append(cs, testCase{"binary/" + op.String(), func(c *ctx) { binaryCase(c, op) }})
	}
	cs = append(cs,
		testCase{"where/broadcast", whereCase},
		testCase{"muladd/layouts", mulAddCase},
		testCase{"copy/transpose,13x7", func(c *ctx) {
			copyCase(c, []int{13, 7}, func(x *tensor.Tensor) *tensor.Tensor { return x.Transpose(0, 1) })
		}},
		testCase{"copy/permute,2x3x5x4", func(c *ctx) {
			copyCase(c, []int{2, 3, 5, 4}, func(x *tensor.Tensor) *tensor.Tensor { return x.Permute(3, 1, 0, 2) })
		}},
		testCase{"copy/narrow,7x33", func(c *ctx) {
			copyCase(c, []int{7, 33}, func(x *tensor.Tensor) *tensor.Tensor { return x.Narrow(1, 5, 13) })
		}},
		testCase{"copy/expand,1x13", func(c *ctx) {
			copyCase(c, []int{1, 13}, func(x *tensor.Tensor) *tensor.Tensor { return x.Expand(7, 13) })
		}},
		testCase{"copy/into_narrow", copyIntoCase},
		testCase{"copy/pad_concat", padConcatCase},
		testCase{"copy/concat_into", concatIntoCase},
		testCase{"copy/split_copies", splitCopiesCase},
		testCase{"addinto/narrow_broadcast", addIntoCase},
	)
	return cs
}

// unaryInput is the input of a unary case, in the op's domain.
func unaryInput(c *ctx, p unaryParams, seed uint64, shape ...int) pair {
	if p.positive {
		return c.uniform(seed, 0.25, 3, shape...)
	}
	return c.randn(seed, shape...)
}

// unaryCase checks op forward and backward on a scalar-like, a ragged and
// a transposed input, and against float64 on the transposed one.
func unaryCase(c *ctx, op tensor.UnaryOp) {
	p := unaryParamsFor(op)
	transposed := c.view(unaryInput(c, p, 3, 13, 7), func(x *tensor.Tensor) *tensor.Tensor { return x.Transpose(0, 1) })
	inputs := []struct {
		name string
		x    pair
	}{
		{"n=1", unaryInput(c, p, 1, 1)},
		{"n=65", unaryInput(c, p, 2, 65)},
		{"7x13(t)", transposed},
	}
	for _, in := range inputs {
		name, x := in.name, in.x
		gy := c.randn(10, x.ref.Shape()...)
		got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
			return []*tensor.Tensor{
				tensor.Unary(op, in[0], p.alpha, p.beta),
				tensor.UnaryBackward(op, in[0], in[1], p.alpha, p.beta),
			}
		}, x, gy)
		c.near(name+"/forward", got[0], want[0], tolFP32)
		c.near(name+"/backward", got[1], want[1], tolFP32)
		if name != "7x13(t)" {
			continue
		}
		xs, gs := c.read64(x.ref), c.read64(gy.ref)
		fwd, bwd := make([]float64, len(xs)), make([]float64, len(xs))
		a, b := float64(p.alpha), float64(p.beta)
		for i, v := range xs {
			fwd[i] = unary64(op, v, a, b)
			bwd[i] = gs[i] * unaryDeriv64(op, v, a, b)
		}
		c.near64(name+"/forward_vs_float64", got[0], fwd, tolF64)
		// The derivative reference is a central difference, good to ~1e-9.
		c.near64(name+"/backward_vs_float64", got[1], bwd, 1e-8)
	}
}

// binary64 is the float64 definition of each binary op.
func binary64(op tensor.BinaryOp, x, y float64) float64 {
	switch op {
	case tensor.OpAdd:
		return x + y
	case tensor.OpSub:
		return x - y
	case tensor.OpMul:
		return x * y
	case tensor.OpDiv:
		return x / y
	case tensor.OpMax:
		return math.Max(x, y)
	case tensor.OpMin:
		return math.Min(x, y)
	case tensor.OpGreater:
		if x > y {
			return 1
		}
		return 0
	case tensor.OpEqual:
		if x == y {
			return 1
		}
		return 0
	}
	panic(fmt.Sprintf("check: no float64 definition of %v", op))
}

// quantised is an input of multiples of 1/2 in [-2, 2], so comparisons
// meet ties.
func quantised(c *ctx, seed uint64, shape ...int) pair {
	u := tensor.Rand(c.ref, seed, 0, shape...)
	d := c.read(u)
	for i, v := range d {
		d[i] = float32(math.Floor(float64(v)*9)/2 - 2)
	}
	return c.values(d, shape...)
}

// binaryCase checks op with a broadcast row, a transposed operand against
// a broadcast column, and a narrowed operand against an expanded one; every
// result must match float64 arithmetic rounded once, which is exact.
func binaryCase(c *ctx, op tensor.BinaryOp) {
	operand := func(seed uint64, shape ...int) pair {
		if op == tensor.OpDiv && seed%2 == 0 {
			return c.uniform(seed, 0.5, 2, shape...) // divisors away from zero
		}
		return quantisedOrNormal(c, op, seed, shape...)
	}
	type layout struct {
		name string
		a, b pair
	}
	layouts := []layout{
		{"7x13+13", operand(1, 7, 13), operand(2, 13)},
		{"t(13x7)+7x1", c.view(operand(3, 13, 7), func(x *tensor.Tensor) *tensor.Tensor { return x.Transpose(0, 1) }), operand(4, 7, 1)},
		{"narrow+expand", c.view(operand(5, 7, 31), func(x *tensor.Tensor) *tensor.Tensor { return x.Narrow(1, 9, 13) }),
			c.view(operand(6, 1, 13), func(x *tensor.Tensor) *tensor.Tensor { return x.Expand(7, 13) })},
		{"1+1", operand(7, 1), operand(8, 1)},
		// One collapsed axis (the shaders' FLAT path): contiguous operands
		// of one shape, and an offset range with a broadcast scalar.
		{"flat,7x13+7x13", operand(9, 7, 13), operand(10, 7, 13)},
		{"flat,narrow(300)+expand(1)", c.view(operand(11, 300), func(x *tensor.Tensor) *tensor.Tensor { return x.Narrow(0, 17, 261) }),
			c.view(operand(12, 1), func(x *tensor.Tensor) *tensor.Tensor { return x.Expand(261) })},
	}
	for _, l := range layouts {
		got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
			return []*tensor.Tensor{tensor.Binary(op, in[0], in[1])}
		}, l.a, l.b)
		c.near(l.name, got[0], want[0], tolFP32)
		shape := want[0].Shape()
		ea, eb := l.a.ref.Expand(shape...), l.b.ref.Expand(shape...)
		xs, ys := c.read64(ea), c.read64(eb)
		ref := make([]float64, len(xs))
		for i := range xs {
			ref[i] = float64(float32(binary64(op, xs[i], ys[i])))
		}
		// Exact for a correctly rounded device; GPU division is not.
		c.near64(l.name+"/vs_float64", got[0], ref, tolF64)
	}
}

func quantisedOrNormal(c *ctx, op tensor.BinaryOp, seed uint64, shape ...int) pair {
	switch op {
	case tensor.OpMax, tensor.OpMin, tensor.OpGreater, tensor.OpEqual:
		return quantised(c, seed, shape...)
	}
	return c.randn(seed, shape...)
}

// whereCase picks between a transposed operand and a broadcast scalar.
func whereCase(c *ctx) {
	cond := quantised(c, 1, 7, 13)
	a := c.view(c.randn(2, 13, 7), func(x *tensor.Tensor) *tensor.Tensor { return x.Transpose(0, 1) })
	b := c.randn(3, 1)
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		return []*tensor.Tensor{tensor.Where(in[0], in[1], in[2])}
	}, cond, a, b)
	c.near("where", got[0], want[0], tolFP32)
	cs, as, bs := c.read(cond.ref), c.read(a.ref), c.read(b.ref)
	ref := make([]float64, len(cs))
	for i := range cs {
		ref[i] = float64(bs[0])
		if cs[i] != 0 {
			ref[i] = float64(as[i])
		}
	}
	c.near64("where/vs_host", got[0], ref, 0)
}

// copyCase materialises a view of a [shape] input and checks it element by
// element against the view's addressing applied on the host.
func copyCase(c *ctx, shape []int, view func(*tensor.Tensor) *tensor.Tensor) {
	x := c.randn(1, shape...)
	v := c.view(x, view)
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		return []*tensor.Tensor{in[0].Clone()}
	}, v)
	c.equal("clone", got[0], want[0])
	c.near64("clone/vs_host", got[0], hostView(c.read(x.ref), v.ref.View()), 0)
}

// hostView gathers the elements a strided view addresses in base, in
// row-major order of the view's shape.
func hostView(base []float32, v tensor.View) []float64 {
	n := 1
	for _, s := range v.Shape {
		n *= s
	}
	out := make([]float64, 0, n)
	idx := make([]int, len(v.Shape))
	for range n {
		off := v.Offset
		for k, i := range idx {
			off += i * v.Strides[k]
		}
		out = append(out, float64(base[off]))
		for k := len(idx) - 1; k >= 0; k-- {
			if idx[k]++; idx[k] < v.Shape[k] {
				break
			}
			idx[k] = 0
		}
	}
	return out
}

// copyIntoCase writes a transposed source into a narrowed window of a
// larger destination; elements outside the window must stay untouched.
func copyIntoCase(c *ctx) {
	src := c.view(c.randn(1, 13, 7), func(x *tensor.Tensor) *tensor.Tensor { return x.Transpose(0, 1) })
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		dst := tensor.Full(in[0].Backend(), 4, 7, 20)
		dst.Narrow(1, 3, 13).CopyFrom(in[0])
		return []*tensor.Tensor{dst}
	}, src)
	c.equal("dst", got[0], want[0])
	s := c.read(src.ref)
	ref := make([]float64, 7*20)
	for i := range 7 {
		for j := range 20 {
			ref[i*20+j] = 4
			if j >= 3 && j < 16 {
				ref[i*20+j] = float64(s[i*13+j-3])
			}
		}
	}
	c.near64("dst/vs_host", got[0], ref, 0)
}

// padConcatCase pads a ragged input and concatenates along the last axis.
func padConcatCase(c *ctx) {
	a, b := c.randn(1, 3, 5, 7), c.randn(2, 3, 5, 1)
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		return []*tensor.Tensor{
			tensor.Pad(in[0], []int{0, 1, 2}, []int{1, 0, 3}, -1.5),
			tensor.Concat(2, in[0], in[1], in[0]),
		}
	}, a, b)
	c.equal("pad", got[0], want[0])
	c.equal("concat", got[1], want[1])
	pad := c.read(got[0])
	if len(pad) != 4*6*12 || pad[0] != -1.5 || pad[len(pad)-1] != -1.5 {
		c.t.Errorf("pad: border not filled with -1.5")
	}
	if as := c.read(a.ref); pad[(0*6+1)*12+2] != as[0] {
		c.t.Errorf("pad: first element %v, want %v", pad[(0*6+1)*12+2], as[0])
	}
}

// concatIntoCase writes ten pieces (two launches of MaxConcatParts parts
// at most, one piece a transposed view) into windows along axis 1 of a
// filled [3, 25, 4] destination, leaving a gap that keeps its value.
func concatIntoCase(c *ctx) {
	sizes := []int{1, 2, 3, 1, 2, 1, 3, 2, 1, 2}
	in := make([]pair, len(sizes))
	for i, n := range sizes {
		in[i] = c.randn(uint64(10+i), 3, n, 4)
	}
	in[2] = c.view(c.randn(30, 3, 4, 3), func(x *tensor.Tensor) *tensor.Tensor { return x.Transpose(1, 2) })
	starts := make([]int, len(sizes))
	at := 0
	for i, n := range sizes {
		starts[i] = at
		at += n
		if i == 4 {
			at += 7 // the gap
		}
	}
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		dst := tensor.Full(in[0].Backend(), 0.5, 3, 25, 4)
		tensor.ConcatInto(dst, 1, starts, in...)
		return []*tensor.Tensor{dst}
	}, in...)
	c.equal("dst", got[0], want[0])
	ds, p0 := c.read(got[0]), c.read(in[0].ref)
	if ds[0] != p0[0] || ds[9*4] != 0.5 || ds[2*100+24*4+3] == 0.5 {
		c.t.Errorf("concat_into: layout wrong: first %v (want %v), gap %v (want 0.5), last %v", ds[0], p0[0], ds[9*4], ds[2*100+24*4+3])
	}
}

// splitCopiesCase copies ten windows along axis 1 of a [3, 25, 4] input
// (two launches of MaxConcatParts parts at most; windows may overlap and
// leave gaps) and of a transposed view of it (one copy each), and checks
// them against the input's narrowed windows.
func splitCopiesCase(c *ctx) {
	starts := []int{0, 1, 3, 6, 7, 16, 17, 20, 22, 2}
	lengths := []int{1, 2, 3, 1, 2, 1, 3, 2, 3, 5}
	x := c.randn(40, 3, 25, 4)
	xt := c.view(c.randn(41, 3, 4, 25), func(x *tensor.Tensor) *tensor.Tensor { return x.Transpose(1, 2) })
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		out := tensor.SplitCopies(in[0], 1, starts, lengths)
		return append(out, tensor.SplitCopies(in[1], 1, starts, lengths)...)
	}, x, xt)
	for i := range got {
		c.equal(fmt.Sprintf("piece%d", i), got[i], want[i])
		src := []pair{x, xt}[i/len(starts)].ref
		k := i % len(starts)
		w := src.Narrow(1, starts[k], lengths[k]).Contiguous()
		if g, r := c.read(got[i]), c.read(w); !slices.Equal(g, r) {
			c.t.Errorf("split_copies: piece %d differs from its window", i)
		}
	}
}

// addIntoCase accumulates a broadcast row into a narrowed window in place,
// where the destination is also an operand.
func addIntoCase(c *ctx) {
	src := c.randn(1, 13)
	base := c.randn(2, 7, 20)
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		dst := in[1].Clone()
		tensor.AddInto(dst.Narrow(1, 2, 13), in[0])
		return []*tensor.Tensor{dst}
	}, src, base)
	c.near("dst", got[0], want[0], tolFP32)
	s, bs := c.read(src.ref), c.read(base.ref)
	ref := make([]float64, len(bs))
	for i := range 7 {
		for j := range 20 {
			v := bs[i*20+j]
			if j >= 2 && j < 15 {
				v += s[j-2]
			}
			ref[i*20+j] = float64(v)
		}
	}
	c.near64("dst/vs_host", got[0], ref, 0)
}

// mulAddCase checks MulAdd (alpha 0 and 1) over flat, broadcast (AdaLN's
// [B, 1, C] scale and shift) and transposed operands against the CPU
// backend, float64, and the separate AddScalar, Mul and Add on the same
// device, which must give the same float32 values.
func mulAddCase(c *ctx) {
	layouts := []struct {
		name    string
		a, b, d pair
	}{
		{"flat,5x40", c.randn(140, 5, 40), c.randn(141, 5, 40), c.randn(142, 5, 40)},
		{"modulate,2x7x13", c.randn(143, 2, 7, 13), c.randn(144, 2, 1, 13), c.randn(145, 2, 1, 13)},
		{"transposed", c.view(c.randn(146, 13, 7), func(x *tensor.Tensor) *tensor.Tensor { return x.Transpose(0, 1) }),
			c.randn(147, 7, 1), c.randn(148, 13)},
	}
	for _, l := range layouts {
		for _, alpha := range []float32{0, 1} {
			name := fmt.Sprintf("%s,alpha=%v", l.name, alpha)
			got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
				sep := tensor.Add(tensor.Mul(in[0], tensor.AddScalar(in[1], alpha)), in[2])
				return []*tensor.Tensor{tensor.MulAdd(in[0], in[1], in[2], alpha), sep}
			}, l.a, l.b, l.d)
			c.near(name, got[0], want[0], tolFP32)
			c.near(name+"/vs_separate", got[0], got[1], 0)
			shape := want[0].Shape()
			as, bs, ds := c.read64(l.a.ref.Expand(shape...)), c.read64(l.b.ref.Expand(shape...)), c.read64(l.d.ref.Expand(shape...))
			ref := make([]float64, len(as))
			for i := range ref {
				ref[i] = as[i]*(bs[i]+float64(alpha)) + ds[i]
			}
			c.near64(name+"/vs_float64", got[0], ref, tolF64)
		}
	}
}
