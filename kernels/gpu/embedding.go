package gpu

import "sargo/tensor"

// Embedding lookup and its backward: shaders/gather.comp and
// scatter_add.comp (a bitonic sort of the (id, row) pairs, then an
// in-order add of each id's rows).

// embeddingVariants lists the embedding pipelines.
func embeddingVariants(t Tuning) []Variant {
	return []Variant{
		{Shader: "check_ids", Spec: t.specs().row, Bindings: 2, Group: "check_ids"},
		{Shader: "gather", Spec: t.specs().elem, Bindings: 3, Group: "gather"},
		{Shader: "scatter_add", Spec: t.scatterSpec(scatterInit), Bindings: 4, Group: "scatter_add", Label: "init"},
		{Shader: "scatter_add", Spec: t.scatterSpec(scatterBlockSort), Bindings: 4, Group: "scatter_add", Label: "block sort"},
		{Shader: "scatter_add", Spec: t.scatterSpec(scatterGlobalStep), Bindings: 4, Group: "scatter_add", Label: "global step"},
		{Shader: "scatter_add", Spec: t.scatterSpec(scatterBlockMerge), Bindings: 4, Group: "scatter_add", Label: "block merge"},
		{Shader: "scatter_add", Spec: t.scatterSpec(scatterAdd), Bindings: 4, Group: "scatter_add", Label: "add"},
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
	launch(b, "gather", b.spec.elem, &push, groups1D(n*dim, int(b.tune.Elem)), write(dst.Buf), read(table.Buf), read(ids.Buf))
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
func (t Tuning) scatterBlock() int { return 2 * int(t.Row) }

type scatterPush struct {
	offDst, offSrc, offIds, n, dim uint32
	n2, k, j                       uint32
	rows                           uint32
}

func (t Tuning) scatterSpec(mode uint32) []uint32 { return []uint32{t.Row, mode} }

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
	scatterBlock := b.tune.scatterBlock()
	n2 := scatterBlock
	for n2 < n {
		n2 *= 2
	}
	keys := b.dev.Alloc(2 * n2)
	defer b.dev.Free(keys)
	push := scatterPush{uint32(dst.Offset), uint32(src.Offset), uint32(ids.Offset), uint32(n), uint32(dim), uint32(n2), 0, 0, uint32(rows)}
	bufs := []Binding{write(dst.Buf), read(src.Buf), read(ids.Buf), write(keys)}
	blocks := groups1D(n2/scatterBlock, 1)
	launch(b, "scatter_add", b.tune.scatterSpec(scatterInit), &push, groups1D(n2, int(b.tune.Row)), bufs...)
	launch(b, "scatter_add", b.tune.scatterSpec(scatterBlockSort), &push, blocks, bufs...)
	for k := 2 * scatterBlock; k <= n2; k *= 2 {
		for j := k / 2; j >= scatterBlock; j /= 2 {
			p := push
			p.k, p.j = uint32(k), uint32(j)
			launch(b, "scatter_add", b.tune.scatterSpec(scatterGlobalStep), &p, groups1D(n2/2, int(b.tune.Row)), bufs...)
		}
		p := push
		p.k = uint32(k)
		launch(b, "scatter_add", b.tune.scatterSpec(scatterBlockMerge), &p, blocks, bufs...)
	}
	launch(b, "scatter_add", b.tune.scatterSpec(scatterAdd), &push, rowGroups(n), bufs...)
}
