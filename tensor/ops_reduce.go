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
	var ad [inlineRank]int
	return reduce(ReduceSum, g, sumAxes("SumTo", g.shape, shape, ad[:0]), shape)
}

// sumAxes lists the axes of gshape that summing it to shape reduces (the
// leading axes shape lacks, and those where shape has 1 and gshape not),
// in buf's storage, and panics naming op when gshape cannot be summed to
// shape.
func sumAxes(op string, gshape, shape []int, buf []int) []int {
	lead := len(gshape) - len(shape)
	if lead < 0 {
		panic(fmt.Sprintf("tensor: %s: %v has fewer axes than %v", op, cloneInts(gshape), cloneInts(shape)))
	}
	axes := buf[:0]
	for i := range gshape {
		if i < lead || (shape[i-lead] == 1 && gshape[i] != 1) {
			axes = append(axes, i)
		} else if shape[i-lead] != gshape[i] {
			panic(fmt.Sprintf("tensor: %s: cannot sum %v to %v", op, cloneInts(gshape), cloneInts(shape)))
		}
	}
	return axes
}

// sumRun is summing gshape over the sorted axes as one [outer, n, inner]
// reduction, or ok false when the axes are not one run of adjacent axes.
func sumRun(gshape, axes []int) (outer, n, inner int, ok bool) {
	if len(axes) == 0 || axes[len(axes)-1]-axes[0] != len(axes)-1 {
		return 0, 0, 0, false
	}
	lo, hi := axes[0], axes[len(axes)-1]
	return numel(gshape[:lo]), numel(gshape[lo : hi+1]), numel(gshape[hi+1:]), true
}

// SumTerm is a tensor to sum back to a shape (SumToEach, SumToAddInto):
// G, or the elementwise product G·M when M is not nil.
type SumTerm struct{ G, M *Tensor }

// value is the term as one tensor (a new product when M is set, else G
// itself) and whether it is new.
func (t SumTerm) value() (*Tensor, bool) {
	if t.M == nil {
		return t.G, false
	}
	return Mul(t.G, t.M), true
}

// span is the term's operands as SumInto takes them (contiguous, G and M
// of one shape) and the copies made to get there, or ok false when M must
// be broadcast first.
func (t SumTerm) span(copies []*Tensor) (src, mul Span, _ []*Tensor, ok bool) {
	if t.M != nil && !SameShape(t.G, t.M) {
		return Span{}, Span{}, copies, false
	}
	c := t.G.Contiguous()
	if c != t.G {
		copies = append(copies, c)
	}
	src = c.Span()
	if t.M != nil {
		m := t.M.Contiguous()
		if m != t.M {
			copies = append(copies, m)
		}
		mul = m.Span()
	}
	return src, mul, copies, true
}

// SumToEach returns SumTo(term, shape) for every term, whose G all have one
// shape: the gradients of several operands broadcast alike, such as AdaLN's
// scale (gy·x) and shift (gy). When the axes summed are adjacent, up to
// MaxSumParts terms are one launch (Backend.SumInto), products included;
// otherwise each is a SumTo of its own (after a Mul for a product).
func SumToEach(shape []int, terms ...SumTerm) []*Tensor {
	out := make([]*Tensor, len(terms))
	sumTerms("SumToEach", shape, terms, out)
	return out
}

// SumToEachLike is SumToEach to like's shape.
func SumToEachLike(like *Tensor, terms ...SumTerm) []*Tensor { return SumToEach(like.shape, terms...) }

// SumTermToLike is SumTermTo to like's shape.
func SumTermToLike(t SumTerm, like *Tensor) *Tensor { return SumTermTo(t, like.shape) }

// SumTermTo is SumTo(t, shape): one term of SumToEach, its product (when
// t.M is set) formed in the reduction's launch where the axes summed are
// adjacent.
func SumTermTo(t SumTerm, shape []int) *Tensor {
	var out [1]*Tensor
	sumTerms("SumTermTo", shape, []SumTerm{t}, out[:])
	return out[0]
}

// sumTerms writes SumTo(terms[i], shape) into out[i], in launches of up to
// MaxSumParts terms when the axes summed are one run.
func sumTerms(op string, shape []int, terms []SumTerm, out []*Tensor) {
	if len(terms) == 0 {
		return
	}
	g0 := terms[0].G
	for _, t := range terms {
		mustSameDevice(op, g0, t.G)
		if t.M != nil {
			mustSameDevice(op, g0, t.M)
		}
		if !SameShape(t.G, g0) {
			panic(fmt.Sprintf("tensor: %s: shapes %v and %v differ", op, t.G.shape, g0.shape))
		}
	}
	var ad [inlineRank]int
	axes := sumAxes(op, g0.shape, shape, ad[:0])
	outer, n, inner, run := sumRun(g0.shape, axes)
	b := g0.buf.b
	var cd [2 * MaxSumParts]*Tensor
	parts, copies := innermost(b).sumParts(), cd[:0]
	for i, t := range terms {
		var src, mul Span
		ok := run
		if ok {
			src, mul, copies, ok = t.span(copies)
		}
		if !ok {
			v, made := t.value()
			out[i] = SumTo(v, shape)
			if made {
				v.Release()
			}
			continue
		}
		out[i] = Empty(b, shape...)
		parts = append(parts, SumPart{Dst: out[i].Span(), Src: src, Mul: mul})
		if len(parts) == MaxSumParts {
			parts, copies = sumParts(b, parts, copies, outer, n, inner)
		}
	}
	sumParts(b, parts, copies, outer, n, inner)
}

// sumParts launches the parts (when there is something to sum), releases
// the copies their operands needed, and returns both emptied.
func sumParts(b Backend, parts []SumPart, copies []*Tensor, outer, n, inner int) ([]SumPart, []*Tensor) {
	if len(parts) > 0 && outer*inner > 0 {
		b.SumInto(parts, outer, n, inner)
	}
	for _, c := range copies {
		c.Release()
	}
	return parts[:0], copies[:0]
}

// SumToAddInto adds SumTo(t, dst's shape) into dst in the reduction's own
// launch (Backend.SumInto with Add; a product G·M included) instead of a
// reduction and an add: the gradient of a broadcast operand into a leaf's
// gradient that already holds one. dst is whole and contiguous. When the
// axes summed are not adjacent, it is a SumTo and an AddInto.
func SumToAddInto(dst *Tensor, t SumTerm) {
	mustSameDevice("SumToAddInto", dst, t.G)
	if t.M != nil {
		mustSameDevice("SumToAddInto", dst, t.M)
	}
	if !dst.IsContiguous() || !dst.IsWhole() {
		panic(fmt.Sprintf("tensor: SumToAddInto: dst %v is not a whole, contiguous tensor", dst.shape))
	}
	var ad [inlineRank]int
	axes := sumAxes("SumToAddInto", t.G.shape, dst.shape, ad[:0])
	if dst.Size() == 0 {
		return
	}
	if len(axes) == 0 { // nothing to sum: the term has dst's shape
		v, made := t.value()
		AddInto(dst, v)
		if made {
			v.Release()
		}
		return
	}
	outer, n, inner, ok := sumRun(t.G.shape, axes)
	var src, mul Span
	var copies []*Tensor
	if ok {
		src, mul, copies, ok = t.span(nil)
	}
	if !ok {
		v, made := t.value()
		s := SumTo(v, dst.shape)
		AddInto(dst, s)
		s.Release()
		if made {
			v.Release()
		}
		return
	}
	dst.buf.b.SumInto([]SumPart{{Dst: dst.Span(), Src: src, Mul: mul, Add: true}}, outer, n, inner)
	for _, c := range copies {
		c.Release()
	}
}
