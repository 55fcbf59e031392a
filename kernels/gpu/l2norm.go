package gpu

import "sargo/tensor"

// L2 normalisation over rows: shaders/l2norm.comp and
// shaders/l2norm_backward.comp, one workgroup per row.

// l2normVariants lists the L2-normalisation pipelines.
func l2normVariants(t Tuning) []Variant {
	return []Variant{
		{Shader: "l2norm", Spec: t.specs().row, Bindings: 3, Group: "l2norm"},
		{Shader: "l2norm_backward", Spec: t.specs().row, Bindings: 4, Group: "l2norm_backward"},
	}
}

type l2normPush struct {
	offY, offNorm, offX, rows, n uint32
	eps                          float32
	dim1, dim2                   uint32
	stride                       [3]uint32
}

// L2Normalize writes y = x / min(max(‖x‖, eps), MaxFloat32) per row of
// [rows, n] and each row's ‖x‖; x's rows lie where xRows puts them.
func (b *Kernels) L2Normalize(y, norm, x tensor.Span, xRows tensor.RowLayout, rows, n int, eps float32) {
	if rows == 0 {
		return
	}
	push := l2normPush{uint32(y.Offset), uint32(norm.Offset), uint32(x.Offset), uint32(rows), uint32(n), eps,
		uint32(xRows.Dims[1]), uint32(xRows.Dims[2]),
		[3]uint32{uint32(xRows.Strides[0]), uint32(xRows.Strides[1]), uint32(xRows.Strides[2])}}
	launch(b, "l2norm", b.spec.row, &push, rowGroups(rows), write(y.Buf), write(norm.Buf), read(x.Buf))
}

type l2normBackwardPush struct {
	offDx, offY, offNorm, offGy, rows, n uint32
	eps                                  float32
}

// L2NormalizeBackward writes dx = (gy − y·(Σ gy·y)·[‖x‖ > eps]) / d per
// row.
func (b *Kernels) L2NormalizeBackward(dx, y, norm, gy tensor.Span, rows, n int, eps float32) {
	if rows == 0 || n == 0 {
		return
	}
	push := l2normBackwardPush{uint32(dx.Offset), uint32(y.Offset), uint32(norm.Offset), uint32(gy.Offset), uint32(rows), uint32(n), eps}
	launch(b, "l2norm_backward", b.spec.row, &push, rowGroups(rows), write(dx.Buf), read(y.Buf), read(norm.Buf), read(gy.Buf))
}
