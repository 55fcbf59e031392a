package gpu

import "sargo/tensor"

// The squared norm of several tensors: shaders/sumsq_multi.comp writes one
// partial sum of squares per workgroup, over up to sumsqParts tensors per
// dispatch, and the reduce kernel adds the partials.

// sumsqParts is the most tensors one sumsq_multi dispatch reads.
const sumsqParts = MaxBindings - 1

// sumsqChunk is the elements one sumsq_multi workgroup sums, at least.
const sumsqChunk = 4096

// sumsqVariants lists the squared-norm pipeline.
func sumsqVariants(t Tuning) []Variant {
	return []Variant{{Shader: "sumsq_multi", Spec: t.specs().row, Bindings: MaxBindings, Group: "sumsq", Label: "multi"}}
}

// sumsqPush mirrors the push constants of shaders/sumsq_multi.comp.
type sumsqPush struct {
	OffOut, Chunk uint32
	Bind          [sumsqParts]uint32
	Off           [sumsqParts]uint32
	End           [sumsqParts]uint32
}

// sumsqGroup is one dispatch's parts: the partials it writes.
type sumsqGroup struct {
	push   sumsqPush
	bs     bindingSet
	total  int
	groups int
}

// SquaredNorm writes Σx² over every part into dst[0]: each dispatch
// covers consecutive parts whose storages fit the bindings, its
// workgroups each sum a chunk of their concatenation into a partial, and
// one reduction adds the partials, all in float32.
func (b *Kernels) SquaredNorm(dst tensor.Span, parts []tensor.Span, ns []int) {
	var groups []sumsqGroup
	cur := sumsqGroup{}
	cur.bs.index(nil, true) // slot 0: the partials, bound at launch
	k := 0
	seal := func() {
		if k == 0 {
			return
		}
		for j := k; j < sumsqParts; j++ {
			cur.push.Bind[j], cur.push.End[j] = 1, uint32(cur.total)
		}
		chunk := max(sumsqChunk, (cur.total+maxGroups-1)/maxGroups)
		cur.push.Chunk = uint32(chunk)
		cur.groups = (cur.total + chunk - 1) / chunk
		groups = append(groups, cur)
		cur, k = sumsqGroup{}, 0
		cur.bs.index(nil, true)
	}
	for i, s := range parts {
		if ns[i] == 0 {
			continue
		}
		if k == sumsqParts || !cur.bs.fits(s.Buf) {
			seal()
		}
		if !b.checkIndexRange("SquaredNorm", cur.total+ns[i]) {
			return
		}
		cur.total += ns[i]
		cur.push.Bind[k] = uint32(cur.bs.index(s.Buf, false))
		cur.push.Off[k], cur.push.End[k] = uint32(s.Offset), uint32(cur.total)
		k++
	}
	seal()
	if len(groups) == 0 {
		b.Fill(tensor.View{Buf: dst.Buf, Offset: dst.Offset, Shape: []int{1}, Strides: []int{1}}, 0)
		return
	}
	n := 0
	for _, g := range groups {
		n += g.groups
	}
	partials := b.dev.Alloc(n)
	defer b.dev.Free(partials)
	off := 0
	for i := range groups {
		g := &groups[i]
		g.push.OffOut = uint32(off)
		g.bs.bufs[0] = Binding{Storage: partials, Write: true}
		launch(b, "sumsq_multi", b.spec.row, &g.push, [3]uint32{uint32(g.groups), 1, 1}, g.bs.all()...)
		off += g.groups
	}
	b.Reduce(tensor.ReduceSum, dst, tensor.Span{Buf: partials}, 1, n, 1)
}
