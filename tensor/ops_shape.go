package tensor

import "fmt"

// Joining, splitting and padding, all built on strided copies into views.

// Concat joins tensors along axis; all other axes must match.
func Concat(axis int, ts ...*Tensor) *Tensor {
	if len(ts) == 0 {
		panic("tensor: Concat of no tensors")
	}
	mustSameDevice("Concat", ts...)
	axis = normAxis("Concat", axis, len(ts[0].shape))
	shape := cloneInts(ts[0].shape)
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
	at := 0
	for _, t := range ts {
		if t.Size() > 0 {
			dst := out.Narrow(axis, at, t.shape[axis])
			dst.CopyFrom(t)
			dst.Release()
		}
		at += t.shape[axis]
	}
	return out
}

// Stack joins same-shape tensors along a new axis.
func Stack(axis int, ts ...*Tensor) *Tensor {
	us := make([]*Tensor, len(ts))
	for i, t := range ts {
		a := axis
		if a < 0 {
			a += len(t.shape) + 1
		}
		us[i] = t.Unsqueeze(a)
	}
	out := Concat(axis, us...)
	for _, u := range us {
		u.Release()
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
	out := Full(t.buf.b, v, shape...)
	inner := out
	for i := range shape {
		n := inner.Narrow(i, before[i], t.shape[i])
		if inner != out {
			inner.Release()
		}
		inner = n
	}
	if t.Size() > 0 {
		inner.CopyFrom(t)
	}
	if inner != out {
		inner.Release()
	}
	return out
}
