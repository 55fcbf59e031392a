package gpu

import "sargo/tensor"

// Embedding lookup and its backward: shaders/gather.comp and
// scatter_add.comp.

type embeddingPush struct {
	offDst, offSrc, offIds, n, dim uint32
}

// Gather copies rows ids[i] of table [V, dim] into dst [n, dim].
func (b *Kernels) Gather(dst, table, ids tensor.Span, n, dim int) {
	if n == 0 || dim == 0 {
		return
	}
	push := embeddingPush{uint32(dst.Offset), uint32(table.Offset), uint32(ids.Offset), uint32(n), uint32(dim)}
	b.launch("gather", elemSpec, &push, groups1D(n*dim, elemLocal), write(dst.Buf), read(table.Buf), read(ids.Buf))
}

// ScatterAdd adds row i of src [n, dim] into row ids[i] of dst. Rows with
// the same id are added in increasing i by the workgroup of the id's first
// occurrence, so the result equals a serial loop's bit for bit.
func (b *Kernels) ScatterAdd(dst, src, ids tensor.Span, n, dim int) {
	if n == 0 || dim == 0 {
		return
	}
	push := embeddingPush{uint32(dst.Offset), uint32(src.Offset), uint32(ids.Offset), uint32(n), uint32(dim)}
	b.launch("scatter_add", rowSpec, &push, rowGroups(n), write(dst.Buf), read(src.Buf), read(ids.Buf))
}
