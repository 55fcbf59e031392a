package tensor

import (
	"fmt"
	"slices"
)

// Reductions over one or more axes. The backend kernel has a single
// [outer, n, inner] form: a run of adjacent axes reduces in one call (n
// their product), other sets of axes one run at a time.

// Reduce applies op over axis, keeping it as size 1 when keep is true.
func Reduce(op ReduceOp, x *Tensor, axis int, keep bool) *Tensor {
	axis = normAxis("Reduce "+op.String(), axis, len(x.shape))
	out := reduceRun(op, x, axis, axis+1)
	if !keep {
		sq := out.Squeeze(axis)
		out.Release()
		return sq
	}
	return out
}

// reduceRun applies op over the adjacent axes [lo, hi) of x, keeping them
// as size 1.
func reduceRun(op ReduceOp, x *Tensor, lo, hi int) *Tensor {
	c := x.Contiguous()
	outer, n, inner := numel(x.shape[:lo]), numel(x.shape[lo:hi]), numel(x.shape[hi:])
	if n == 0 && op != ReduceSum {
		panic(fmt.Sprintf("tensor: %s over empty axes %d..%d of shape %v", op, lo, hi-1, x.shape))
	}
	shape := cloneInts(x.shape)
	for i := lo; i < hi; i++ {
		shape[i] = 1
	}
	out := Empty(x.buf.b, shape...)
	if out.Size() > 0 {
		x.buf.b.Reduce(op, out.Span(), c.Span(), outer, n, inner)
	}
	if c != x {
		c.Release()
	}
	return out
}

// reduceAxes reduces over every listed axis (all axes when none).
func reduceAxes(op ReduceOp, x *Tensor, keep bool, axes []int) *Tensor {
	if len(axes) == 0 {
		axes = make([]int, len(x.shape))
		for i := range axes {
			axes[i] = i
		}
	}
	norm := make([]int, len(axes))
	for i, a := range axes {
		norm[i] = normAxis("Reduce "+op.String(), a, len(x.shape))
	}
	slices.Sort(norm)
	norm = slices.Compact(norm)
	out := x
	for i := 0; i < len(norm); {
		j := i + 1
		for j < len(norm) && norm[j] == norm[j-1]+1 {
			j++
		}
		next := reduceRun(op, out, norm[i], norm[j-1]+1)
		if out != x {
			out.Release()
		}
		out = next
		i = j
	}
	if out == x {
		out = x.Clone()
	}
	if !keep {
		sq := out.Squeeze(norm...)
		out.Release()
		return sq
	}
	return out
}

// Sum adds over axes (all when none given).
func Sum(x *Tensor, keep bool, axes ...int) *Tensor { return reduceAxes(ReduceSum, x, keep, axes) }

// Max takes the maximum over axes (all when none given).
func Max(x *Tensor, keep bool, axes ...int) *Tensor { return reduceAxes(ReduceMax, x, keep, axes) }

// Min takes the minimum over axes (all when none given).
func Min(x *Tensor, keep bool, axes ...int) *Tensor { return reduceAxes(ReduceMin, x, keep, axes) }

// Mean averages over axes (all when none given).
func Mean(x *Tensor, keep bool, axes ...int) *Tensor {
	s := Sum(x, keep, axes...)
	n := x.Size() / max(s.Size(), 1)
	if n == 0 {
		n = 1
	}
	m := Scale(s, 1/float32(n))
	s.Release()
	return m
}

// Argmax returns the index of the first maximum along axis, as float32.
func Argmax(x *Tensor, axis int, keep bool) *Tensor { return Reduce(ReduceArgmax, x, axis, keep) }

// SumTo sums a broadcast gradient back to shape (the adjoint of Expand).
func SumTo(g *Tensor, shape []int) *Tensor {
	if slices.Equal(g.shape, shape) {
		return g.Clone()
	}
	lead := len(g.shape) - len(shape)
	if lead < 0 {
		panic(fmt.Sprintf("tensor: SumTo: %v has fewer axes than %v", g.shape, shape))
	}
	var axes []int
	for i := range g.shape {
		if i < lead || (shape[i-lead] == 1 && g.shape[i] != 1) {
			axes = append(axes, i)
		} else if shape[i-lead] != g.shape[i] {
			panic(fmt.Sprintf("tensor: SumTo: cannot sum %v to %v", g.shape, shape))
		}
	}
	s := Sum(g, true, axes...)
	r := s.Reshape(shape...)
	s.Release()
	return r
}
