package gpu

import "sargo/tensor"

// Embedding lookup and its backward: shaders/gather.comp and
// scatter_add.comp.

type gatherPush struct {
	offDst, offSrc, offIds, n, dim, rows uint32
}

type embeddingPush struct {
	offDst, offSrc, offIds, n, dim uint32
}

// Gather copies rows ids[i] of table [rows, dim] into dst [n, dim]. The ids
// are checked first (checkIDs); the gather itself writes zeros for a bad
// id, so it never reads outside the table.
func (b *Kernels) Gather(dst, table, ids tensor.Span, n, rows, dim int) {
	b.checkIDs(statusGather, ids, n, rows, 0, false)
	if n == 0 || dim == 0 {
		return
	}
	push := gatherPush{uint32(dst.Offset), uint32(table.Offset), uint32(ids.Offset), uint32(n), uint32(dim), uint32(rows)}
	launch(b, "gather", elemSpec, &push, groups1D(n*dim, elemLocal), write(dst.Buf), read(table.Buf), read(ids.Buf))
}

// ScatterAdd adds row i of src [n, dim] into row ids[i] of dst [rows, dim].
// The ids are checked first (checkIDs); dst is bound as exactly its rows,
// so on a robust device a bad id cannot reach another tensor. Rows with
// the same id are added in increasing i by the workgroup of the id's first
// occurrence, so the result equals a serial loop's bit for bit.
func (b *Kernels) ScatterAdd(dst, src, ids tensor.Span, n, rows, dim int) {
	b.checkIDs(statusScatterAdd, ids, n, rows, 0, false)
	if n == 0 || dim == 0 {
		return
	}
	push := embeddingPush{uint32(dst.Offset), uint32(src.Offset), uint32(ids.Offset), uint32(n), uint32(dim)}
	launch(b, "scatter_add", rowSpec, &push, rowGroups(n), write(dst.Buf), read(src.Buf), read(ids.Buf))
}
