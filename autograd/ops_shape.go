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
	return g.recordStep("Reshape", y, reshapeBack, nil, x)
}

// reshapeBack is the backward of the operations that only reshape their
// input (Reshape, Squeeze, Unsqueeze): the output gradient in the input's
// shape.
func reshapeBack(g *Graph, n *node, gy *tensor.Tensor) []*tensor.Tensor {
	return g.grads(gy.ReshapeLike(n.inputs[0].Value))
}

// Permute reorders the axes: axis i of the result is axis perm[i] of x.
func (g *Graph) Permute(x *Var, perm ...int) *Var {
	y := x.Value.Permute(perm...)
	var s saved
	if len(perm) > len(s.i) {
		inv := make([]int, len(perm))
		for i, p := range perm {
			inv[normAxis("Permute", p, len(perm))] = i
		}
		return g.record("Permute", y, func(gy *tensor.Tensor) []*tensor.Tensor {
			return g.grads(gy.Permute(inv...))
		}, x)
	}
	for i, p := range perm {
		s.i[normAxis("Permute", p, len(perm))] = i
	}
	return g.recordStep("Permute", y, permuteBack, &s, x)
}

// permuteBack is Permute's backward: the output gradient permuted by the
// inverse permutation, saved in n.saved.i.
func permuteBack(g *Graph, n *node, gy *tensor.Tensor) []*tensor.Tensor {
	return g.grads(gy.Permute(n.saved.i[:gy.Rank()]...))
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
	return g.recordStep("Squeeze", y, reshapeBack, nil, x)
}

// Unsqueeze inserts a size-1 axis at position axis.
func (g *Graph) Unsqueeze(x *Var, axis int) *Var {
	y := x.Value.Unsqueeze(axis)
	return g.recordStep("Unsqueeze", y, reshapeBack, nil, x)
}

// values returns the Value of each Var.
func values(vs []*Var) []*tensor.Tensor {
	ts := make([]*tensor.Tensor, len(vs))
	for i, v := range vs {
		ts[i] = v.Value
	}
	return ts
}

// Concat joins vs along axis; every other axis must match. Its gradients
// are windows of the output gradient: views where the engine can take
// them as they are, and, where two or more would be copied (views that
// are not contiguous, or that a leaf would keep), copies made in one
// launch (tensor.SplitCopies).
func (g *Graph) Concat(axis int, vs ...*Var) *Var {
	var td [8]*tensor.Tensor
	ts := td[:0]
	for _, v := range vs {
		ts = append(ts, v.Value)
	}
	y := tensor.Concat(axis, ts...)
	axis = normAxis("Concat", axis, y.Rank())
	return g.recordStep("Concat", y, concatBack, &saved{i: [6]int{axis}}, vs...)
}

// concatBack is Concat's backward; n.saved.i[0] is the axis.
func concatBack(g *Graph, n *node, gy *tensor.Tensor) []*tensor.Tensor {
	axis := n.saved.i[0]
	out := g.gradSlots(len(n.inputs))
	var cd, sd, ld [8]int
	copied, starts, lengths := cd[:0], sd[:0], ld[:0]
	at := 0
	for i, v := range n.inputs {
		size := v.Value.Dim(axis)
		if v.requiresGrad {
			out[i] = gy.Narrow(axis, at, size)
			if !out[i].IsContiguous() || (v.leaf && !out[i].IsWhole()) {
				copied = append(copied, i)
				starts, lengths = append(starts, at), append(lengths, size)
			}
		}
		at += size
	}
	if len(copied) < 2 || !gy.IsContiguous() {
		return out
	}
	var cs [8]*tensor.Tensor
	for j, c := range tensor.AppendSplitCopies(cs[:0], gy, axis, starts, lengths) {
		out[copied[j]].Release()
		out[copied[j]] = c
	}
	return out
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
		panic(fmt.Sprintf("autograd: Split: sizes %v do not add up to axis %d of shape %v", slices.Clone(sizes), axis, x.Value.Shape()))
	}
	out := g.varSlice(len(sizes))
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
	var sd [8]int
	sizes := sd[:0]
	for range n {
		sizes = append(sizes, d/n)
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
