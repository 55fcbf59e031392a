package autograd

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/tensor"
)

// sumSquares records sum(x²) on g.
func sumSquares(g *Graph, x *Var) *Var { return g.Sum(g.Mul(x, x), false) }

func TestVarBasics(t *testing.T) {
	x := tens([]float64{1, 2, 3}, 3)
	p, c := Param(x), Const(x)
	assert.True(t, p.RequiresGrad())
	assert.False(t, c.RequiresGrad())
	assert.True(t, p.IsLeaf())
	d := p.Detach()
	assert.False(t, d.RequiresGrad())
	assert.Same(t, p.Value, d.Value)
	assert.Equal(t, []int{3}, p.Shape())
	assert.Equal(t, "w", p.SetName("w").Name)
	assert.Contains(t, p.String(), "w[3]")
	var nilVar *Var
	assert.False(t, nilVar.RequiresGrad())
}

func TestGraphConst(t *testing.T) {
	x := tens([]float64{1, 2, 3}, 3)
	for _, tc := range []struct {
		name string
		g    *Graph
	}{{"graph", newGraph(t)}, {"no-grad", nil}} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.g.Const(x)
			assert.Same(t, x, c.Value)
			assert.True(t, c.IsLeaf())
			assert.False(t, c.RequiresGrad())
			p := Param(tens([]float64{4, 5, 6}, 3))
			y := tc.g.Mul(p, c)
			if tc.g == nil {
				return
			}
			require.NoError(t, tc.g.Backward(tc.g.Sum(y, false)))
			assert.Equal(t, []float32{1, 2, 3}, p.Grad.Data())
			assert.Nil(t, c.Grad, "a constant gets no gradient")
		})
	}
}

func TestBackwardSemantics(t *testing.T) {
	cases := []struct {
		name  string
		run   func(t *testing.T, x *Var) // builds and runs one or more passes on Param x
		wantG []float32
	}{
		{"shared input used twice", func(t *testing.T, x *Var) {
			g := newGraph(t)
			require.NoError(t, g.Backward(sumSquares(g, x)))
		}, []float32{2, 4, 6}},
		{"same input on both sides of Add", func(t *testing.T, x *Var) {
			g := newGraph(t)
			require.NoError(t, g.Backward(g.Sum(g.Add(x, x), false)))
		}, []float32{2, 2, 2}},
		{"accumulates across Backward calls", func(t *testing.T, x *Var) {
			for range 2 {
				g := newGraph(t)
				require.NoError(t, g.Backward(sumSquares(g, x)))
			}
		}, []float32{4, 8, 12}},
		{"ZeroGrad restarts accumulation", func(t *testing.T, x *Var) {
			g := newGraph(t)
			require.NoError(t, g.Backward(sumSquares(g, x)))
			x.ZeroGrad()
			require.Nil(t, x.Grad)
			g = newGraph(t)
			require.NoError(t, g.Backward(g.Sum(x, false)))
		}, []float32{1, 1, 1}},
		{"Detach blocks gradient", func(t *testing.T, x *Var) {
			g := newGraph(t)
			require.NoError(t, g.Backward(g.Sum(g.Mul(x, x.Detach()), false)))
		}, []float32{1, 2, 3}},
		{"Const branch gets no gradient", func(t *testing.T, x *Var) {
			g := newGraph(t)
			c := Const(tens([]float64{5, 5, 5}, 3))
			require.NoError(t, g.Backward(g.Sum(g.Mul(x, g.Exp(c)), false)))
		}, nil}, // checked below against e^5
		{"diamond through intermediates", func(t *testing.T, x *Var) {
			g := newGraph(t)
			h := g.Scale(x, 2)
			a, b := g.Mul(h, x), g.Add(h, h) // 2x², 4x
			require.NoError(t, g.Backward(g.Sum(g.Add(a, b), false)))
		}, []float32{8, 12, 16}}, // 4x + 4
		{"Narrow adds into an existing Grad", func(t *testing.T, x *Var) {
			for range 2 {
				g := newGraph(t)
				require.NoError(t, g.Backward(g.Sum(g.Narrow(x, 0, 1, 2), false)))
			}
		}, []float32{0, 2, 2}},
		{"overlapping Narrows of an intermediate", func(t *testing.T, x *Var) {
			g := newGraph(t)
			y := g.Scale(x, 2)
			s := g.Add(g.Sum(g.Narrow(y, 0, 0, 2), false), g.Sum(g.Narrow(y, 0, 1, 2), false))
			require.NoError(t, g.Backward(g.Add(s, g.Sum(y, false))))
		}, []float32{4, 6, 4}},
		{"residual Add passes the gradient on", func(t *testing.T, x *Var) {
			g := newGraph(t)
			h := g.Add(x, g.Square(x)) // x + x²
			require.NoError(t, g.Backward(g.Sum(g.Add(h, h), false)))
		}, []float32{6, 10, 14}}, // 2(1 + 2x)
		{"Backward on a leaf", func(t *testing.T, x *Var) {
			g := newGraph(t)
			require.NoError(t, g.BackwardWith(x, tens([]float64{1, 2, 3}, 3)))
		}, []float32{1, 2, 3}},
		{"BackwardWith seeds a non-scalar output", func(t *testing.T, x *Var) {
			g := newGraph(t)
			seed := tens([]float64{1, 0, -1}, 3)
			require.NoError(t, g.BackwardWith(g.Scale(x, 3), seed))
			require.Equal(t, []float32{1, 0, -1}, seed.Data(), "seed not modified")
		}, []float32{3, 0, -3}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := Param(tens([]float64{1, 2, 3}, 3))
			c.run(t, x)
			require.NotNil(t, x.Grad)
			if c.wantG == nil {
				e5 := float32(148.41316)
				require.InDeltaSlice(t, []float32{e5, e5, e5}, x.Grad.Data(), 1e-3)
				return
			}
			require.Equal(t, c.wantG, x.Grad.Data())
		})
	}
}

func TestBroadcastGradientReduction(t *testing.T) {
	cases := []struct {
		name         string
		aShape       []int
		bShape       []int
		wantA, wantB []float32
	}{
		{"row vector", []int{2, 3}, []int{3}, []float32{1, 1, 1, 1, 1, 1}, []float32{2, 2, 2}},
		{"column and row", []int{2, 1}, []int{1, 3}, []float32{3, 3}, []float32{2, 2, 2}},
		{"scalar", []int{}, []int{2, 3}, []float32{6}, []float32{1, 1, 1, 1, 1, 1}},
		{"leading unit axis", []int{1, 2, 3}, []int{2, 2, 3}, []float32{2, 2, 2, 2, 2, 2}, []float32{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := Param(tensor.Ones(dev(), c.aShape...))
			b := Param(tensor.Ones(dev(), c.bShape...))
			g := newGraph(t)
			require.NoError(t, g.Backward(g.Sum(g.Add(a, b), false)))
			assert.Equal(t, c.aShape, a.Grad.Shape())
			assert.Equal(t, c.bShape, b.Grad.Shape())
			assert.Equal(t, c.wantA, a.Grad.Data())
			assert.Equal(t, c.wantB, b.Grad.Data())
		})
	}
}

func TestNoGradRecordsNothing(t *testing.T) {
	x := Param(tens([]float64{1, 2, 3}, 3))
	var g *Graph
	require.Nil(t, NoGrad())
	y := sumSquares(g, x)
	assert.InDelta(t, 14, y.Value.Item(), 1e-6)
	assert.False(t, y.RequiresGrad())
	assert.Equal(t, 0, g.Nodes())
	require.ErrorContains(t, g.Backward(y), "nil")
	assert.Nil(t, x.Grad)

	// On a real graph, operations on constants record nothing either.
	g2 := newGraph(t)
	c := g2.Exp(Const(tens([]float64{1}, 1)))
	assert.False(t, c.RequiresGrad())
	assert.Equal(t, 0, g2.Nodes())
}

func TestTapeFreedAfterBackward(t *testing.T) {
	x := Param(tens([]float64{1, 2, 3}, 3))
	g := newGraph(t)
	loss := sumSquares(g, x)
	assert.Equal(t, 2, g.Nodes())
	require.NoError(t, g.Backward(loss))
	assert.Equal(t, 0, g.Nodes())
	require.ErrorContains(t, g.Backward(loss), "twice")
	assert.Equal(t, []float32{2, 4, 6}, x.Grad.Data(), "a failed Backward leaves Grad alone")
	assert.Panics(t, func() { g.Exp(x) }, "recording on a spent graph")
}

func TestBackwardErrors(t *testing.T) {
	x := Param(tens([]float64{1, 2, 3}, 3))
	cases := []struct {
		name string
		run  func() error
		want string
	}{
		{"non-scalar loss", func() error { g := newGraph(t); return g.Backward(g.Exp(x)) }, "3 elements"},
		{"loss without parameters", func() error {
			g := newGraph(t)
			return g.Backward(g.Sum(Const(tens([]float64{1}, 1)), false))
		}, "does not require"},
		{"loss from another graph", func() error {
			loss := sumSquares(newGraph(t), x)
			return newGraph(t).Backward(loss)
		}, "another graph"},
		{"gradient shape mismatch", func() error {
			g := newGraph(t)
			return g.BackwardWith(g.Exp(x), tens([]float64{1, 2}, 2))
		}, "shape"},
		{"nil loss", func() error { return newGraph(t).Backward(nil) }, "nil"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.ErrorContains(t, c.run(), c.want)
		})
	}
	assert.Nil(t, x.Grad)
}

func TestMixingGraphsPanics(t *testing.T) {
	x := Param(tens([]float64{1, 2, 3}, 3))
	h := newGraph(t).Exp(x)
	g2 := newGraph(t)
	assert.Panics(t, func() { g2.Exp(h) })
	// A detached intermediate may be used anywhere.
	assert.NotPanics(t, func() { g2.Exp(h.Detach()) })
}

func TestGradientsAreContiguous(t *testing.T) {
	// Transpose and Narrow produce strided gradient views; what reaches Grad
	// is contiguous and has the parameter's shape.
	x := Param(randTensor(1, -1, 1, 3, 7))
	g := newGraph(t)
	y := g.Narrow(g.Transpose(x, 0, 1), 0, 2, 4)
	require.NoError(t, g.Backward(g.Sum(g.Square(y), false)))
	require.True(t, x.Grad.IsContiguous())
	require.Equal(t, []int{3, 7}, x.Grad.Shape())
	xv, gv := read64(t, x.Value), read64(t, x.Grad)
	for i := range 3 {
		for j := range 7 {
			want := 0.0
			if j >= 2 && j < 6 {
				want = 2 * xv[i*7+j]
			}
			require.InDelta(t, want, gv[i*7+j], 1e-6)
		}
	}
}
