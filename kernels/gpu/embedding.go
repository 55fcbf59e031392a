package gpu

import "sargo/tensor"

// Embedding lookup and its backward: shaders/gather.comp and
// scatter_add.comp (a bitonic sort of the (id, row) pairs, then an
// in-order add of each id's rows).

// embeddingVariants lists the embedding pipelines.
func embeddingVariants() []Variant {
	return []Variant{
		{Shader: "check_ids", Spec: rowSpec, Bindings: 2, Group: "check_ids"},
		{Shader: "gather", Spec: elemSpec, Bindings: 3, Group: "gather"},
		{Shader: "scatter_add", Spec: scatterSpec(scatterInit), Bindings: 4, Group: "scatter_add", Label: "init"},
		{Shader: "scatter_add", Spec: scatterSpec(scatterBlockSort), Bindings: 4, Group: "scatter_add", Label: "block sort"},
		{Shader: "scatter_add", Spec: scatterSpec(scatterGlobalStep), Bindings: 4, Group: "scatter_add", Label: "global step"},
		{Shader: "scatter_add", Spec: scatterSpec(scatterBlockMerge), Bindings: 4, Group: "scatter_add", Label: "block merge"},
		{Shader: "scatter_add", Spec: scatterSpec(scatterAdd), Bindings: 4, Group: "scatter_add", Label: "add"},
	}
}

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

// Passes of scatter_add.comp (its MODE).
const (
	scatterInit       = 0 // write the (id, i) pairs
	scatterBlockSort  = 1 // sort blocks of scatterBlock pairs
	scatterGlobalStep = 2 // one compare-exchange step across blocks
	scatterBlockMerge = 3 // the in-block steps of one stage
	scatterAdd        = 4 // add each id's segment in order
)

// scatterBlock is the pairs one workgroup sorts in shared memory (twice
// its invocations).
const scatterBlock = 2 * rowLocal

type scatterPush struct {
	offDst, offSrc, offIds, n, dim uint32
	n2, k, j                       uint32
	rows                           uint32
}

func scatterSpec(mode uint32) []uint32 { return []uint32{rowLocal, mode} }

// ScatterAdd adds row i of src [n, dim] into row ids[i] of dst [rows,
// dim]. The ids are checked first (checkIDs), and the shader skips a bad
// id, so it never writes outside the table. The (id, i) pairs are sorted
// by a bitonic network (blocks in shared memory, then one dispatch per
// step across blocks and one per stage within them), and each id's rows,
// now contiguous and in increasing i, are added in that order, so the
// result equals a serial loop's bit for bit.
func (b *Kernels) ScatterAdd(dst, src, ids tensor.Span, n, rows, dim int) {
	b.checkIDs(statusScatterAdd, ids, n, rows, 0, false)
	if n == 0 || dim == 0 {
		return
	}
	n2 := scatterBlock
	for n2 < n {
		n2 *= 2
	}
	keys := b.dev.Alloc(2 * n2)
	defer b.dev.Free(keys)
	push := scatterPush{uint32(dst.Offset), uint32(src.Offset), uint32(ids.Offset), uint32(n), uint32(dim), uint32(n2), 0, 0, uint32(rows)}
	bufs := []Binding{write(dst.Buf), read(src.Buf), read(ids.Buf), write(keys)}
	blocks := groups1D(n2/scatterBlock, 1)
	launch(b, "scatter_add", scatterSpec(scatterInit), &push, groups1D(n2, rowLocal), bufs...)
	launch(b, "scatter_add", scatterSpec(scatterBlockSort), &push, blocks, bufs...)
	for k := 2 * scatterBlock; k <= n2; k *= 2 {
		for j := k / 2; j >= scatterBlock; j /= 2 {
			p := push
			p.k, p.j = uint32(k), uint32(j)
			launch(b, "scatter_add", scatterSpec(scatterGlobalStep), &p, groups1D(n2/2, rowLocal), bufs...)
		}
		p := push
		p.k = uint32(k)
		launch(b, "scatter_add", scatterSpec(scatterBlockMerge), &p, blocks, bufs...)
	}
	launch(b, "scatter_add", scatterSpec(scatterAdd), &push, rowGroups(n), bufs...)
}
