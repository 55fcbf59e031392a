package tensor

import (
	"fmt"
	"slices"
)

// Joining, splitting and padding, all built on strided copies into views.

// Concat joins tensors along axis; all other axes must match.
func Concat(axis int, ts ...*Tensor) *Tensor {
	if len(ts) == 0 {
		panic("tensor: Concat of no tensors")
	}
	mustSameDevice("Concat", ts...)
	axis = normAxis("Concat", axis, len(ts[0].shape))
	var sd [inlineRank]int
	shape := append(sd[:0], ts[0].shape...)
	shape[axis] = 0
	for _, t := range ts {
		if len(t.shape) != len(shape) {
			panic(fmt.Sprintf("tensor: Concat: rank mismatch %v vs %v", ts[0].shape, t.shape))
		}
		for i := range shape {
			if i != axis && t.shape[i] != shape[i] {
				panic(fmt.Sprintf("tensor: Concat: shapes %v and %v differ outside axis %d", ts[0].shape, t.shape, axis))
			}
		}
		shape[axis] += t.shape[axis]
	}
	out := Empty(ts[0].buf.b, shape...)
	var starts [MaxConcatParts]int
	for at, i := 0, 0; i < len(ts); i += MaxConcatParts {
		group := ts[i:min(i+MaxConcatParts, len(ts))]
		for j, t := range group {
			starts[j] = at
			at += t.shape[axis]
		}
		ConcatInto(out, axis, starts[:len(group)], group...)
	}
	return out
}

// ConcatInto writes each of ts into dst, ts[i] into the window of dst that
// starts at starts[i] along axis (ts[i] has dst's shape but along axis).
// When dst and the ts are contiguous, this is one launch for up to
// MaxConcatParts tensors (Backend.ConcatRows); otherwise one copy each.
func ConcatInto(dst *Tensor, axis int, starts []int, ts ...*Tensor) {
	dst.live("ConcatInto")
	axis = normAxis("ConcatInto", axis, len(dst.shape))
	if len(starts) != len(ts) {
		panic(fmt.Sprintf("tensor: ConcatInto: %d starts for %d tensors", len(starts), len(ts)))
	}
	rows, inner := numel(dst.shape[:axis]), numel(dst.shape[axis+1:])
	parts := innermost(dst.buf.b).rowsParts()
	k := 0
	flush := func() {
		if k > 0 {
			dst.buf.b.ConcatRows(dst.Span(), rows, dst.shape[axis]*inner, parts[:k])
			k = 0
		}
	}
	whole := dst.IsContiguous()
	for i, t := range ts {
		t.live("ConcatInto")
		mustSameDevice("ConcatInto", dst, t)
		if !windowFits(dst.shape, t.shape, axis, starts[i]) {
			panic(fmt.Sprintf("tensor: ConcatInto: %v at %d along axis %d does not fit in %v", t.shape, starts[i], axis, dst.shape))
		}
		switch {
		case t.Size() == 0:
		case !whole || !t.IsContiguous():
			dst.buf.b.Copy(dst.window(axis, starts[i], t.shape), t.View())
		default:
			if k == MaxConcatParts {
				flush()
			}
			parts[k] = RowsPart{Span: t.Span(), Col: starts[i] * inner, Width: t.shape[axis] * inner}
			k++
		}
	}
	flush()
}

// SplitCopies returns contiguous copies of windows of t along axis: piece
// i starts at starts[i] and is lengths[i] long. When t is contiguous, the
// copies take one launch per MaxConcatParts pieces (Backend.SplitRows);
// otherwise one copy each.
func SplitCopies(t *Tensor, axis int, starts, lengths []int) []*Tensor {
	return AppendSplitCopies(nil, t, axis, starts, lengths)
}

// AppendSplitCopies is SplitCopies appending the copies to dst: with dst
// an array on the caller's stack, the list costs the Go heap nothing.
func AppendSplitCopies(dst []*Tensor, t *Tensor, axis int, starts, lengths []int) []*Tensor {
	t.live("SplitCopies")
	axis = normAxis("SplitCopies", axis, len(t.shape))
	if len(starts) != len(lengths) {
		panic(fmt.Sprintf("tensor: SplitCopies: %d starts for %d lengths", len(starts), len(lengths)))
	}
	rows, inner := numel(t.shape[:axis]), numel(t.shape[axis+1:])
	dst = slices.Grow(dst, len(starts))
	out := dst[len(dst) : len(dst)+len(starts)]
	parts := innermost(t.buf.b).rowsParts()
	k := 0
	flush := func() {
		if k > 0 {
			t.buf.b.SplitRows(t.Span(), rows, t.shape[axis]*inner, parts[:k])
			k = 0
		}
	}
	var sd [inlineRank]int
	shape := append(sd[:0], t.shape...)
	for i, start := range starts {
		if start < 0 || lengths[i] < 0 || start+lengths[i] > t.shape[axis] {
			panic(fmt.Sprintf("tensor: SplitCopies: [%d, %d) out of range for axis %d of shape %v", start, start+lengths[i], axis, t.shape))
		}
		shape[axis] = lengths[i]
		out[i] = Empty(t.buf.b, shape...)
		switch {
		case out[i].Size() == 0:
		case !t.IsContiguous():
			t.buf.b.Copy(out[i].View(), t.window(axis, start, out[i].shape))
		default:
			if k == MaxConcatParts {
				flush()
			}
			parts[k] = RowsPart{Span: out[i].Span(), Col: start * inner, Width: lengths[i] * inner}
			k++
		}
	}
	flush()
	return dst[:len(dst)+len(starts)]
}

// windowFits reports whether a block of shape fits in outer at start along
// axis: the same shape but along axis, and within it there.
func windowFits(outer, shape []int, axis, start int) bool {
	if len(shape) != len(outer) || start < 0 || start+shape[axis] > outer[axis] {
		return false
	}
	for i := range shape {
		if i != axis && shape[i] != outer[i] {
			return false
		}
	}
	return true
}

// window is the View of the block of t of the given shape that starts at
// start along axis (and at 0 along the others).
func (t *Tensor) window(axis, start int, shape []int) View {
	return View{Buf: t.buf.s, Offset: t.offset + start*t.strides[axis], Shape: shape, Strides: t.strides}
}

// Stack joins same-shape tensors along a new axis.
func Stack(axis int, ts ...*Tensor) *Tensor {
	if len(ts) == 0 {
		panic("tensor: Stack of no tensors")
	}
	mustSameDevice("Stack", ts...)
	r := len(ts[0].shape)
	if axis < 0 {
		axis += r + 1
	}
	if axis < 0 || axis > r {
		panic(fmt.Sprintf("tensor: Stack: axis %d for shape %v", axis, ts[0].shape))
	}
	for _, t := range ts {
		mustSameShape("Stack", ts[0], t)
	}
	shape := slices.Insert(cloneInts(ts[0].shape), axis, len(ts))
	out := Empty(ts[0].buf.b, shape...)
	if out.Size() > 0 {
		step := out.strides[axis]
		strides := slices.Delete(cloneInts(out.strides), axis, axis+1)
		for i, t := range ts {
			dst := View{Buf: out.buf.s, Offset: i * step, Shape: t.shape, Strides: strides}
			out.buf.b.Copy(dst, t.View())
		}
	}
	return out
}

// Split cuts t along axis into pieces of the given sizes (views).
func Split(t *Tensor, axis int, sizes ...int) []*Tensor {
	axis = normAxis("Split", axis, len(t.shape))
	total := 0
	for _, s := range sizes {
		total += s
	}
	if total != t.shape[axis] {
		panic(fmt.Sprintf("tensor: Split: sizes %v do not add up to axis %d of shape %v", sizes, axis, t.shape))
	}
	out := make([]*Tensor, len(sizes))
	at := 0
	for i, s := range sizes {
		out[i] = t.Narrow(axis, at, s)
		at += s
	}
	return out
}

// Chunk splits t along axis into n equal views.
func Chunk(t *Tensor, axis, n int) []*Tensor {
	d := t.Dim(axis)
	if n <= 0 || d%n != 0 {
		panic(fmt.Sprintf("tensor: Chunk: axis %d of shape %v does not split into %d", axis, t.shape, n))
	}
	sizes := make([]int, n)
	for i := range sizes {
		sizes[i] = d / n
	}
	return Split(t, axis, sizes...)
}

// Pad adds before[i] and after[i] elements of value v around axis i.
func Pad(t *Tensor, before, after []int, v float32) *Tensor {
	if len(before) != len(t.shape) || len(after) != len(t.shape) {
		panic(fmt.Sprintf("tensor: Pad: %d/%d pad sizes for shape %v", len(before), len(after), t.shape))
	}
	shape := cloneInts(t.shape)
	for i := range shape {
		if before[i] < 0 || after[i] < 0 {
			panic(fmt.Sprintf("tensor: Pad: negative padding %v %v", before, after))
		}
		shape[i] += before[i] + after[i]
	}
	out := Empty(t.buf.b, shape...)
	if out.Size() == 0 {
		return out
	}
	for i := range shape { // the border slabs of every axis (corners twice)
		slab := cloneInts(shape)
		if slab[i] = before[i]; before[i] > 0 {
			out.buf.b.Fill(out.window(i, 0, slab), v)
		}
		if slab[i] = after[i]; after[i] > 0 {
			out.buf.b.Fill(out.window(i, before[i]+t.shape[i], slab), v)
		}
	}
	if t.Size() > 0 {
		off := out.offset
		for i := range shape {
			off += before[i] * out.strides[i]
		}
		dst := View{Buf: out.buf.s, Offset: off, Shape: t.shape, Strides: out.strides}
		out.buf.b.Copy(dst, t.View())
	}
	return out
}
