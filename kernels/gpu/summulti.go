package gpu

import (
	"fmt"

	"sargo/tensor"
)

// Several sums of one geometry in one dispatch (shaders/sum_multi.comp):
// the parts share the passes planReduce chooses for [outer, n, inner],
// the part being the workgroup's second grid coordinate, and a part may add
// its sum into its destination instead of writing it. A gradient that
// reduces several broadcast operands over the same axes (AdaLN's scale
// and shift) is one launch, and a leaf's gradient that already holds a
// value is accumulated in the reduction itself.

// sumMultiPush mirrors the push constants of shaders/sum_multi.comp.
type sumMultiPush struct {
	Outer, N, Inner uint32
	Chunk, Splits   uint32
	OffPart         uint32
	OffSrc          [tensor.MaxSumParts]uint32
	OffDst          [tensor.MaxSumParts]uint32
	OffMul          [tensor.MaxSumParts]uint32
	Flags           [tensor.MaxSumParts]uint32 // bindings: source | destination << 4 | mul << 8; add << 12, mul << 13
}

// Flags of a sum_multi part: it adds into its destination; it sums
// products.
const (
	sumMultiAdd = 1 << 12
	sumMultiMul = 1 << 13
)

// sumMultiSpec is the specialization of sum_multi.comp for a pass.
func (t Tuning) sumMultiSpec(mode uint32) []uint32 { return []uint32{mode, t.Row} }

// sumMultiVariants lists the pipelines of SumInto: each pass.
func sumMultiVariants(t Tuning) []Variant {
	var vs []Variant
	for mode := range uint32(len(reduceModeNames)) {
		vs = append(vs, Variant{Shader: "sum_multi", Spec: t.sumMultiSpec(mode), Bindings: MaxBindings, Group: "sum_multi", Label: reduceModeNames[mode]})
	}
	return vs
}

// SumInto sums every part over n of [outer, n, inner] in one dispatch
// (two when the axis is long enough to be split into chunks: the partial
// sums, then their combination), with the passes and chunks of Reduce.
// Parts whose storages do not fit the bindings of one dispatch with the
// others' go to a dispatch of their own.
func (b *Kernels) SumInto(parts []tensor.SumPart, outer, n, inner int) {
	if len(parts) > tensor.MaxSumParts {
		panic(fmt.Sprintf("gpu: SumInto: %d parts exceed tensor.MaxSumParts", len(parts)))
	}
	if len(parts) == 0 || outer == 0 || inner == 0 || !b.checkIndexRange("SumInto", outer*n*inner) {
		return
	}
	pl := planReduce(outer, n, inner, int(b.tune.Row))
	var part tensor.Storage
	if pl.splits > 1 {
		part = b.dev.Alloc(len(parts) * pl.splits * outer * inner)
		defer b.dev.Free(part)
	}
	for len(parts) > 0 {
		var bs bindingSet
		if part != nil {
			bs.index(part, true)
		}
		k := 0
		for ; k < len(parts); k++ {
			q := parts[k]
			ss := []tensor.Storage{q.Src.Buf, q.Dst.Buf}
			if q.Mul.Buf != nil {
				ss = append(ss, q.Mul.Buf)
			}
			if !bs.fits(ss...) {
				break
			}
			bs.index(q.Src.Buf, false)
			bs.index(q.Dst.Buf, true)
			if q.Mul.Buf != nil {
				bs.index(q.Mul.Buf, false)
			}
		}
		b.sumMulti(pl, &bs, parts[:k], outer, n, inner)
		parts = parts[k:]
	}
}

// sumMulti launches the passes of plan pl for parts, whose storages bs
// holds (the partial buffer, when pl splits, in slot 0).
func (b *Kernels) sumMulti(pl reducePlan, bs *bindingSet, parts []tensor.SumPart, outer, n, inner int) {
	p := sumMultiPush{Outer: uint32(outer), N: uint32(n), Inner: uint32(inner), Chunk: uint32(pl.chunk), Splits: uint32(pl.splits)}
	for k, q := range parts {
		p.OffSrc[k], p.OffDst[k] = uint32(q.Src.Offset), uint32(q.Dst.Offset)
		p.Flags[k] = uint32(bs.index(q.Src.Buf, false)) | uint32(bs.index(q.Dst.Buf, true))<<4
		if q.Mul.Buf != nil {
			p.OffMul[k] = uint32(q.Mul.Offset)
			p.Flags[k] |= uint32(bs.index(q.Mul.Buf, false))<<8 | sumMultiMul
		}
		if q.Add {
			p.Flags[k] |= sumMultiAdd
		}
	}
	// sum_multi stores through a binding index known only at run time, so
	// every slot counts as written (the barrier tracking then orders the
	// dispatch after any earlier reader, as the validation layer expects).
	for i := range bs.n {
		bs.bufs[i].Write = true
	}
	ks := uint32(len(parts))
	groups := [3]uint32{uint32(min(max(pl.groups, 1), maxGroups)), ks, 1}
	launch(b, "sum_multi", b.tune.sumMultiSpec(pl.mode), &p, groups, bs.all()...)
	if pl.splits > 1 {
		g := groups1D(outer*inner, int(b.tune.Row))
		g[1] = ks
		launch(b, "sum_multi", b.tune.sumMultiSpec(reduceCombine), &p, g, bs.all()...)
	}
}
