package check

import (
	"fmt"

	"sargo/tensor"
)

// Matrix-product cases: ragged sizes with every transpose combination,
// transposed views passed as flags, batched products with broadcast batch
// axes, shapes that GPU kernels tile differently (many large tiles; a short
// M and N with a long K, as weight gradients have, which they split along
// K), and the kernel's epilogue: alpha, any beta, a bias and each
// activation. Every result is also checked against a float64 product on
// the host.

func matmulCases() []testCase {
	var cs []testCase
	for _, s := range [][3]int{{1, 1, 1}, {7, 13, 31}, {33, 65, 17}, {65, 33, 1}, {1, 31, 65}, {67, 129, 65}} {
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			if (s[0] == 1 || s[0] == 67) && tr != [2]bool{false, false} && tr != [2]bool{true, true} {
				continue // keep the suite small: two layouts for these sizes
			}
			name := fmt.Sprintf("m=%d,k=%d,n=%d,ta=%v,tb=%v", s[0], s[1], s[2], tr[0], tr[1])
			cs = append(cs, testCase{name, func(c *ctx) { matmul2DCase(c, s[0], s[1], s[2], tr[0], tr[1]) }})
		}
	}
	batched := []struct {
		name   string
		sa, sb []int
		ta, tb bool
	}{
		{"batch=3", []int{3, 7, 13}, []int{3, 13, 5}, false, false},
		{"batch=2x3,broadcast_b", []int{2, 3, 7, 13}, []int{13, 5}, false, false},
		{"batch=4,broadcast_a", []int{1, 7, 13}, []int{4, 13, 5}, false, false},
		{"batch=2x3,broadcast_both", []int{2, 1, 7, 13}, []int{1, 3, 13, 5}, false, false},
		{"batch=3,ta,tb", []int{3, 13, 7}, []int{3, 5, 13}, true, true},
		{"batch=2,tb,broadcast_b", []int{2, 33, 17}, []int{9, 17}, false, true},
	}
	for _, bc := range batched {
		cs = append(cs, testCase{bc.name, func(c *ctx) { matmulBatchedCase(c, bc.sa, bc.sb, bc.ta, bc.tb) }})
	}
	cs = append(cs,
		testCase{"transposed_views,batch=2", matmulViewCase},
		testCase{"alpha=0.5,beta=1", matmulAccumulateCase},
	)
	// Shapes of the tilings: enough 128x128 tiles for the large tiling, and
	// long-K products (aligned and ragged) that a GPU splits along K.
	for _, bc := range []struct {
		name   string
		sa, sb []int
		ta, tb bool
	}{
		{"large_tiles,batch=32,m=129,k=12,n=130", []int{32, 129, 12}, []int{32, 12, 130}, false, false},
		{"long_k,ta,m=72,k=1100,n=68", []int{1100, 72}, []int{1100, 68}, true, false},
		{"long_k,tb,m=65,k=1037,n=33", []int{65, 1037}, []int{33, 1037}, false, true},
	} {
		cs = append(cs, testCase{bc.name, func(c *ctx) { matmulBatchedCase(c, bc.sa, bc.sb, bc.ta, bc.tb) }})
	}
	for act := range tensor.NumActivations {
		e := matmulEpilogue{alpha: 1.5, beta: -0.5, bias: true, act: act}
		cs = append(cs, testCase{fmt.Sprintf("epilogue,beta=-0.5,bias,act=%s", act), func(c *ctx) { matmulEpilogueCase(c, 13, 31, 7, e) }})
	}
	cs = append(cs,
		testCase{"epilogue,beta=0,bias", func(c *ctx) {
			matmulEpilogueCase(c, 33, 17, 65, matmulEpilogue{alpha: 1, bias: true})
		}},
		testCase{"matmul_bias,linear,m=37,k=70,n=33", func(c *ctx) { matmulBiasCase(c, []int{37, 70}, []int{33, 70}, tensor.ActNone) }},
		testCase{"matmul_bias,batched,strided_bias,act=silu", func(c *ctx) { matmulBiasCase(c, []int{3, 9, 20}, []int{17, 20}, tensor.ActSilu) }},
		testCase{"matmul_bias,k=0,act=relu", func(c *ctx) { matmulBiasCase(c, []int{4, 0}, []int{6, 0}, tensor.ActRelu) }},
		testCase{"epilogue,long_k,ta,beta=2,bias,act=gelu_tanh", func(c *ctx) {
			matmulEpilogueCase(c, 40, 1200, 36, matmulEpilogue{alpha: 0.25, beta: 2, bias: true, act: tensor.ActGeluTanh, ta: true})
		}},
	)
	return append(cs, matmulRowSumsCases()...)
}

// matmul64 multiplies on the host: a is [batch, m, k] (or [batch, k, m]
// when ta), b is [batch, k, n] (or [batch, n, k] when tb), batch strides
// sa and sb (0 broadcasts).
func matmul64(a, b []float64, batch, m, k, n, sa, sb int, ta, tb bool) []float64 {
	out := make([]float64, batch*m*n)
	for p := range batch {
		for i := range m {
			for j := range n {
				var s float64
				for l := range k {
					ai, bi := i*k+l, l*n+j
					if ta {
						ai = l*m + i
					}
					if tb {
						bi = j*k + l
					}
					s += a[p*sa+ai] * b[p*sb+bi]
				}
				out[(p*m+i)*n+j] = s
			}
		}
	}
	return out
}

func matmul2DCase(c *ctx, m, k, n int, ta, tb bool) {
	sa, sb := []int{m, k}, []int{k, n}
	if ta {
		sa = []int{k, m}
	}
	if tb {
		sb = []int{n, k}
	}
	a, b := c.randn(1, sa...), c.randn(2, sb...)
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		return []*tensor.Tensor{tensor.MatMul(in[0], in[1], ta, tb)}
	}, a, b)
	c.near("c", got[0], want[0], tolFP32)
	c.near64("c/vs_float64", got[0], matmul64(c.read64(a.ref), c.read64(b.ref), 1, m, k, n, 0, 0, ta, tb), tolF64)
}

func matmulBatchedCase(c *ctx, sa, sb []int, ta, tb bool) {
	a, b := c.randn(1, sa...), c.randn(2, sb...)
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		return []*tensor.Tensor{tensor.MatMul(in[0], in[1], ta, tb)}
	}, a, b)
	c.near("c", got[0], want[0], tolFP32)
	// The host reference expands both operands to the full batch first.
	oshape := want[0].Shape()
	batch := 1
	for _, d := range oshape[:len(oshape)-2] {
		batch *= d
	}
	expand := func(x *tensor.Tensor) []float64 {
		s := x.Shape()
		full := append(append([]int{}, oshape[:len(oshape)-2]...), s[len(s)-2:]...)
		e := x.Expand(full...)
		return c.read64(e)
	}
	m, n := oshape[len(oshape)-2], oshape[len(oshape)-1]
	k := sa[len(sa)-1]
	if ta {
		k = sa[len(sa)-2]
	}
	ref := matmul64(expand(a.ref), expand(b.ref), batch, m, k, n, m*k, k*n, ta, tb)
	c.near64("c/vs_float64", got[0], ref, tolF64)
}

// matmulViewCase passes transposed views of batched operands, which the
// tensor layer turns into transpose flags without copying.
func matmulViewCase(c *ctx) {
	tr := func(x *tensor.Tensor) *tensor.Tensor { return x.Transpose(-1, -2) }
	a := c.view(c.randn(1, 2, 13, 7), tr) // [2, 7, 13]
	b := c.view(c.randn(2, 2, 5, 13), tr) // [2, 13, 5]
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		return []*tensor.Tensor{tensor.MatMul(in[0], in[1], false, false)}
	}, a, b)
	c.near("c", got[0], want[0], tolFP32)
	ref := matmul64(c.read64(a.ref), c.read64(b.ref), 2, 7, 13, 5, 7*13, 13*5, false, false)
	c.near64("c/vs_float64", got[0], ref, tolF64)
}

// matmulAccumulateCase calls the kernel directly with alpha 0.5 and beta 1,
// as gradient accumulation does.
func matmulAccumulateCase(c *ctx) {
	const m, k, n = 13, 31, 7
	a, b, c0 := c.randn(1, 2, m, k), c.randn(2, k, n), c.randn(3, 2, m, n)
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		out := in[2].Clone()
		in[0].Backend().MatMul(tensor.MatMulArgs{
			Batch: 2, M: m, N: n, K: k,
			A: in[0].Span(), B: in[1].Span(), C: out.Span(),
			StrideA: m * k, StrideB: 0, StrideC: m * n,
			Alpha: 0.5, Beta: 1,
		})
		return []*tensor.Tensor{out}
	}, a, b, c0)
	c.near("c", got[0], want[0], tolFP32)
	ref := matmul64(c.read64(a.ref), c.read64(b.ref), 2, m, k, n, m*k, 0, false, false)
	for i, v := range c.read64(c0.ref) {
		ref[i] = 0.5*ref[i] + v
	}
	c.near64("c/vs_float64", got[0], ref, tolF64)
}

// matmulEpilogue is the epilogue of a direct kernel call.
type matmulEpilogue struct {
	alpha, beta float32
	bias        bool
	act         tensor.Activation
	ta          bool
}

// matmulEpilogueCase calls the kernel directly with a batch of 2: C =
// act(alpha·A·B + beta·C + bias), C starting from random values.
func matmulEpilogueCase(c *ctx, m, k, n int, e matmulEpilogue) {
	sa := []int{2, m, k}
	if e.ta {
		sa = []int{2, k, m}
	}
	a, b, c0, bias := c.randn(1, sa...), c.randn(2, k, n), c.randn(3, 2, m, n), c.randn(4, n)
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		out := in[2].Clone()
		args := tensor.MatMulArgs{
			Batch: 2, M: m, N: n, K: k, TransA: e.ta,
			A: in[0].Span(), B: in[1].Span(), C: out.Span(),
			StrideA: m * k, StrideB: 0, StrideC: m * n,
			Alpha: e.alpha, Beta: e.beta, Act: e.act,
		}
		if e.bias {
			args.Bias = in[3].Span()
		}
		in[0].Backend().MatMul(args)
		return []*tensor.Tensor{out}
	}, a, b, c0, bias)
	c.near("c", got[0], want[0], tolFP32)
	ref := matmul64(c.read64(a.ref), c.read64(b.ref), 2, m, k, n, m*k, 0, e.ta, false)
	cs, bs := c.read64(c0.ref), c.read64(bias.ref)
	op, act := e.act.UnaryOp()
	for i := range ref {
		v := float64(e.alpha)*ref[i] + float64(e.beta)*cs[i]
		if e.bias {
			v += bs[i%n]
		}
		if act {
			v = unary64(op, v, 0, 0)
		}
		ref[i] = v
	}
	c.near64("c/vs_float64", got[0], ref, tolF64)
}

// matmulBiasCase checks tensor.MatMulBias (a·bᵀ + bias, then act, the
// bias a strided view) against the CPU backend and against MatMul
// followed by the separate bias add and activation on the same device,
// which must give the same float32 values without an activation.
func matmulBiasCase(c *ctx, sa, sb []int, act tensor.Activation) {
	n := sb[0]
	a, b, wide := c.randn(120, sa...), c.randn(121, sb...), c.randn(122, n, 2)
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		bias := in[2].Narrow(1, 1, 1).Reshape(n) // every other element: strided
		fused := tensor.MatMulBias(in[0], in[1], bias, false, true, act)
		sep := tensor.Add(tensor.MatMul(in[0], in[1], false, true), bias)
		if op, ok := act.UnaryOp(); ok {
			sep = tensor.Unary(op, sep, 0, 0)
		}
		return []*tensor.Tensor{fused, sep}
	}, a, b, wide)
	c.near("fused", got[0], want[0], tolFP32)
	tol := 0.0 // the same rounding, unless the activation compiles differently
	if act != tensor.ActNone {
		tol = tolFP32
	}
	c.near("fused_vs_separate", got[0], got[1], tol)
}
