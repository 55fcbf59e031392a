package tensor

import (
	"fmt"
	"math"
	"slices"
)

// Shape arithmetic shared by the tensor operations. Programmer errors
// (a shape that does not fit, an axis out of range) panic with a message
// naming the operation and the shapes, as gonum does.

// cloneInts copies s. Panic messages format copies of the shapes they were
// given: formatting a slice lets its storage escape to the heap, and the
// callers' shapes are often arrays on their stacks.
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
			panic(fmt.Sprintf("tensor: %s: negative size in shape %v", op, cloneInts(shape)))
		}
	}
	return numel(shape)
}

// ints is buf's storage resized to n ints when it has the room, else new
// storage: with buf an array on the caller's stack, a small shape costs
// the Go heap nothing.
func ints(buf []int, n int) []int {
	if n <= cap(buf) {
		return buf[:n]
	}
	return make([]int, n)
}

func normAxis(op string, axis, rank int) int {
	if a := axisIn(axis, rank); a >= 0 {
		return a
	}
	return NormAxis("tensor: "+op, axis, rank) // panics
}

// axisIn is axis, possibly negative, mapped into [0, rank), or -1 when it
// is out of range.
func axisIn(axis, rank int) int {
	if axis < 0 {
		axis += rank
	}
	if axis < 0 || axis >= rank {
		return -1
	}
	return axis
}

// NormAxes returns the sorted, distinct, non-negative axes of a rank-rank
// tensor (every axis when none is given), panicking as NormAxis does on one
// out of range.
func NormAxes(op string, rank int, axes []int) []int { return normAxesInto(nil, op, "", rank, axes) }

// normAxesInto is NormAxes in buf's storage where it has the room; the
// operation's name in a panic is op+suffix, joined only then.
func normAxesInto(buf []int, op, suffix string, rank int, axes []int) []int {
	if len(axes) == 0 {
		out := ints(buf, rank)
		for i := range out {
			out[i] = i
		}
		return out
	}
	out := ints(buf, len(axes))
	for i, a := range axes {
		if out[i] = axisIn(a, rank); out[i] < 0 {
			NormAxis(op+suffix, a, rank) // panics
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// NormAxis maps a possibly negative axis into [0, rank), panicking with a
// message that starts with op (for example "autograd: Sum") when it is out
// of range.
func NormAxis(op string, axis, rank int) int {
	a := axisIn(axis, rank)
	if a < 0 {
		panic(fmt.Sprintf("%s: axis %d out of range for rank %d", op, axis, rank))
	}
	return a
}

// inferShape is to with its -1 axis, if any, resolved so that it holds
// from's elements, in buf's storage where it has the room.
func inferShape(op string, from, to, buf []int) []int {
	to = append(buf[:0], to...)
	n, neg := 1, -1
	for i, s := range to {
		switch {
		case s == -1 && neg < 0:
			neg = i
		case s < 0:
			panic(fmt.Sprintf("tensor: %s: bad shape %v", op, cloneInts(to)))
		default:
			n *= s
		}
	}
	total := numel(from)
	if neg >= 0 {
		if n == 0 || total%n != 0 {
			panic(fmt.Sprintf("tensor: %s: cannot reshape %v to %v", op, from, cloneInts(to)))
		}
		to[neg] = total / n
		n *= to[neg]
	}
	if n != total {
		panic(fmt.Sprintf("tensor: %s: cannot reshape %v (%d elements) to %v (%d elements)", op, from, total, cloneInts(to), n))
	}
	return to
}

// BroadcastShapes returns the NumPy broadcast of the shapes, or panics
// naming op and the shapes.
func BroadcastShapes(op string, shapes ...[]int) []int { return broadcastInto(op, nil, shapes) }

// broadcastInto is BroadcastShapes in buf's storage where it has the room.
func broadcastInto(op string, buf []int, shapes [][]int) []int {
	rank := 0
	for _, s := range shapes {
		rank = max(rank, len(s))
	}
	out := ints(buf, rank)
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
				panic(fmt.Sprintf("tensor: %s: shapes %v cannot broadcast", op, cloneShapes(shapes)))
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

// cloneShapes copies shapes for a panic message, as cloneInts does.
func cloneShapes(shapes [][]int) [][]int {
	out := make([][]int, len(shapes))
	for i, s := range shapes {
		out[i] = cloneInts(s)
	}
	return out
}
