package tensor

import (
	"fmt"
	"slices"
)

// buffer is a reference-counted storage shared by a tensor and its views.
// The backend's Free runs when the last tensor using it is freed.
type buffer struct {
	b    Backend
	s    Storage
	refs int
}

func (buf *buffer) release() {
	if buf.refs--; buf.refs == 0 {
		buf.b.Free(buf.s)
		buf.s = nil // a freed header may stay reachable (see Scope's slabs)
	}
}

// Tensor is an N-d float32 array on one device: a strided view into a
// reference-counted storage. Views share storage; Contiguous copies only
// when needed. A tensor belongs to the device's innermost scope open when
// it was made (see Scope), or to whoever holds it when none was open.
type Tensor struct {
	shape   []int
	strides []int
	// dims holds shape and strides up to rank inlineRank, so that they
	// need no allocation of their own.
	dims   [2 * inlineRank]int
	offset int
	buf    *buffer
	owner  *Scope // the scope that frees it; nil when its holder does
	slot   int    // index in owner.owned
	// freed is set once the tensor has given its storage reference back;
	// closedIn is then where the scope that freed it was opened (0 when
	// Release freed it).
	freed    bool
	closedIn uintptr
}

// inlineRank is the highest rank whose shape and strides a tensor keeps
// in its own header.
const inlineRank = 6

// newTensor makes a view of buf with a copy of shape and strides (nil
// strides: contiguous), owned by the device's innermost scope.
func newTensor(buf *buffer, shape, strides []int, offset int) *Tensor {
	s := innermost(buf.b)
	t := s.newView()
	t.offset = offset
	t.init(buf, shape, strides, s)
	return t
}

// init sets t's storage, taking a reference, and a copy of shape and
// strides (nil strides: contiguous), and hands t to s (nil: to its
// holder).
func (t *Tensor) init(buf *buffer, shape, strides []int, s *Scope) {
	buf.refs++
	t.buf = buf
	if n := len(shape); n <= inlineRank {
		t.shape, t.strides = t.dims[:n:n], t.dims[inlineRank:inlineRank+n:inlineRank+n]
	} else {
		t.shape, t.strides = make([]int, n), make([]int, n)
	}
	copy(t.shape, shape)
	if strides != nil {
		copy(t.strides, strides)
	} else {
		acc := 1
		for i := len(shape) - 1; i >= 0; i-- {
			t.strides[i] = acc
			acc *= shape[i]
		}
	}
	if s != nil {
		s.adopt(t)
	}
}

// fresh is a tensor and the storage it was made with, allocated together.
type fresh struct {
	t   Tensor
	buf buffer
}

// Empty allocates a contiguous tensor of the given shape on b. Its content
// is undefined: Empty is for outputs that are written completely (use
// Zeros for an accumulator).
func Empty(b Backend, shape ...int) *Tensor {
	n := checkShape("Empty", shape)
	s := innermost(b)
	f := s.newFresh()
	f.buf = buffer{b: b, s: b.Alloc(n)}
	f.t.init(&f.buf, shape, nil, s)
	return &f.t
}

// Release frees the tensor now, before the scope that owns it closes (or,
// for a tensor no scope owns, at all): it gives its reference to the
// storage back, and the storage is freed when its last view is released.
// Using the tensor afterwards panics. Release is idempotent and accepts
// nil.
func (t *Tensor) Release() {
	if t == nil || t.freed {
		return
	}
	if t.owner != nil {
		t.owner.disown(t)
	}
	t.free()
}

// free gives the storage reference back.
func (t *Tensor) free() {
	t.freed = true
	t.buf.release()
}

func (t *Tensor) live(op string) {
	if !t.freed {
		return
	}
	if t.closedIn != 0 {
		panic(fmt.Sprintf("tensor: %s: %v used after its scope (opened at %s) closed", op, t, site(t.closedIn)))
	}
	panic(fmt.Sprintf("tensor: %s: %v used after Release", op, t))
}

// Backend is the device holding the tensor.
func (t *Tensor) Backend() Backend { return t.buf.b }

// SameShape reports whether a and b have the same shape, without the
// copies that comparing their Shape would make.
func SameShape(a, b *Tensor) bool { return slices.Equal(a.shape, b.shape) }

// HasShape reports whether t's shape is shape.
func (t *Tensor) HasShape(shape ...int) bool { return slices.Equal(t.shape, shape) }

// Shape returns a copy of the shape.
func (t *Tensor) Shape() []int { return cloneInts(t.shape) }

// AppendShape appends the shape to dst and returns the result: with dst
// an array on the caller's stack, reading a shape costs the Go heap
// nothing.
func (t *Tensor) AppendShape(dst []int) []int { return append(dst, t.shape...) }

// Strides returns a copy of the strides, in elements.
func (t *Tensor) Strides() []int { return cloneInts(t.strides) }

// Dim returns the size of axis i; negative i counts from the end.
func (t *Tensor) Dim(i int) int { return t.shape[normAxis("Dim", i, len(t.shape))] }

// Rank is the number of axes.
func (t *Tensor) Rank() int { return len(t.shape) }

// Size is the number of elements.
func (t *Tensor) Size() int { return numel(t.shape) }

// String is a short description, not the data.
func (t *Tensor) String() string { return fmt.Sprintf("Tensor%v@%s", t.shape, t.buf.b.Name()) }

// IsContiguous reports whether the tensor is laid out row-major with no gaps.
func (t *Tensor) IsContiguous() bool {
	want := 1
	for i := len(t.shape) - 1; i >= 0; i-- {
		if t.shape[i] != 1 && t.strides[i] != want {
			return false
		}
		want *= t.shape[i]
	}
	return true
}

// IsWhole reports whether t is contiguous and addresses its whole storage,
// so that holding t holds no more memory than t's elements.
func (t *Tensor) IsWhole() bool {
	return t.offset == 0 && t.IsContiguous() && t.buf.s.Len() == t.Size()
}

// View is the strided window the tensor addresses, for kernels.
func (t *Tensor) View() View {
	t.live("View")
	return View{Buf: t.buf.s, Offset: t.offset, Shape: t.shape, Strides: t.strides}
}

// Span is the tensor's storage and offset; the tensor must be contiguous.
func (t *Tensor) Span() Span {
	t.live("Span")
	if !t.IsContiguous() {
		panic(fmt.Sprintf("tensor: Span of non-contiguous tensor %v strides %v", t.shape, t.strides))
	}
	return Span{Buf: t.buf.s, Offset: t.offset}
}

// Read copies the tensor to a new Go slice in row-major order, waiting for
// pending work, and returns any device error.
func (t *Tensor) Read() ([]float32, error) {
	c := t.Contiguous()
	out := make([]float32, c.Size())
	err := c.buf.b.Read(c.buf.s, c.offset, out)
	if c != t {
		c.Release()
	}
	if err != nil {
		return nil, fmt.Errorf("read tensor %v from %s: %w", t.shape, t.buf.b.Name(), err)
	}
	return out, nil
}

// Write copies data, t.Size() values in row-major order, into t, which
// must be contiguous.
func (t *Tensor) Write(data []float32) {
	sp := t.Span()
	if len(data) != t.Size() {
		panic(fmt.Sprintf("tensor: Write of %d values into %v", len(data), t))
	}
	if len(data) > 0 {
		t.buf.b.Write(sp.Buf, sp.Offset, data)
	}
}

// Data is Read that panics on a device error; for tests and small tools.
func (t *Tensor) Data() []float32 {
	d, err := t.Read()
	if err != nil {
		panic(err)
	}
	return d
}

// Item returns the single element of a one-element tensor.
func (t *Tensor) Item() float32 {
	if t.Size() != 1 {
		panic(fmt.Sprintf("tensor: Item of tensor with shape %v", t.shape))
	}
	return t.Data()[0]
}

// To copies the tensor to device b (through the host). It returns t itself
// when t already lives on b.
func (t *Tensor) To(b Backend) *Tensor {
	if t.buf.b == b {
		return t
	}
	return FromSlice(b, t.Data(), t.shape...)
}

// ---- creation ----

// FromSlice copies data into a new tensor of the given shape on b.
func FromSlice(b Backend, data []float32, shape ...int) *Tensor {
	if n := checkShape("FromSlice", shape); n != len(data) {
		panic(fmt.Sprintf("tensor: FromSlice: %d values for shape %v (%d elements)", len(data), cloneInts(shape), n))
	}
	t := Empty(b, shape...)
	t.Write(data)
	return t
}

// Scalar makes a zero-rank tensor.
func Scalar(b Backend, v float32) *Tensor { return FromSlice(b, []float32{v}) }

// Zeros makes a tensor of zeros, filled on the device.
func Zeros(b Backend, shape ...int) *Tensor { return Full(b, 0, shape...) }

// Ones makes a tensor of ones.
func Ones(b Backend, shape ...int) *Tensor { return Full(b, 1, shape...) }

// Full makes a tensor filled with v.
func Full(b Backend, v float32, shape ...int) *Tensor {
	t := Empty(b, shape...)
	if t.Size() > 0 {
		b.Fill(t.View(), v)
	}
	return t
}

// EmptyLike makes an uninitialised tensor with t's shape on t's device.
func EmptyLike(t *Tensor) *Tensor { return Empty(t.buf.b, t.shape...) }

// ZerosLike makes zeros with t's shape on t's device.
func ZerosLike(t *Tensor) *Tensor { return Zeros(t.buf.b, t.shape...) }

// Arange makes [start, start+step, ...) with n elements.
func Arange(b Backend, start, step float32, n int) *Tensor {
	d := make([]float32, n)
	for i := range d {
		d[i] = start + float32(i)*step
	}
	return FromSlice(b, d, n)
}

// Rand fills a tensor with U[0,1) from Philox(seed, offset+i).
func Rand(b Backend, seed, offset uint64, shape ...int) *Tensor {
	t := Empty(b, shape...)
	if n := t.Size(); n > 0 {
		b.RandUniform(t.Span(), n, seed, offset)
	}
	return t
}

// Randn fills a tensor with N(0,1) from Philox(seed, offset+i).
func Randn(b Backend, seed, offset uint64, shape ...int) *Tensor {
	t := Empty(b, shape...)
	if n := t.Size(); n > 0 {
		b.RandNormal(t.Span(), n, seed, offset)
	}
	return t
}

// TruncNormal fills a tensor with N(0, std²) truncated to [lo, hi], drawn by
// inverting the CDF of Philox uniforms as torch.nn.init.trunc_normal_ does.
// It is computed on the host so every backend gets the same values.
func TruncNormal(b Backend, seed, offset uint64, std, lo, hi float64, shape ...int) *Tensor {
	n := checkShape("TruncNormal", shape)
	d := make([]float32, n)
	for i := range d {
		d[i] = float32(truncNormal(PhiloxUniform(seed, offset+uint64(i)), std, lo, hi))
	}
	return FromSlice(b, d, shape...)
}

// ---- views ----

// Reshape returns a view with a new shape when t is contiguous, else a
// contiguous copy. One axis may be -1.
func (t *Tensor) Reshape(shape ...int) *Tensor {
	t.live("Reshape")
	var dims [inlineRank]int
	shape = inferShape("Reshape", t.shape, shape, dims[:0])
	if !t.IsContiguous() {
		c := t.Contiguous()
		defer c.Release()
		return c.Reshape(shape...)
	}
	return newTensor(t.buf, shape, nil, t.offset)
}

// ReshapeLike is Reshape to like's shape.
func (t *Tensor) ReshapeLike(like *Tensor) *Tensor { return t.Reshape(like.shape...) }

// Flatten reshapes to one axis.
func (t *Tensor) Flatten() *Tensor { return t.Reshape(-1) }

// Permute reorders the axes: axis i of the result is axis perm[i] of t.
func (t *Tensor) Permute(perm ...int) *Tensor {
	t.live("Permute")
	if len(perm) != len(t.shape) {
		panic(fmt.Sprintf("tensor: Permute: %d axes given for shape %v", len(perm), t.shape))
	}
	var sd, std [inlineRank]int
	shape, strides := ints(sd[:0], len(perm)), ints(std[:0], len(perm))
	for i, p := range perm {
		p = normAxis("Permute", p, len(t.shape))
		if slices.Contains(perm[:i], p) || slices.Contains(perm[:i], p-len(t.shape)) {
			panic(fmt.Sprintf("tensor: Permute: axis %d repeated in %v", p, cloneInts(perm)))
		}
		shape[i], strides[i] = t.shape[p], t.strides[p]
	}
	return newTensor(t.buf, shape, strides, t.offset)
}

// Transpose swaps axes i and j.
func (t *Tensor) Transpose(i, j int) *Tensor {
	var pd [inlineRank]int
	perm := ints(pd[:0], len(t.shape))
	for k := range perm {
		perm[k] = k
	}
	i, j = normAxis("Transpose", i, len(perm)), normAxis("Transpose", j, len(perm))
	perm[i], perm[j] = perm[j], perm[i]
	return t.Permute(perm...)
}

// Narrow selects [start, start+length) along axis.
func (t *Tensor) Narrow(axis, start, length int) *Tensor {
	t.live("Narrow")
	axis = normAxis("Narrow", axis, len(t.shape))
	if start < 0 || length < 0 || start+length > t.shape[axis] {
		panic(fmt.Sprintf("tensor: Narrow: [%d, %d) out of range for axis %d of shape %v", start, start+length, axis, t.shape))
	}
	var sd [inlineRank]int
	shape := append(sd[:0], t.shape...)
	shape[axis] = length
	return newTensor(t.buf, shape, t.strides, t.offset+start*t.strides[axis])
}

// Expand broadcasts size-1 axes (and new leading axes) to shape, without copying.
func (t *Tensor) Expand(shape ...int) *Tensor {
	t.live("Expand")
	var sd, std [inlineRank]int
	out, strides := expandLayout("Expand", t.shape, t.strides, shape, sd[:0], std[:0])
	return newTensor(t.buf, out, strides, t.offset)
}

// broadcastView is the View of t broadcast to to's shape, as Expand gives it,
// without making a tensor.
func (t *Tensor) broadcastView(op string, to *Tensor) View {
	t.live(op)
	if slices.Equal(t.shape, to.shape) {
		return t.View()
	}
	var sd [inlineRank]int
	_, strides := expandLayout(op, t.shape, t.strides, to.shape, sd[:0], to.owner.ints(len(to.shape)))
	return View{Buf: t.buf.s, Offset: t.offset, Shape: to.shape, Strides: strides}
}

// expandLayout is the shape and strides of a tensor of the given shape and
// strides broadcast to to (where -1 keeps an axis), in out's and st's
// storage where they have the room.
func expandLayout(op string, shape, strides, to, out, st []int) ([]int, []int) {
	if len(to) < len(shape) {
		panic(fmt.Sprintf("tensor: %s: cannot expand %v to fewer axes %v", op, shape, cloneInts(to)))
	}
	lead := len(to) - len(shape)
	st = ints(st, len(to))
	clear(st)
	out = append(out[:0], to...)
	for i := range to {
		if i < lead {
			continue // stride 0
		}
		src := shape[i-lead]
		switch {
		case to[i] == -1 || to[i] == src:
			out[i] = src
			st[i] = strides[i-lead]
		case src == 1:
			st[i] = 0
		default:
			panic(fmt.Sprintf("tensor: %s: cannot expand %v to %v (axis %d)", op, shape, cloneInts(to), i))
		}
	}
	return out, st
}

// Unsqueeze inserts a size-1 axis at position axis.
func (t *Tensor) Unsqueeze(axis int) *Tensor {
	if axis < 0 {
		axis += len(t.shape) + 1
	}
	if axis < 0 || axis > len(t.shape) {
		panic(fmt.Sprintf("tensor: Unsqueeze: axis %d for shape %v", axis, t.shape))
	}
	var sd, std [inlineRank]int
	shape := append(append(append(sd[:0], t.shape[:axis]...), 1), t.shape[axis:]...)
	st := 1
	if axis < len(t.shape) {
		st = t.strides[axis] * t.shape[axis]
	}
	strides := append(append(append(std[:0], t.strides[:axis]...), st), t.strides[axis:]...)
	return newTensor(t.buf, shape, strides, t.offset)
}

// Squeeze removes the given size-1 axes, or all size-1 axes when none is given.
func (t *Tensor) Squeeze(axes ...int) *Tensor {
	for _, a := range axes {
		if a = normAxis("Squeeze", a, len(t.shape)); t.shape[a] != 1 {
			panic(fmt.Sprintf("tensor: Squeeze: axis %d of shape %v is not 1", a, t.shape))
		}
	}
	var sd, std [inlineRank]int
	shape, strides := sd[:0], std[:0]
	for i, n := range t.shape {
		drop := n == 1 && len(axes) == 0
		for _, a := range axes {
			drop = drop || normAxis("Squeeze", a, len(t.shape)) == i
		}
		if !drop {
			shape = append(shape, n)
			strides = append(strides, t.strides[i])
		}
	}
	return newTensor(t.buf, shape, strides, t.offset)
}

// Contiguous returns t when it is contiguous, else a row-major copy.
func (t *Tensor) Contiguous() *Tensor {
	t.live("Contiguous")
	if t.IsContiguous() {
		return t
	}
	return t.Clone()
}

// Clone always copies into a new contiguous tensor.
func (t *Tensor) Clone() *Tensor {
	out := Empty(t.buf.b, t.shape...)
	if out.Size() > 0 {
		t.buf.b.Copy(out.View(), t.View())
	}
	return out
}

// Fill sets every element of t, which may be a view, to v.
func (t *Tensor) Fill(v float32) {
	t.live("Fill")
	if t.Size() > 0 {
		t.buf.b.Fill(t.View(), v)
	}
}

// CopyFrom writes src (same shape, same device) into t, which may be a view.
func (t *Tensor) CopyFrom(src *Tensor) {
	t.live("CopyFrom")
	mustSameShape("CopyFrom", t, src)
	mustSameDevice("CopyFrom", t, src)
	if t.Size() > 0 {
		t.buf.b.Copy(t.View(), src.View())
	}
}
