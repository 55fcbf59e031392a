package autograd

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"sargo/tensor"
)

func TestUnaryOps(t *testing.T) {
	sigmoid := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	cases := []struct {
		name  string
		op    func(g *Graph, x *Var) *Var
		ref   func(x float64) float64
		input func(seed uint64, n int) []float64
	}{
		{"Neg", (*Graph).Neg, func(x float64) float64 { return -x }, nil},
		{"Exp", (*Graph).Exp, math.Exp, nil},
		{"Log", (*Graph).Log, math.Log, positive},
		{"Sqrt", (*Graph).Sqrt, math.Sqrt, positive},
		{"Rsqrt", (*Graph).Rsqrt, func(x float64) float64 { return 1 / math.Sqrt(x) }, positive},
		{"Square", (*Graph).Square, func(x float64) float64 { return x * x }, nil},
		{"Abs", (*Graph).Abs, math.Abs, awayFromZero},
		{"Tanh", (*Graph).Tanh, math.Tanh, nil},
		{"Sigmoid", (*Graph).Sigmoid, sigmoid, nil},
		{"Relu", (*Graph).Relu, func(x float64) float64 { return math.Max(x, 0) }, awayFromZero},
		{"Silu", (*Graph).Silu, func(x float64) float64 { return x * sigmoid(x) }, nil},
		{"GeluErf", func(g *Graph, x *Var) *Var { return g.Gelu(x, false) },
			func(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) }, nil},
		{"GeluTanh", func(g *Graph, x *Var) *Var { return g.Gelu(x, true) },
			func(x float64) float64 {
				return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
			}, nil},
		{"Pow2.5", func(g *Graph, x *Var) *Var { return g.Pow(x, 2.5) },
			func(x float64) float64 { return math.Pow(x, 2.5) }, positive},
		{"Pow3", func(g *Graph, x *Var) *Var { return g.Pow(x, 3) },
			func(x float64) float64 { return x * x * x }, nil},
		{"Clamp", func(g *Graph, x *Var) *Var { return g.Clamp(x, -0.5, 0.5) },
			func(x float64) float64 { return math.Min(math.Max(x, -0.5), 0.5) }, awayFromHalf},
		{"Scale", func(g *Graph, x *Var) *Var { return g.Scale(x, -1.5) },
			func(x float64) float64 { return -1.5 * x }, nil},
		{"AddScalar", func(g *Graph, x *Var) *Var { return g.AddScalar(x, 0.75) },
			func(x float64) float64 { return x + 0.75 }, nil},
	}
	shapes := [][]int{{1}, {3}, {7, 13}, {3, 1, 7}}
	for ci, c := range cases {
		for si, shape := range shapes {
			t.Run(c.name, func(t *testing.T) {
				n := numel(shape)
				seed := uint64(100*ci + si)
				var in []float64
				if c.input != nil {
					in = c.input(seed, n)
				} else {
					in = randVals(seed, n, -2, 2)
				}
				want := make([]float64, n)
				for i, v := range in {
					want[i] = c.ref(v)
				}
				x := tens(in, shape...)
				requireClose(t, want, shape, c.op(nil, Const(x)).Value, 1e-5, 1e-5)
				checkGrad(t, func(g *Graph, xs []*Var) *Var { return c.op(g, xs[0]) }, x)
			})
		}
	}
}

// positive returns n values in [0.5, 2).
func positive(seed uint64, n int) []float64 { return randVals(seed, n, 0.5, 2) }

// awayFromHalf returns n values in [-1, 1) at least 0.05 away from ±0.5.
func awayFromHalf(seed uint64, n int) []float64 {
	v := randVals(seed, n, -1, 1)
	for i, x := range v {
		if math.Abs(math.Abs(x)-0.5) < 0.05 {
			v[i] = x * 0.5
		}
	}
	return v
}

func TestBinaryOps(t *testing.T) {
	cases := []struct {
		name string
		op   func(g *Graph, a, b *Var) *Var
		ref  func(a, b float64) float64
	}{
		{"Add", (*Graph).Add, func(a, b float64) float64 { return a + b }},
		{"Sub", (*Graph).Sub, func(a, b float64) float64 { return a - b }},
		{"Mul", (*Graph).Mul, func(a, b float64) float64 { return a * b }},
		{"Div", (*Graph).Div, func(a, b float64) float64 { return a / b }},
	}
	shapes := []struct{ a, b []int }{
		{[]int{1}, []int{1}},
		{[]int{7}, []int{7}},
		{[]int{3, 7}, []int{7}},
		{[]int{3, 1}, []int{1, 13}},
		{[]int{1}, []int{3, 7}},
		{[]int{7, 1, 3}, []int{13, 1}},
		{[]int{}, []int{3}},
	}
	for ci, c := range cases {
		for si, s := range shapes {
			t.Run(c.name, func(t *testing.T) {
				seed := uint64(10*ci + si)
				// Divisors stay in [0.5, 2) so the quotient is smooth.
				av := randVals(seed, numel(s.a), -2, 2)
				bv := randVals(seed+1000, numel(s.b), 0.5, 2)
				out := tensor.BroadcastShapes("test", s.a, s.b)
				want := make([]float64, numel(out))
				for i := range want {
					idx := unravel(i, out)
					want[i] = c.ref(av[bcastAt(idx, s.a)], bv[bcastAt(idx, s.b)])
				}
				a, b := tens(av, s.a...), tens(bv, s.b...)
				requireClose(t, want, out, c.op(nil, Const(a), Const(b)).Value, 1e-5, 1e-5)
				checkGrad(t, func(g *Graph, xs []*Var) *Var { return c.op(g, xs[0], xs[1]) }, a, b)
				// One operand constant: only the other one is differentiated.
				checkGrad(t, func(g *Graph, xs []*Var) *Var { return c.op(g, Const(a), xs[0]) }, b)
				checkGrad(t, func(g *Graph, xs []*Var) *Var { return c.op(g, xs[0], Const(b)) }, a)
			})
		}
	}
}

func TestWhere(t *testing.T) {
	cases := []struct{ cond, a, b []int }{
		{[]int{7}, []int{7}, []int{7}},
		{[]int{3, 7}, []int{7}, []int{3, 1}},
		{[]int{3, 1}, []int{3, 13}, []int{}},
	}
	for ci, c := range cases {
		out := tensor.BroadcastShapes("test", c.cond, c.a, c.b)
		cv := randVals(uint64(ci), numel(c.cond), 0, 1)
		for i := range cv {
			cv[i] = math.Round(cv[i])
		}
		av := randVals(uint64(ci)+10, numel(c.a), -1, 1)
		bv := randVals(uint64(ci)+20, numel(c.b), -1, 1)
		want := make([]float64, numel(out))
		for i := range want {
			idx := unravel(i, out)
			if cv[bcastAt(idx, c.cond)] != 0 {
				want[i] = av[bcastAt(idx, c.a)]
			} else {
				want[i] = bv[bcastAt(idx, c.b)]
			}
		}
		cond, a, b := tens(cv, c.cond...), tens(av, c.a...), tens(bv, c.b...)
		requireClose(t, want, out, NoGrad().Where(cond, Const(a), Const(b)).Value, 1e-7, 0)
		checkGrad(t, func(g *Graph, xs []*Var) *Var { return g.Where(cond, xs[0], xs[1]) }, a, b)
	}
}

func TestWhereGradientSplits(t *testing.T) {
	cond := tens([]float64{1, 0, 1}, 3)
	a, b := Param(tens([]float64{1, 2, 3}, 3)), Param(tens([]float64{4, 5, 6}, 3))
	g := newGraph(t)
	require.NoError(t, g.Backward(g.Sum(g.Where(cond, a, b), false)))
	require.Equal(t, []float32{1, 0, 1}, a.Grad.Data())
	require.Equal(t, []float32{0, 1, 0}, b.Grad.Data())
}

func TestKinkGradients(t *testing.T) {
	cases := []struct {
		name string
		op   func(g *Graph, x *Var) *Var
		x    []float64
		want []float32
	}{
		{"Relu", (*Graph).Relu, []float64{-1, 0, 2}, []float32{0, 0, 1}},
		{"Abs", (*Graph).Abs, []float64{-1, 0, 2}, []float32{-1, 0, 1}},
		{"Clamp", func(g *Graph, x *Var) *Var { return g.Clamp(x, -1, 1) },
			[]float64{-2, -1, 0, 1, 2}, []float32{0, 1, 1, 1, 0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := Param(tens(c.x, len(c.x)))
			g := newGraph(t)
			require.NoError(t, g.Backward(g.Sum(c.op(g, x), false)))
			require.Equal(t, c.want, x.Grad.Data())
		})
	}
}

// TestBroadcastLeafReadAgain covers the gradients of broadcast operands
// that are leaves read several times in one graph, which the second and
// later reads add into the leaf's gradient in their reduction's launch
// (tensor.SumToAddInto), plain (Add, MulAdd's c) and as products (Mul,
// MulAdd's b), with sums over one run of axes and over two (the unfused
// path), against finite differences.
func TestBroadcastLeafReadAgain(t *testing.T) {
	cases := []struct {
		name string
		x, p []int
	}{
		{"one_run", []int{2, 3, 5}, []int{2, 1, 5}},
		{"leading", []int{2, 3, 5}, []int{5}},
		{"two_runs", []int{2, 3, 5}, []int{1, 3, 1}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := randTensor(uint64(10+i), -1, 1, c.x...)
			p := randTensor(uint64(20+i), -1, 1, c.p...)
			q := randTensor(uint64(30+i), -1, 1, c.p...)
			checkGrad(t, func(g *Graph, xs []*Var) *Var {
				x, p, q := xs[0], xs[1], xs[2]
				y := g.MulAdd(x, p, q, 1)        // p and q alike: one launch
				y = g.Add(g.Mul(y, p), q)        // p and q again: added into their gradients
				y = g.MulAdd(y, q, p, 0)         // and again, the other way round
				return g.Sum(g.Mul(y, y), false) // a non-constant gradient
			}, x, p, q)
		})
	}
}

// TestMulAdd checks a·(b + alpha) + c against float64 and its gradients by
// finite differences, with each operand broadcast in turn.
func TestMulAdd(t *testing.T) {
	cases := []struct{ a, b, c []int }{
		{[]int{7}, []int{7}, []int{7}},
		{[]int{2, 3, 5}, []int{2, 1, 5}, []int{2, 1, 5}}, // AdaLN's modulation
		{[]int{3, 1}, []int{1, 5}, []int{3, 5}},
		{[]int{}, []int{3, 4}, []int{4}},
	}
	for ci, c := range cases {
		for _, alpha := range []float32{0, 1} {
			out := tensor.BroadcastShapes("test", c.a, c.b, c.c)
			av := randVals(uint64(ci), numel(c.a), -2, 2)
			bv := randVals(uint64(ci)+100, numel(c.b), -2, 2)
			cv := randVals(uint64(ci)+200, numel(c.c), -2, 2)
			want := make([]float64, numel(out))
			for i := range want {
				idx := unravel(i, out)
				want[i] = av[bcastAt(idx, c.a)]*(bv[bcastAt(idx, c.b)]+float64(alpha)) + cv[bcastAt(idx, c.c)]
			}
			a, b, cc := tens(av, c.a...), tens(bv, c.b...), tens(cv, c.c...)
			requireClose(t, want, out, (*Graph)(nil).MulAdd(Const(a), Const(b), Const(cc), alpha).Value, 1e-5, 1e-5)
			checkGrad(t, func(g *Graph, xs []*Var) *Var { return g.MulAdd(xs[0], xs[1], xs[2], alpha) }, a, b, cc)
			checkGrad(t, func(g *Graph, xs []*Var) *Var { return g.MulAdd(Const(a), xs[0], Const(cc), alpha) }, b)
		}
	}
}
