package autograd

import (
	"fmt"
	"slices"

	"sargo/tensor"
)

// Shape operations. Forward results are views where the tensor package
// gives views; gradients are views of the output gradient where possible
// and are made contiguous before they are accumulated.

// Reshape gives x a new shape with the same number of elements; one axis
// may be -1.
func (g *Graph) Reshape(x *Var, shape ...int) *Var {
	y := x.Value.Reshape(shape...)
	return g.record("Reshape", y, func(gy *tensor.Tensor) []*tensor.Tensor {
		return g.grads(gy.ReshapeLike(x.Value))
	}, x)
}

// Permute reorders the axes: axis i of the result is axis perm[i] of x.
func (g *Graph) Permute(x *Var, perm ...int) *Var {
	y := x.Value.Permute(perm...)
	inv := make([]int, len(perm))
	for i, p := range perm {
		inv[normAxis("Permute", p, len(perm))] = i
	}
	return g.record("Permute", y, func(gy *tensor.Tensor) []*tensor.Tensor {
		return g.grads(gy.Permute(inv...))
	}, x)
}

// Transpose swaps axes i and j.
func (g *Graph) Transpose(x *Var, i, j int) *Var {
	y := x.Value.Transpose(i, j)
	return g.record("Transpose", y, func(gy *tensor.Tensor) []*tensor.Tensor {
		return g.grads(gy.Transpose(i, j))
	}, x)
}

// Narrow selects [start, start+length) along axis. Its gradient is the
// output gradient in that window and zero elsewhere; the engine writes it
// into x's gradient buffer in place (see window), so the pieces of a Split
// share one buffer.
func (g *Graph) Narrow(x *Var, axis, start, length int) *Var {
	y := x.Value.Narrow(axis, start, length)
	axis = normAxis("Narrow", axis, x.Value.Rank())
	return g.recordWindow("Narrow", y, window{axis: axis, start: start, length: length}, x)
}

// Expand broadcasts size-1 axes (and new leading axes) of x to shape
// without copying; the gradient is summed back.
func (g *Graph) Expand(x *Var, shape ...int) *Var {
	xs := x.Value.Shape()
	y := x.Value.Expand(shape...)
	return g.record("Expand", y, func(gy *tensor.Tensor) []*tensor.Tensor {
		return g.grads(tensor.SumTo(gy, xs))
	}, x)
}

// Squeeze removes the given size-1 axes, or every size-1 axis when none is
// given.
func (g *Graph) Squeeze(x *Var, axes ...int) *Var {
	y := x.Value.Squeeze(axes...)
	return g.record("Squeeze", y, func(gy *tensor.Tensor) []*tensor.Tensor {
		return g.grads(gy.ReshapeLike(x.Value))
	}, x)
}

// Unsqueeze inserts a size-1 axis at position axis.
func (g *Graph) Unsqueeze(x *Var, axis int) *Var {
	y := x.Value.Unsqueeze(axis)
	return g.record("Unsqueeze", y, func(gy *tensor.Tensor) []*tensor.Tensor {
		return g.grads(gy.ReshapeLike(x.Value))
	}, x)
}

// values returns the Value of each Var.
func values(vs []*Var) []*tensor.Tensor {
	ts := make([]*tensor.Tensor, len(vs))
	for i, v := range vs {
		ts[i] = v.Value
	}
	return ts
}

// Concat joins vs along axis; every other axis must match.
func (g *Graph) Concat(axis int, vs ...*Var) *Var {
	y := tensor.Concat(axis, values(vs)...)
	axis = normAxis("Concat", axis, y.Rank())
	sizes := make([]int, len(vs))
	for i, v := range vs {
		sizes[i] = v.Value.Dim(axis)
	}
	return g.record("Concat", y, func(gy *tensor.Tensor) []*tensor.Tensor {
		out := make([]*tensor.Tensor, len(vs))
		at := 0
		for i, v := range vs {
			if v.requiresGrad {
				out[i] = gy.Narrow(axis, at, sizes[i])
			}
			at += sizes[i]
		}
		return out
	}, vs...)
}

// Stack joins same-shape vs along a new axis.
func (g *Graph) Stack(axis int, vs ...*Var) *Var {
	y := tensor.Stack(axis, values(vs)...)
	axis = normAxis("Stack", axis, y.Rank())
	return g.record("Stack", y, func(gy *tensor.Tensor) []*tensor.Tensor {
		out := make([]*tensor.Tensor, len(vs))
		for i, v := range vs {
			if v.requiresGrad {
				out[i] = gy.Narrow(axis, i, 1).Squeeze(axis)
			}
		}
		return out
	}, vs...)
}

// Split cuts x along axis into pieces of the given sizes, which must add
// up to the axis. Each piece is a Narrow of x.
func (g *Graph) Split(x *Var, axis int, sizes ...int) []*Var {
	axis = normAxis("Split", axis, x.Value.Rank())
	total := 0
	for _, s := range sizes {
		total += s
	}
	if total != x.Value.Dim(axis) {
		panic(fmt.Sprintf("autograd: Split: sizes %v do not add up to axis %d of shape %v", sizes, axis, x.Value.Shape()))
	}
	out := make([]*Var, len(sizes))
	at := 0
	for i, s := range sizes {
		out[i] = g.Narrow(x, axis, at, s)
		at += s
	}
	return out
}

// Chunk splits x along axis into n equal pieces.
func (g *Graph) Chunk(x *Var, axis, n int) []*Var {
	d := x.Value.Dim(axis)
	if n <= 0 || d%n != 0 {
		panic(fmt.Sprintf("autograd: Chunk: axis %d of shape %v does not split into %d", axis, x.Value.Shape(), n))
	}
	sizes := make([]int, n)
	for i := range sizes {
		sizes[i] = d / n
	}
	return g.Split(x, axis, sizes...)
}

// Pad adds before[i] and after[i] elements of value around axis i.
func (g *Graph) Pad(x *Var, before, after []int, value float32) *Var {
	xs := x.Value.Shape()
	y := tensor.Pad(x.Value, before, after, value)
	before = slices.Clone(before)
	return g.record("Pad", y, func(gy *tensor.Tensor) []*tensor.Tensor {
		in := gy
		for i := range xs {
			in = in.Narrow(i, before[i], xs[i])
		}
		return g.grads(in)
	}, x)
}
