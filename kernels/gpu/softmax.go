package gpu

import "sargo/tensor"

// Softmax, log-softmax and cross-entropy: shaders/softmax.comp,
// softmax_backward.comp, crossentropy.comp and crossentropy_backward.comp.
// Row kernels run one workgroup per row; the backward of cross-entropy is
// elementwise.

// rowGroups is one workgroup per row, capped (the shaders grid-stride).
func rowGroups(rows int) [3]uint32 { return groups1D(rows, 1) }

// flag is 1 for true and 0 for false.
func flag(v bool) uint32 {
	if v {
		return 1
	}
	return 0
}

// sized returns the storage of sp, or a placeholder (see placeholder) when
// the span holds no elements: a storage of no elements is never bound.
func (b *Kernels) sized(sp tensor.Span, n int) (tensor.Storage, func()) {
	return b.placeholder(optional(sp, n > 0))
}

// placeholder returns the storage of sp, or, when sp is unset, a fresh
// one-element storage to bind in its place and a function releasing it.
// Kernels are told by a flag not to touch such a binding.
func (b *Kernels) placeholder(sp tensor.Span) (tensor.Storage, func()) {
	if sp.Buf != nil {
		return sp.Buf, func() {}
	}
	s := b.dev.Alloc(1)
	return s, func() { b.dev.Free(s) }
}

// softmaxVariants lists the softmax and cross-entropy pipelines.
func softmaxVariants(t Tuning) []Variant {
	return []Variant{
		{Shader: "softmax", Spec: t.specs().row, Bindings: 2, Group: "softmax"},
		{Shader: "softmax_backward", Spec: t.specs().row, Bindings: 3, Group: "softmax_backward"},
		{Shader: "crossentropy", Spec: t.specs().row, Bindings: 4, Group: "crossentropy"},
		{Shader: "crossentropy_backward", Spec: t.specs().elem, Bindings: 5, Group: "crossentropy_backward"},
	}
}

type softmaxPush struct {
	offDst, offSrc, rows, n, logMode uint32
}

// Softmax writes softmax (or log-softmax) of each row of [rows, n].
func (b *Kernels) Softmax(dst, src tensor.Span, rows, n int, log bool) {
	if rows == 0 || n == 0 {
		return
	}
	push := softmaxPush{uint32(dst.Offset), uint32(src.Offset), uint32(rows), uint32(n), flag(log)}
	launch(b, "softmax", b.spec.row, &push, rowGroups(rows), write(dst.Buf), read(src.Buf))
}

type softmaxBackwardPush struct {
	offDx, offY, offGy, rows, n, logMode uint32
}

// SoftmaxBackward computes dx = y·(gy − Σ gy·y) for softmax, or
// dx = gy − e^y·Σ gy for log-softmax, from the forward output y.
func (b *Kernels) SoftmaxBackward(dx, y, gy tensor.Span, rows, n int, log bool) {
	if rows == 0 || n == 0 {
		return
	}
	push := softmaxBackwardPush{uint32(dx.Offset), uint32(y.Offset), uint32(gy.Offset), uint32(rows), uint32(n), flag(log)}
	launch(b, "softmax_backward", b.spec.row, &push, rowGroups(rows), write(dx.Buf), read(y.Buf), read(gy.Buf))
}

type crossEntropyPush struct {
	offLoss, offLse, offLogits, offTargets, rows, n uint32
	ignore                                          int32
	smoothing                                       float32
}

// CrossEntropy writes per-row losses lse − ((1−s)·x[t] + (s/n)·Σx) and
// each row's log-sum-exp; rows whose target is ignore get loss 0. The
// targets are checked first (checkIDs); the kernel treats a bad one as
// ignored, so it never reads outside the row.
func (b *Kernels) CrossEntropy(loss, lse, logits, targets tensor.Span, rows, n, ignore int, smoothing float32) {
	if rows == 0 {
		return
	}
	b.checkIDs(statusCrossEntropy, targets, rows, n, ignore, true)
	x, free := b.sized(logits, rows*n)
	defer free()
	push := crossEntropyPush{uint32(loss.Offset), uint32(lse.Offset), uint32(logits.Offset), uint32(targets.Offset),
		uint32(rows), uint32(n), int32(ignore), smoothing}
	launch(b, "crossentropy", b.spec.row, &push, rowGroups(rows),
		write(loss.Buf), write(lse.Buf), read(x), read(targets.Buf))
}

type crossEntropyBackwardPush struct {
	offD, offLogits, offLse, offTargets, offGloss, rows, n uint32
	ignore                                                 int32
	smoothing                                              float32
}

// CrossEntropyBackward writes dlogits = gloss[row]·(softmax − target
// distribution); ignored rows get zeros.
func (b *Kernels) CrossEntropyBackward(dlogits, logits, lse, targets, gloss tensor.Span, rows, n, ignore int, smoothing float32) {
	if rows == 0 {
		return
	}
	b.checkIDs(statusCrossEntropy, targets, rows, n, ignore, true)
	if n == 0 {
		return
	}
	push := crossEntropyBackwardPush{uint32(dlogits.Offset), uint32(logits.Offset), uint32(lse.Offset), uint32(targets.Offset),
		uint32(gloss.Offset), uint32(rows), uint32(n), int32(ignore), smoothing}
	launch(b, "crossentropy_backward", b.spec.elem, &push, groups1D(rows*n, int(b.tune.Elem)),
		write(dlogits.Buf), read(logits.Buf), read(lse.Buf), read(targets.Buf), read(gloss.Buf))
}
