package tensor

import (
	"fmt"
	"math"
	"slices"
)

// Shape arithmetic shared by the tensor operations. Programmer errors
// (a shape that does not fit, an axis out of range) panic with a message
// naming the operation and the shapes, as gonum does.

func cloneInts(s []int) []int { return slices.Clone(s) }

func numel(shape []int) int {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return n
}

func checkShape(op string, shape []int) int {
	for _, s := range shape {
		if s < 0 {
			panic(fmt.Sprintf("tensor: %s: negative size in shape %v", op, shape))
		}
	}
	return numel(shape)
}

func contiguousStrides(shape []int) []int {
	st := make([]int, len(shape))
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		st[i] = acc
		acc *= shape[i]
	}
	return st
}

func normAxis(op string, axis, rank int) int { return NormAxis("tensor: "+op, axis, rank) }

// NormAxes returns the sorted, distinct, non-negative axes of a rank-rank
// tensor (every axis when none is given), panicking as NormAxis does on one
// out of range.
func NormAxes(op string, rank int, axes []int) []int {
	if len(axes) == 0 {
		out := make([]int, rank)
		for i := range out {
			out[i] = i
		}
		return out
	}
	out := make([]int, len(axes))
	for i, a := range axes {
		out[i] = NormAxis(op, a, rank)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// NormAxis maps a possibly negative axis into [0, rank), panicking with a
// message that starts with op (for example "autograd: Sum") when it is out
// of range.
func NormAxis(op string, axis, rank int) int {
	a := axis
	if a < 0 {
		a += rank
	}
	if a < 0 || a >= rank {
		panic(fmt.Sprintf("%s: axis %d out of range for rank %d", op, axis, rank))
	}
	return a
}

func inferShape(op string, from, to []int) []int {
	to = cloneInts(to)
	n, neg := 1, -1
	for i, s := range to {
		switch {
		case s == -1 && neg < 0:
			neg = i
		case s < 0:
			panic(fmt.Sprintf("tensor: %s: bad shape %v", op, to))
		default:
			n *= s
		}
	}
	total := numel(from)
	if neg >= 0 {
		if n == 0 || total%n != 0 {
			panic(fmt.Sprintf("tensor: %s: cannot reshape %v to %v", op, from, to))
		}
		to[neg] = total / n
		n *= to[neg]
	}
	if n != total {
		panic(fmt.Sprintf("tensor: %s: cannot reshape %v (%d elements) to %v (%d elements)", op, from, total, to, n))
	}
	return to
}

// BroadcastShapes returns the NumPy broadcast of the shapes, or panics
// naming op and the shapes.
func BroadcastShapes(op string, shapes ...[]int) []int {
	rank := 0
	for _, s := range shapes {
		rank = max(rank, len(s))
	}
	out := make([]int, rank)
	for i := range out {
		out[i] = 1
	}
	for _, s := range shapes {
		lead := rank - len(s)
		for i, d := range s {
			switch o := out[lead+i]; {
			case o == d || d == 1:
			case o == 1:
				out[lead+i] = d
			default:
				panic(fmt.Sprintf("tensor: %s: shapes %v cannot broadcast", op, shapes))
			}
		}
	}
	return out
}

func mustSameShape(op string, a, b *Tensor) {
	if !slices.Equal(a.shape, b.shape) {
		panic(fmt.Sprintf("tensor: %s: shapes %v and %v differ", op, a.shape, b.shape))
	}
}

func mustSameDevice(op string, ts ...*Tensor) {
	for _, t := range ts[1:] {
		if t.buf.b != ts[0].buf.b {
			panic(fmt.Sprintf("tensor: %s: tensors on different devices %s and %s", op, ts[0].buf.b.Name(), t.buf.b.Name()))
		}
	}
}

func mustRank(op string, t *Tensor, rank int, what string) {
	if len(t.shape) != rank {
		panic(fmt.Sprintf("tensor: %s: %s must have rank %d, got shape %v", op, what, rank, t.shape))
	}
}

// truncNormal maps a uniform u to N(0, std²) truncated to [lo, hi].
func truncNormal(u float32, std, lo, hi float64) float64 {
	cdf := func(x float64) float64 { return 0.5 * (1 + math.Erf(x/math.Sqrt2)) }
	a, b := cdf(lo/std), cdf(hi/std)
	p := a + float64(u)*(b-a)
	p = math.Min(math.Max(p, 1e-12), 1-1e-12)
	x := std * math.Sqrt2 * math.Erfinv(2*p-1)
	return math.Min(math.Max(x, lo), hi)
}
