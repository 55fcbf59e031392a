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
	return tensor.NormAxes("autograd: "+op, rank, axes)
}

// normAxis maps a possibly negative axis into [0, rank), panicking when it
// is out of range.
func normAxis(op string, axis, rank int) int {
	if a := axis + rank; axis < 0 && a >= 0 {
		return a
	} else if axis >= 0 && axis < rank {
		return axis
	}
	return tensor.NormAxis("autograd: "+op, axis, rank) // panics
}

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
	return gy.Reshape(keep...).Expand(shape...)
}

// Sum adds over axes (every axis when none is given), keeping them as
// size 1 when keep is true.
func (g *Graph) Sum(x *Var, keep bool, axes ...int) *Var {
	if len(axes) == 0 { // every axis: no axis list to keep
		y := tensor.Sum(x.Value, keep)
		return g.recordStep("Sum", y, sumBack, nil, x)
	}
	shape := x.Value.Shape()
	ax := normAxes("Sum", len(shape), axes)
	y := tensor.Sum(x.Value, keep, ax...)
	return g.record("Sum", y, func(gy *tensor.Tensor) []*tensor.Tensor {
		return g.grads(broadcastBack(gy, keptShape(shape, ax), shape).Clone())
	}, x)
}

// sumBack is the backward of Sum over every axis: the output gradient
// broadcast to the input's shape.
func sumBack(g *Graph, n *node, gy *tensor.Tensor) []*tensor.Tensor {
	x := n.inputs[0].Value
	var kd, sd [8]int
	keep, shape := kd[:0], x.AppendShape(sd[:0])
	for range shape {
		keep = append(keep, 1)
	}
	return g.grads(gy.Reshape(keep...).Expand(shape...).Clone())
}

// Mean averages over axes (every axis when none is given), keeping them as
// size 1 when keep is true.
func (g *Graph) Mean(x *Var, keep bool, axes ...int) *Var {
	shape := x.Value.Shape()
	ax := normAxes("Mean", len(shape), axes)
	n := max(reducedCount(shape, ax), 1)
	y := tensor.Scale(tensor.Sum(x.Value, keep, ax...), 1/float32(n))
	return g.record("Mean", y, func(gy *tensor.Tensor) []*tensor.Tensor {
		return g.grads(tensor.Scale(broadcastBack(gy, keptShape(shape, ax), shape), 1/float32(n)))
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
	d := tensor.Sub(x.Value, tensor.Mean(x.Value, true, ax...)) // x - mean, kept for the backward
	sq := tensor.Square(d)
	y := tensor.Scale(tensor.Sum(sq, keep, ax...), 1/denom)
	sq.Release() // as large as x: not kept for the graph's lifetime
	return g.record("Variance", y, func(gy *tensor.Tensor) []*tensor.Tensor {
		// dvar/dx = 2(x-mean)/denom; the mean's own gradient term vanishes
		// because the deviations sum to zero.
		return g.grads(tensor.Scale(tensor.Mul(d, gy.Reshape(keptShape(shape, ax)...)), 2/denom))
	}, x)
}

// Max is the maximum over axis, keeping it as size 1 when keep is true.
// The gradient goes to the position of the maximum, the first one on ties.
func (g *Graph) Max(x *Var, axis int, keep bool) *Var {
	shape := x.Value.Shape()
	axis = normAxis("Max", axis, len(shape))
	y := tensor.Max(x.Value, keep, axis)
	return g.record("Max", y, func(gy *tensor.Tensor) []*tensor.Tensor {
		idx := tensor.Argmax(x.Value, axis, true)
		ishape := make([]int, len(shape))
		for i := range ishape {
			ishape[i] = 1
		}
		ishape[axis] = shape[axis]
		iota := tensor.Arange(x.Value.Backend(), 0, 1, shape[axis]).Reshape(ishape...)
		mask := tensor.Equal(iota, idx) // one-hot at the argmax, x's shape
		return g.grads(tensor.Mul(mask, gy.Reshape(keptShape(shape, []int{axis})...)))
	}, x)
}
