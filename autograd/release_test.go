package autograd

import (
	"runtime/debug"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"sargo/tensor"
)

// countingBackend wraps a backend and counts storage allocations and
// frees, to check that Backward releases what it allocates.
type countingBackend struct {
	tensor.Backend
	allocs, frees atomic.Int64
}

func (c *countingBackend) Alloc(n int) tensor.Storage {
	c.allocs.Add(1)
	return c.Backend.Alloc(n)
}

func (c *countingBackend) Free(s tensor.Storage) {
	c.frees.Add(1)
	c.Backend.Free(s)
}

// live is the number of storages allocated and not yet freed.
func (c *countingBackend) live() int64 { return c.allocs.Load() - c.frees.Load() }

func TestBackwardReleasesIntermediateGradients(t *testing.T) {
	// With the collector off, storages are freed only by Release, so every
	// intermediate gradient Backward does not release stays counted.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
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
			be := &countingBackend{Backend: dev()}
			x := Param(tensor.FromSlice(be, make([]float32, 21), 3, 7))
			b := Param(tensor.FromSlice(be, make([]float32, 7), 7))
			g := NewGraph()
			loss := c.build(g, x, b)
			before := be.live()
			require.NoError(t, g.Backward(loss))
			require.Equal(t, c.grads, be.live()-before)
		})
	}
}
