package autograd

import (
	"slices"

	"sargo/tensor"
)

// Reductions. Their backward broadcasts the output gradient back over the
// reduced axes.

// normAxes returns the sorted, distinct, non-negative axes of a reduction
// over x (every axis when none is given).
func normAxes(op string, rank int, axes []int) []int {
	if len(axes) == 0 {
		out := make([]int, rank)
		for i := range out {
			out[i] = i
		}
		return out
	}
	out := make([]int, len(axes))
	for i, a := range axes {
		out[i] = normAxis(op, a, rank)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// normAxis maps a possibly negative axis into [0, rank), panicking when it
// is out of range.
func normAxis(op string, axis, rank int) int { return tensor.NormAxis("autograd: "+op, axis, rank) }

// keptShape is shape with the given axes set to 1.
func keptShape(shape, axes []int) []int {
	out := slices.Clone(shape)
	for _, a := range axes {
		out[a] = 1
	}
	return out
}

// reducedCount is the number of elements folded into each output element.
func reducedCount(shape, axes []int) int {
	n := 1
	for _, a := range axes {
		n *= shape[a]
	}
	return n
}

// broadcastBack reshapes gy to keep (the shape with reduced axes kept as
// 1) and returns a view of it broadcast to shape.
func broadcastBack(gy *tensor.Tensor, keep, shape []int) *tensor.Tensor {
	k := gy.Reshape(keep...)
	e := k.Expand(shape...)
	k.Release()
	return e
}

// Sum adds over axes (every axis when none is given), keeping them as
// size 1 when keep is true.
func (g *Graph) Sum(x *Var, keep bool, axes ...int) *Var {
	shape := x.Value.Shape()
	ax := normAxes("Sum", len(shape), axes)
	y := tensor.Sum(x.Value, keep, ax...)
	return g.record("Sum", y, func(gy *tensor.Tensor) []*tensor.Tensor {
		e := broadcastBack(gy, keptShape(shape, ax), shape)
		gx := e.Clone()
		e.Release()
		return []*tensor.Tensor{gx}
	}, x)
}

// Mean averages over axes (every axis when none is given), keeping them as
// size 1 when keep is true.
func (g *Graph) Mean(x *Var, keep bool, axes ...int) *Var {
	shape := x.Value.Shape()
	ax := normAxes("Mean", len(shape), axes)
	n := max(reducedCount(shape, ax), 1)
	s := tensor.Sum(x.Value, keep, ax...)
	y := tensor.Scale(s, 1/float32(n))
	s.Release()
	return g.record("Mean", y, func(gy *tensor.Tensor) []*tensor.Tensor {
		e := broadcastBack(gy, keptShape(shape, ax), shape)
		gx := tensor.Scale(e, 1/float32(n))
		e.Release()
		return []*tensor.Tensor{gx}
	}, x)
}

// Variance is the variance over axes (every axis when none is given):
// the mean squared deviation, divided by n-1 instead of n when unbiased.
func (g *Graph) Variance(x *Var, keep, unbiased bool, axes ...int) *Var {
	shape := x.Value.Shape()
	ax := normAxes("Variance", len(shape), axes)
	n := reducedCount(shape, ax)
	denom := float32(n)
	if unbiased {
		denom = float32(n - 1)
	}
	m := tensor.Mean(x.Value, true, ax...)
	d := tensor.Sub(x.Value, m) // x - mean, kept for the backward
	m.Release()
	sq := tensor.Square(d)
	s := tensor.Sum(sq, keep, ax...)
	sq.Release()
	y := tensor.Scale(s, 1/denom)
	s.Release()
	return g.record("Variance", y, func(gy *tensor.Tensor) []*tensor.Tensor {
		// dvar/dx = 2(x-mean)/denom; the mean's own gradient term vanishes
		// because the deviations sum to zero.
		k := gy.Reshape(keptShape(shape, ax)...)
		t := tensor.Mul(d, k)
		k.Release()
		gx := tensor.Scale(t, 2/denom)
		t.Release()
		d.Release() // a node's backward runs at most once
		return []*tensor.Tensor{gx}
	}, x)
}

// Max is the maximum over axis, keeping it as size 1 when keep is true.
// The gradient goes to the position of the maximum, the first one on ties.
func (g *Graph) Max(x *Var, axis int, keep bool) *Var {
	shape := x.Value.Shape()
	axis = normAxis("Max", axis, len(shape))
	y := tensor.Max(x.Value, keep, axis)
	return g.record("Max", y, func(gy *tensor.Tensor) []*tensor.Tensor {
		be := x.Value.Backend()
		idx := tensor.Argmax(x.Value, axis, true)
		ishape := make([]int, len(shape))
		for i := range ishape {
			ishape[i] = 1
		}
		ishape[axis] = shape[axis]
		ar := tensor.Arange(be, 0, 1, shape[axis])
		iota := ar.Reshape(ishape...)
		ar.Release()
		mask := tensor.Equal(iota, idx) // one-hot at the argmax, x's shape
		iota.Release()
		idx.Release()
		k := gy.Reshape(keptShape(shape, []int{axis})...)
		gx := tensor.Mul(mask, k)
		k.Release()
		mask.Release()
		return []*tensor.Tensor{gx}
	}, x)
}
