package autograd

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"sargo/tensor"
	"sargo/tensor/tensortest"
)

func TestBackwardReleasesIntermediateGradients(t *testing.T) {
	// Storages are freed only by Release and scopes: every intermediate
	// gradient Backward does not free stays counted until Close.
	cases := []struct {
		name  string
		build func(g *Graph, x, b *Var) *Var
		grads int64 // storages that outlive Backward: the new Grads
	}{
		{"elementwise chain", func(g *Graph, x, _ *Var) *Var {
			return g.Sum(g.Scale(g.Tanh(g.Exp(x)), 3), false)
		}, 1},
		{"broadcast, split and concat", func(g *Graph, x, b *Var) *Var {
			p := g.Split(g.Add(x, b), 1, 2, 5)
			return g.Sum(g.Concat(1, g.Square(p[1]), g.Sigmoid(p[0])), false)
		}, 2},
		{"reshape, transpose and mean", func(g *Graph, x, b *Var) *Var {
			y := g.Mul(g.Transpose(g.Reshape(x, 7, 3), 0, 1), g.Unsqueeze(g.Exp(g.Narrow(b, 0, 0, 3)), 1))
			return g.Mean(g.Square(y), false)
		}, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			be := dev()
			x := Param(tensor.FromSlice(be, make([]float32, 21), 3, 7))
			b := Param(tensor.FromSlice(be, make([]float32, 7), 7))
			defer x.Value.Release()
			defer b.Value.Release()
			tensortest.NoLeaks(t, be, func() {
				g := NewGraph(be)
				loss := c.build(g, x, b)
				before := be.MemStats().Live()
				require.NoError(t, g.Backward(loss))
				// The loss's seed and the gradients reach the leaves.
				require.Equal(t, c.grads+1, be.MemStats().Live()-before)
				g.Close()
				x.ZeroGrad()
				b.ZeroGrad()
			})
		})
	}
}

func TestScopeOpenInsideGraph(t *testing.T) {
	x := Param(tens([]float64{1, 2, 3}, 3))
	g := newGraph(t)
	loss := g.Sum(g.Exp(x), false)
	s := tensor.NewScope(dev())
	requirePanics(t, func() { g.Exp(x) }, "does not belong to the graph")
	y := g.Exp(Const(x.Value)) // records nothing: allowed, and s owns it
	require.ErrorContains(t, g.Backward(loss), "still open")
	s.Close()
	requirePanics(t, func() { y.Value.Data() }, "after its scope")
	require.NoError(t, g.Backward(loss))
	x.ZeroGrad()
}

func TestGraphCloseFreesEverything(t *testing.T) {
	be := dev()
	w := Param(randTensor(1, -1, 1, 4, 3))
	defer w.Value.Release()
	tensortest.NoLeaks(t, be, func() {
		g := NewGraph(be)
		defer g.Close()
		x := Const(randTensor(2, -1, 1, 5, 3))
		h := g.Gelu(g.Linear(x, w, nil), true)
		parts := g.Chunk(h, 1, 2)
		loss := g.Mean(g.Square(g.Sub(parts[0], parts[1])), false)
		require.NoError(t, g.Backward(loss))
		require.NotNil(t, w.Grad)
		w.ZeroGrad()
	})
}

// requirePanics fails unless f panics with a message containing msg.
func requirePanics(t *testing.T, f func(), msg string) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		require.NotNil(t, r, "expected a panic containing %q", msg)
		require.Contains(t, fmt.Sprint(r), msg)
	}()
	f()
}

func TestLeafGradientsAreWhole(t *testing.T) {
	// The pieces of a Concat's gradient are views of one storage; a leaf
	// gets a copy of its piece, not a view holding the whole.
	a, b := Param(tens([]float64{1, 2}, 2)), Param(tens([]float64{3, 4, 5}, 3))
	g := newGraph(t)
	require.NoError(t, g.Backward(g.Sum(g.Square(g.Concat(0, a, b)), false)))
	for _, p := range []*Var{a, b} {
		require.True(t, p.Grad.IsWhole(), "gradient %v", p.Grad)
	}
	require.Equal(t, []float32{2, 4}, a.Grad.Data())
	require.Equal(t, []float32{6, 8, 10}, b.Grad.Data())
}
