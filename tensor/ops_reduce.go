package tensor

import (
	"fmt"
	"slices"
)

// Reductions over one or more axes. Each run of adjacent axes is one
// kernel call, which keeps the backend kernel to a single [outer, n,
// inner] form.

// Reduce applies op over axis, keeping it as size 1 when keep is true.
func Reduce(op ReduceOp, x *Tensor, axis int, keep bool) *Tensor {
	if a := axisIn(axis, len(x.shape)); a >= 0 {
		axis = a
	} else {
		normAxis("Reduce "+op.String(), axis, len(x.shape)) // panics
	}
	var sd [inlineRank]int
	return reduce(op, x, []int{axis}, reducedShape(x.shape, []int{axis}, keep, sd[:0]))
}

// reduceAxes reduces over every listed axis (all axes when none).
func reduceAxes(op ReduceOp, x *Tensor, keep bool, axes []int) *Tensor {
	var ad, sd [inlineRank]int
	norm := normAxesInto(ad[:0], "tensor: Reduce ", op.String(), len(x.shape), axes)
	return reduce(op, x, norm, reducedShape(x.shape, norm, keep, sd[:0]))
}

// reducedShape is shape with the axes set to 1 (keep) or removed, in
// buf's storage where it has the room.
func reducedShape(shape, axes []int, keep bool, buf []int) []int {
	out := buf[:0]
	for i, s := range shape {
		switch {
		case !slices.Contains(axes, i):
			out = append(out, s)
		case keep:
			out = append(out, 1)
		}
	}
	return out
}

// reduce applies op over the sorted axes of x and returns the result with
// shape out, which has as many elements as the axes leave. Each run of
// adjacent axes is one kernel call over [outer, n, inner].
func reduce(op ReduceOp, x *Tensor, axes []int, out []int) *Tensor {
	b := x.buf.b
	if len(axes) == 0 {
		c := x.Clone() // nothing to reduce: a copy
		defer c.Release()
		return c.Reshape(out...)
	}
	cur := x.Contiguous()
	var sd [inlineRank]int
	shape := append(sd[:0], x.shape...)
	for i := len(axes) - 1; i >= 0; {
		hi := axes[i]
		lo := hi
		for i--; i >= 0 && axes[i] == lo-1; i-- {
			lo--
		}
		outer, n, inner := numel(shape[:lo]), numel(shape[lo:hi+1]), numel(shape[hi+1:])
		if n == 0 && op != ReduceSum {
			panic(fmt.Sprintf("tensor: %s over empty axes %v of shape %v", op, cloneInts(axes), x.shape))
		}
		for a := lo; a <= hi; a++ {
			shape[a] = 1
		}
		dstShape := shape
		if i < 0 {
			dstShape = out
		}
		dst := Empty(b, dstShape...)
		switch {
		case dst.Size() == 0:
		case n == 0:
			b.Fill(dst.View(), 0) // a sum over nothing
		default:
			b.Reduce(op, dst.Span(), cur.Span(), outer, n, inner)
		}
		if cur != x {
			cur.Release()
		}
		cur = dst
	}
	return cur
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

// SumToLike is SumTo to like's shape.
func SumToLike(g, like *Tensor) *Tensor { return SumTo(g, like.shape) }

// SumTo sums a broadcast gradient back to shape (the adjoint of Expand).
func SumTo(g *Tensor, shape []int) *Tensor {
	if slices.Equal(g.shape, shape) {
		return g.Clone()
	}
	lead := len(g.shape) - len(shape)
	if lead < 0 {
		panic(fmt.Sprintf("tensor: SumTo: %v has fewer axes than %v", g.shape, cloneInts(shape)))
	}
	var ad [inlineRank]int
	axes := ad[:0]
	for i := range g.shape {
		if i < lead || (shape[i-lead] == 1 && g.shape[i] != 1) {
			axes = append(axes, i)
		} else if shape[i-lead] != g.shape[i] {
			panic(fmt.Sprintf("tensor: SumTo: cannot sum %v to %v", g.shape, cloneInts(shape)))
		}
	}
	return reduce(ReduceSum, g, axes, shape)
}
