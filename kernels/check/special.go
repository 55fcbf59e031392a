package check

import (
	"fmt"
	"math"

	"sargo/tensor"
)

// Special-value cases: every op family on inputs holding NaN, ±Inf, ±0,
// subnormals and values near float32's limits, compared with the CPU
// reference value by value (NaN where it has NaN, the same infinities).
// GPUs differ from the CPU here in ways ordinary inputs never show: GLSL's
// max and min are undefined for NaN, drivers may flush subnormals, and a
// division may be off by an ulp or two. Where an op's result is fixed by
// its definition (NaN in, NaN out) the backend's own output is checked
// for that too.

var (
	nanF  = float32(math.NaN())
	infF  = float32(math.Inf(1))
	negZ  = float32(math.Copysign(0, -1))
	maxF  = float32(math.MaxFloat32)
	subnF = float32(1e-40)
)

// specialValues is the input pattern of the elementwise cases.
var specialValues = []float32{nanF, infF, -infF, negZ, 0, 1e30, -1e30, subnF, -subnF, 88.8, -104, 3, -2.5, 0.5, 1, maxF, -maxF}

// specialPairs are the (a, b) operands of the binary cases.
var specialPairs = [][2]float32{
	{nanF, 1}, {1, nanF}, {nanF, nanF}, {infF, infF}, {infF, -infF}, {-infF, infF}, {0, negZ}, {negZ, 0},
	{1, 0}, {-1, 0}, {0, 0}, {maxF, maxF}, {-maxF, maxF}, {subnF, 2}, {3, 3}, {nanF, infF}, {-infF, nanF},
}

// propagatesNaN reports whether a unary op's result is NaN for a NaN input
// (relu and sign map NaN to 0, as the CPU reference does).
func propagatesNaN(op tensor.UnaryOp) bool { return op != tensor.OpRelu && op != tensor.OpSign }

func specialCases() []testCase {
	var cs []testCase
	for op := range tensor.NumUnaryOps {
		cs = append(cs, testCase{"unary/" + op.String(), func(c *ctx) { specialUnaryCase(c, op) }})
	}
	for op := range tensor.NumBinaryOps {
		cs = append(cs, testCase{"binary/" + op.String(), func(c *ctx) { specialBinaryCase(c, op) }})
	}
	for op := range tensor.NumReduceOps {
		cs = append(cs, testCase{"reduce/" + op.String(), func(c *ctx) { specialReduceCase(c, op) }})
	}
	return append(cs,
		testCase{"where", specialWhereCase},
		testCase{"softmax", specialSoftmaxCase},
		testCase{"crossentropy", specialCrossEntropyCase},
		testCase{"norm", specialNormCase},
		testCase{"matmul", specialMatMulCase},
		testCase{"gather", specialGatherCase},
		testCase{"attention", specialAttentionCase},
		testCase{"interpolate", specialInterpolateCase},
		testCase{"conv", specialConvCase},
		testCase{"topk", specialTopKCase},
		testCase{"adamw", specialAdamWCase},
		testCase{"adamw_multi", specialAdamWMultiCase},
		testCase{"l2_normalize", specialL2NormCase},
		testCase{"muladd", specialMulAddCase},
		testCase{"squared_norm", specialSquaredNormCase},
	)
}

// nanAt reports the NaN positions of a device output.
func (c *ctx) nanAt(x *tensor.Tensor) []bool {
	d := c.read(x)
	out := make([]bool, len(d))
	for i, v := range d {
		out[i] = v != v
	}
	return out
}

// specialUnaryCase applies op forward and backward to specialValues.
func specialUnaryCase(c *ctx, op tensor.UnaryOp) {
	p := unaryParamsFor(op)
	n := len(specialValues)
	x := c.values(specialValues, n)
	gy := c.values(ones(n), n)
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		y := tensor.Empty(in[0].Backend(), n)
		dx := tensor.Empty(in[0].Backend(), n)
		in[0].Backend().Unary(op, y.View(), in[0].View(), p.alpha, p.beta)
		in[0].Backend().UnaryBackward(op, dx.View(), in[0].View(), in[1].View(), p.alpha, p.beta)
		return []*tensor.Tensor{y, dx}
	}, x, gy)
	c.near("y", got[0], want[0], tolFP32)
	c.near("dx", got[1], want[1], tolFP32)
	if propagatesNaN(op) && !c.nanAt(got[0])[0] {
		c.t.Errorf("%v(NaN) is %v, want NaN", op, c.read(got[0])[0])
	}
}

// specialBinaryCase applies op to specialPairs.
func specialBinaryCase(c *ctx, op tensor.BinaryOp) {
	n := len(specialPairs)
	as, bs := make([]float32, n), make([]float32, n)
	for i, p := range specialPairs {
		as[i], bs[i] = p[0], p[1]
	}
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		y := tensor.Empty(in[0].Backend(), n)
		in[0].Backend().Binary(op, y.View(), in[0].View(), in[1].View())
		return []*tensor.Tensor{y}
	}, c.values(as, n), c.values(bs, n))
	c.equal("z", got[0], want[0])
	g := c.read(got[0])
	for i, p := range specialPairs {
		hasNaN := p[0] != p[0] || p[1] != p[1]
		switch {
		case hasNaN && op != tensor.OpGreater && op != tensor.OpEqual && g[i] == g[i]:
			c.t.Errorf("%v(%v, %v) is %v, want NaN", op, p[0], p[1], g[i])
		case op == tensor.OpMax && p[0] == 0 && p[1] == 0 && !(neg(p[0]) && neg(p[1])) && neg(g[i]):
			c.t.Errorf("max(%v, %v) is -0, want +0", p[0], p[1])
		case op == tensor.OpMin && p[0] == 0 && p[1] == 0 && (neg(p[0]) || neg(p[1])) && !neg(g[i]):
			c.t.Errorf("min(%v, %v) is +0, want -0", p[0], p[1])
		}
	}
}

// specialWhereCase selects with NaN, ±0 and infinite conditions.
func specialWhereCase(c *ctx) {
	cond := []float32{nanF, 0, negZ, infF, -1, subnF}
	n := len(cond)
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		return []*tensor.Tensor{tensor.Where(in[0], in[1], in[2])}
	}, c.values(cond, n), c.values(specialValues[:n], n), c.values(specialValues[n:2*n], n))
	c.equal("out", got[0], want[0])
}

// specialRows are rows of special values for the reductions and the row
// kernels: NaN first, last and alone, ±Inf, all -Inf, ties of the maximum,
// subnormals, huge values whose sum overflows.
func specialRows(n int) [][]float32 {
	row := func(f func(i int) float32) []float32 {
		r := make([]float32, n)
		for i := range r {
			r[i] = f(i)
		}
		return r
	}
	base := func(i int) float32 { return float32((i*7)%11) - 5 }
	return [][]float32{
		row(func(i int) float32 { return map[bool]float32{true: nanF, false: base(i)}[i == 0] }),
		row(func(i int) float32 { return map[bool]float32{true: nanF, false: base(i)}[i == n-1] }),
		row(func(i int) float32 { return map[bool]float32{true: infF, false: base(i)}[i == n/2] }),
		row(func(i int) float32 { return map[bool]float32{true: -infF, false: base(i)}[i%3 == 1] }),
		row(func(int) float32 { return -infF }),
		row(func(i int) float32 { return map[bool]float32{true: 9, false: base(i)}[i%4 == 2] }),
		row(func(i int) float32 { return subnF * float32(i%3-1) }),
		row(func(int) float32 { return maxF / 2 }),
		row(func(i int) float32 { return map[bool]float32{true: infF, false: -infF}[i%2 == 0] }),
	}
}

// flat concatenates rows.
func flat(rows [][]float32) []float32 {
	var out []float32
	for _, r := range rows {
		out = append(out, r...)
	}
	return out
}

// specialReduceCase reduces special rows along the last axis (rows of 3
// and of 300, the per-row and the shared-memory paths) and the first (the
// column path), and checks NaN propagation.
func specialReduceCase(c *ctx, op tensor.ReduceOp) {
	for _, n := range []int{3, 300} {
		rows := specialRows(n)
		x := c.values(flat(rows), len(rows), n)
		for _, axis := range []int{1, 0} {
			got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
				return []*tensor.Tensor{tensor.Reduce(op, in[0], axis, false)}
			}, x)
			name := fmt.Sprintf("n=%d,axis=%d", n, axis)
			c.near(name, got[0], want[0], tolFP32)
			if axis == 1 && op != tensor.ReduceArgmax {
				nan := c.nanAt(got[0])
				if !nan[0] || !nan[1] {
					c.t.Errorf("%s: %v of a row holding NaN is not NaN", name, op)
				}
			}
			if axis == 1 && op == tensor.ReduceArgmax {
				g := c.read(got[0])
				if g[0] != 0 || g[1] != float32(n-1) {
					c.t.Errorf("%s: argmax of rows with NaN at 0 and at %d is %v, %v: want the NaN", name, n-1, g[0], g[1])
				}
			}
		}
	}
}

// specialSoftmaxCase runs softmax and log-softmax with their backward on
// special rows.
func specialSoftmaxCase(c *ctx) {
	for _, n := range []int{3, 300} {
		rows := specialRows(n)
		x := c.values(flat(rows), len(rows), n)
		gy := c.randn(71, len(rows), n)
		for _, log := range []bool{false, true} {
			got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
				y := tensor.Softmax(in[0], log)
				return []*tensor.Tensor{y, tensor.SoftmaxBackward(y, in[1], log)}
			}, x, gy)
			name := fmt.Sprintf("n=%d,log=%v", n, log)
			c.near(name+"/y", got[0], want[0], tolFP32)
			c.near(name+"/dx", got[1], want[1], tolFP32)
		}
	}
}

// specialCrossEntropyCase scores special rows against targets on a NaN,
// an infinity and a finite logit.
func specialCrossEntropyCase(c *ctx) {
	for _, n := range []int{3, 300} {
		rows := specialRows(n)
		r := len(rows)
		tg := make([]float32, r)
		for i := range tg {
			tg[i] = float32((i * 5) % n)
		}
		tg[2] = float32(n / 2) // the +Inf logit
		x := c.values(flat(rows), r, n)
		gloss := c.values(ones(r), r)
		got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
			loss, lse := tensor.CrossEntropy(in[0], in[1], ignoreIndex, 0.1)
			return []*tensor.Tensor{loss, lse, tensor.CrossEntropyBackward(in[0], lse, in[1], in[2], ignoreIndex, 0.1)}
		}, x, c.values(tg, r), gloss)
		name := fmt.Sprintf("n=%d", n)
		c.near(name+"/loss", got[0], want[0], tolFP32)
		c.near(name+"/lse", got[1], want[1], tolFP32)
		c.near(name+"/dlogits", got[2], want[2], tolFP32)
	}
}

// specialNormCase layer-normalises special rows (a constant row has zero
// variance) and runs the backward. Rows whose float32 sums (or sums of
// squares) overflow are left out: the CPU accumulates in float64, a GPU in
// float32.
func specialNormCase(c *ctx) {
	const n = 40
	var rows [][]float32
	for _, r := range specialRows(n) {
		if r[0] != maxF/2 {
			rows = append(rows, r)
		}
	}
	big := make([]float32, n)
	for i := range big {
		big[i] = 1e18 * float32(i%3+1)
	}
	rows = append(rows, make([]float32, n), big)
	r := len(rows)
	x := c.values(flat(rows), r, n)
	w, b := c.randn(72, n), c.randn(73, n)
	gy := c.randn(74, r, n)
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		y, mean, rstd := tensor.LayerNorm(in[0], in[1], in[2], 1e-5)
		dx, dw, db := tensor.NormBackward(in[0], in[1], in[2], mean, rstd, in[3], 0, 1e-5)
		return []*tensor.Tensor{y, mean, rstd, dx, dw, db}
	}, x, w, b, gy)
	for i, name := range []string{"y", "mean", "rstd", "dx", "dw", "db"} {
		c.near(name, got[i], want[i], tolFP32)
	}
}

// specialMatMulCase multiplies matrices holding NaN, ±Inf and huge values
// on both tilings: each NaN or Inf poisons its row and column of the
// product as on the CPU.
func specialMatMulCase(c *ctx) {
	for _, s := range [][3]int{{5, 7, 6}, {70, 33, 65}} {
		m, k, n := s[0], s[1], s[2]
		a := make([]float32, m*k)
		for i := range a {
			a[i] = float32((i*13)%7) - 3
		}
		a[0], a[k+1], a[2*k+2] = nanF, infF, -infF
		a[3*k] = maxF
		b := make([]float32, k*n)
		for i := range b {
			b[i] = float32((i*5)%9)/4 - 1
		}
		b[n+3] = nanF
		got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
			return []*tensor.Tensor{tensor.MatMul(in[0], in[1], false, false)}
		}, c.values(a, m, k), c.values(b, k, n))
		c.near(fmt.Sprintf("%dx%dx%d", m, k, n), got[0], want[0], tolFP32)
		if nan := c.nanAt(got[0]); !nan[0] || !nan[3] {
			c.t.Errorf("%dx%dx%d: the product of a NaN is not NaN", m, k, n)
		}
		bias := make([]float32, n)
		for i := range bias {
			bias[i] = specialValues[i%len(specialValues)]
		}
		got, want = c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
			return []*tensor.Tensor{tensor.MatMulBias(in[0], in[1], in[2], false, false, tensor.ActGeluTanh)}
		}, c.values(a, m, k), c.values(b, k, n), c.values(bias, n))
		c.near(fmt.Sprintf("%dx%dx%d+bias,gelu_tanh", m, k, n), got[0], want[0], tolFP32)
	}
}

// specialGatherCase copies and adds special table values exactly.
func specialGatherCase(c *ctx) {
	rows, dim := 4, len(specialValues)/4
	table := c.values(specialValues[:rows*dim], rows, dim)
	ids := c.values([]float32{3, 0, 3, 1, 2}, 5)
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		return []*tensor.Tensor{tensor.Gather(in[0], in[1]), tensor.ScatterAdd(tensor.Gather(in[0], in[1]), in[1], rows)}
	}, table, ids)
	c.equal("gather", got[0], want[0])
	c.near("scatter_add", got[1], want[1], tolFP32)
}

// specialAttentionCase has a NaN query, an infinite key and a query whose
// every key the additive mask hides (-Inf), which gives zeros.
func specialAttentionCase(c *ctx) {
	const bh, l, d = 2, 5, 8
	q, k, v := c.randn(75, 1, bh, l, d), c.randn(76, 1, bh, l, d), c.randn(77, 1, bh, l, d)
	qs, ks := c.read(q.ref), c.read(k.ref)
	qs[d] = nanF        // query 1 of head 0
	ks[3*d+2] = 1e20    // key 3 of head 0: huge scores
	ks[(l+2)*d] = -1e20 // key 2 of head 1
	q, k = c.values(qs, 1, bh, l, d), c.values(ks, 1, bh, l, d)
	mv := make([]float32, l*l)
	for j := range l {
		mv[4*l+j] = -infF // query 4 sees no key
	}
	mask := c.values(mv, l, l)
	gout := c.randn(78, 1, bh, l, d)
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		m := tensor.AttentionMask{Kind: tensor.MaskAdditive, Values: in[3]}
		out, lse := tensor.Attention(in[0], in[1], in[2], 0.35, m)
		dq, dk, dv := tensor.AttentionBackward(in[0], in[1], in[2], out, lse, in[4], 0.35, m)
		return []*tensor.Tensor{out, lse, dq, dk, dv}
	}, q, k, v, mask, gout)
	for i, name := range []string{"out", "lse", "dq", "dk", "dv"} {
		c.near(name, got[i], want[i], 1e-6)
	}
}

// specialInterpolateCase resizes a plane holding NaN and ±Inf in every
// mode, forward and backward.
func specialInterpolateCase(c *ctx) {
	const h, w = 5, 6
	x := make([]float32, h*w)
	for i := range x {
		x[i] = float32(i%5) - 2
	}
	x[7], x[16], x[22] = nanF, infF, -infF
	for mode := tensor.InterpNearest; mode <= tensor.InterpArea; mode++ {
		for _, to := range [][2]int{{10, 12}, {3, 4}, {7, 9}} {
			name := fmt.Sprintf("%v/%dx%d", mode, to[0], to[1])
			g := c.randn(79, 1, to[0], to[1])
			got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
				return []*tensor.Tensor{tensor.Interpolate(in[0], to[0], to[1], mode), tensor.InterpolateBackward(in[1], h, w, mode)}
			}, c.values(x, 1, h, w), g)
			c.near(name+"/y", got[0], want[0], tolFP32)
			c.near(name+"/dx", got[1], want[1], tolFP32)
		}
	}
}

// specialConvCase convolves an image holding NaN and Inf.
func specialConvCase(c *ctx) {
	x := c.read(c.randn(80, 1, 2, 6, 6).ref)
	x[7], x[40] = nanF, infF
	xs := c.values(x, 1, 2, 6, 6)
	w, b := c.randn(81, 3, 2, 3, 3), c.randn(82, 3)
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		return []*tensor.Tensor{tensor.Conv2d(in[0], in[1], in[2], 1, 1)}
	}, xs, w, b)
	c.near("y", got[0], want[0], tolFP32)
}

// specialTopKCase takes the top k of rows with ±Inf and ties.
func specialTopKCase(c *ctx) {
	rows := [][]float32{
		{1, infF, -infF, 3, infF, 0, negZ, -1},
		{-infF, -infF, -infF, -infF, -infF, -infF, -infF, -infF},
		{2, 2, 2, -maxF, maxF, 2, subnF, 0},
	}
	x := c.values(flat(rows), 3, 8)
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		v, i := tensor.TopK(in[0], 5)
		return []*tensor.Tensor{v, i}
	}, x)
	c.equal("vals", got[0], want[0])
	c.equal("idx", got[1], want[1])
}

// specialAdamWCase steps parameters whose gradients hold NaN, ±Inf, zero
// and subnormals.
func specialAdamWCase(c *ctx) {
	n := len(specialValues)
	g := c.values(specialValues, n)
	p := c.randn(83, n)
	args := tensor.AdamWArgs{N: n, LR: 1e-3, Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, WeightDecay: 0.05, Step: 3}
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		p, m, v := in[0].Clone(), tensor.ZerosLike(in[0]), tensor.ZerosLike(in[0])
		tensor.AdamWStep(args, p, in[1], m, v)
		return []*tensor.Tensor{p, m, v}
	}, p, g)
	c.near("param", got[0], want[0], tolFP32)
	c.near("m", got[1], want[1], tolFP32)
	c.near("v", got[2], want[2], tolFP32)
}

// specialAdamWMultiCase runs AdamWSteps with the special values as the
// gradient of one tensor (scaled by 0.5) beside a finite one.
func specialAdamWMultiCase(c *ctx) {
	n := len(specialValues)
	g := c.values(specialValues, n)
	g2, p, p2 := c.randn(84, 5), c.randn(83, n), c.randn(85, 5)
	args := tensor.AdamWArgs{LR: 1e-3, Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, WeightDecay: 0.05, Step: 3, GradScale: 0.5}
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		p, p2 := in[0].Clone(), in[2].Clone()
		m, v, m2, v2 := tensor.ZerosLike(p), tensor.ZerosLike(p), tensor.ZerosLike(p2), tensor.ZerosLike(p2)
		tensor.AdamWSteps(args, []tensor.AdamWTensors{{Param: p, Grad: in[1], M: m, V: v, Decay: true}, {Param: p2, Grad: in[3], M: m2, V: v2}})
		return []*tensor.Tensor{p, m, v, p2, m2, v2}
	}, p, g, p2, g2)
	for i, name := range []string{"param", "m", "v", "param2", "m2", "v2"} {
		c.near(name, got[i], want[i], tolFP32)
	}
}

// specialL2NormCase normalises rows that each hold one special value
// beside finite ones (a NaN row stays NaN, an infinite norm clamps to
// MaxFloat32), forward and backward, as the CPU backend does.
func specialL2NormCase(c *ctx) {
	n := len(specialValues)
	x := make([]float32, 0, n*3)
	for _, v := range specialValues {
		x = append(x, v, 1, -2)
	}
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		y, norm := tensor.L2NormalizeLast(in[0], 1e-12)
		return []*tensor.Tensor{y, norm, tensor.L2NormalizeLastBackward(y, norm, in[1], 1e-12)}
	}, c.values(x, n, 3), c.randn(87, n, 3))
	for i, name := range []string{"y", "norm", "dx"} {
		c.near(name, got[i], want[i], tolFP32)
	}
}

// specialMulAddCase runs MulAdd over every special pair as (a, b) with
// each special value as c: the same values as the CPU backend, NaN where
// it gives NaN.
func specialMulAddCase(c *ctx) {
	n, k := len(specialPairs), len(specialValues)
	a, b := make([]float32, n), make([]float32, n)
	for i, p := range specialPairs {
		a[i], b[i] = p[0], p[1]
	}
	for _, alpha := range []float32{0, 1} {
		got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
			return []*tensor.Tensor{tensor.MulAdd(in[0].Reshape(n, 1), in[1].Reshape(n, 1), in[2].Reshape(1, k), alpha)}
		}, c.values(a, n), c.values(b, n), c.values(specialValues, k))
		c.near(fmt.Sprintf("alpha=%v", alpha), got[0], want[0], tolFP32)
	}
}

// specialSquaredNormCase sums the squares of tensors holding each special
// value (NaN, ±Inf, the largest finite values, subnormals): the result
// matches the CPU backend's (NaN or +Inf where they must be).
func specialSquaredNormCase(c *ctx) {
	for i, x := range specialValues {
		a, b := c.values([]float32{x, 1}, 2), c.randn(uint64(86+i), 7)
		got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
			return []*tensor.Tensor{tensor.SquaredNorm(in...)}
		}, a, b)
		c.near(fmt.Sprintf("sum_with_%v", x), got[0], want[0], tolFP32)
	}
}

// neg reports whether v has its sign bit set (-0 included).
func neg(v float32) bool { return math.Signbit(float64(v)) }

func ones(n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = 1
	}
	return out
}
