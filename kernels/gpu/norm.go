package gpu

import "sargo/tensor"

// Layer norm and group norm: shaders/norm.comp (forward),
// norm_backward.comp (input gradient) and norm_backward_params.comp
// (weight and bias gradients, accumulated). Both norms are rows: a layer
// norm is Rows rows of N with one parameter per element, a group norm is
// Batch·Groups rows of (C/Groups)·HW with one parameter per channel.

// normRows describes NormArgs as rows whose element i of row r uses
// affine parameter (r % groups)·chans + i/hw.
type normRows struct {
	rows, rowLen, groups, chans, hw, params uint32
}

func normShape(a tensor.NormArgs) normRows {
	if a.Groups > 0 && a.C > 0 {
		cg := a.C / a.Groups
		return normRows{uint32(a.Batch * a.Groups), uint32(cg * a.HW), uint32(a.Groups), uint32(cg), uint32(a.HW), uint32(a.C)}
	}
	return normRows{uint32(a.Rows), uint32(a.N), 1, uint32(a.N), 1, uint32(a.N)}
}

// normVariants lists the norm pipelines.
func normVariants(t Tuning) []Variant {
	return []Variant{
		{Shader: "norm", Spec: t.specs().row, Bindings: 6, Group: "norm"},
		{Shader: "norm_backward", Spec: t.specs().row, Bindings: 6, Group: "norm_backward"},
		{Shader: "norm_backward_params", Spec: t.normParamsSpec(normParamsPerParameter), Bindings: 7, Group: "norm_backward_params", Label: "per parameter"},
		{Shader: "norm_backward_params", Spec: t.normParamsSpec(normParamsColumns), Bindings: 7, Group: "norm_backward_params", Label: "columns"},
		{Shader: "norm_backward_params", Spec: t.normParamsSpec(normParamsCombine), Bindings: 7, Group: "norm_backward_params", Label: "combine"},
	}
}

type normPush struct {
	offY, offMean, offRstd, offX, offW, offB uint32
	rows, rowLen, groups, chans, hw, flags   uint32
	eps                                      float32
}

// Norm computes a layer norm or group norm with two-pass statistics
// (biased variance), writing y, the mean and 1/sqrt(var + eps) per row.
func (b *Kernels) Norm(a tensor.NormArgs, y, mean, rstd, x, w, bias tensor.Span) {
	s := normShape(a)
	if s.rows == 0 {
		return
	}
	hasW, hasB := a.HasWeight && w.Buf != nil, a.HasBias && bias.Buf != nil
	wb, freeW := b.placeholder(optional(w, hasW))
	defer freeW()
	bb, freeB := b.placeholder(optional(bias, hasB))
	defer freeB()
	n := int(s.rows * s.rowLen)
	yb, freeY := b.sized(y, n)
	defer freeY()
	xb, freeX := b.sized(x, n)
	defer freeX()
	push := normPush{uint32(y.Offset), uint32(mean.Offset), uint32(rstd.Offset), uint32(x.Offset), uint32(w.Offset), uint32(bias.Offset),
		s.rows, s.rowLen, s.groups, s.chans, s.hw, flag(hasW) | flag(hasB)<<1, a.Eps}
	launch(b, "norm", b.spec.row, &push, rowGroups(int(s.rows)),
		write(yb), write(mean.Buf), write(rstd.Buf), read(xb), read(wb), read(bb))
}

// optional returns sp when use is true and an unset span otherwise.
func optional(sp tensor.Span, use bool) tensor.Span {
	if !use {
		return tensor.Span{}
	}
	return sp
}

type normBackwardPush struct {
	offDx, offX, offMean, offRstd, offW, offGy uint32
	rows, rowLen, groups, chans, hw, hasWeight uint32
}

type normParamsPush struct {
	offDw, offDb, offX, offMean, offRstd, offGy    uint32
	rows, rowLen, groups, chans, hw, params, flags uint32
	chunk, splits                                  uint32
}

// Passes of norm_backward_params.comp (its MODE).
const (
	normParamsPerParameter = 0 // group norms: a workgroup per parameter
	normParamsColumns      = 1 // layer norms: 32-column tiles by chunks of rows
	normParamsCombine      = 2 // add the chunks' partial sums in order
)

// normParamsSpec is the specialization of norm_backward_params.comp.
func (t Tuning) normParamsSpec(mode uint32) []uint32 { return []uint32{t.Row, mode} }

// NormBackward writes dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) with g = gy·w
// and x̂ = (x − mean)·rstd, and adds Σ gy·x̂ into dw and Σ gy into db when
// their spans are set, summed in a fixed order per parameter.
func (b *Kernels) NormBackward(a tensor.NormArgs, dx, dw, db, x, mean, rstd, w, gy tensor.Span) {
	s := normShape(a)
	if s.rows == 0 {
		return
	}
	hasW := a.HasWeight && w.Buf != nil
	wb, freeW := b.placeholder(optional(w, hasW))
	defer freeW()
	n := int(s.rows * s.rowLen)
	if n == 0 {
		return // no dx to write, and parameter gradients over no elements add nothing
	}
	push := normBackwardPush{uint32(dx.Offset), uint32(x.Offset), uint32(mean.Offset), uint32(rstd.Offset), uint32(w.Offset), uint32(gy.Offset),
		s.rows, s.rowLen, s.groups, s.chans, s.hw, flag(hasW)}
	launch(b, "norm_backward", b.spec.row, &push, rowGroups(int(s.rows)),
		write(dx.Buf), read(x.Buf), read(mean.Buf), read(rstd.Buf), read(wb), read(gy.Buf))
	if dw.Buf == nil && db.Buf == nil {
		return
	}
	dwb, freeDw := b.placeholder(dw)
	defer freeDw()
	dbb, freeDb := b.placeholder(db)
	defer freeDb()
	pp := normParamsPush{uint32(dw.Offset), uint32(db.Offset), uint32(x.Offset), uint32(mean.Offset), uint32(rstd.Offset), uint32(gy.Offset),
		s.rows, s.rowLen, s.groups, s.chans, s.hw, s.params, flag(dw.Buf != nil) | flag(db.Buf != nil)<<1, s.rows, 1}
	bufs := []Binding{write(dwb), write(dbb), read(x.Buf), read(mean.Buf), read(rstd.Buf), read(gy.Buf), write(dwb)}
	if s.groups > 1 || s.hw > 1 {
		// group norm: each parameter's elements are hw-long runs
		launch(b, "norm_backward_params", b.tune.normParamsSpec(normParamsPerParameter), &pp, rowGroups(int(s.params)), bufs...)
		return
	}
	// layer norm: parameter q is column q; the columns plan of Reduce
	pl := planReduce(1, int(s.rows), int(s.params), int(b.tune.Row))
	pp.chunk, pp.splits = uint32(pl.chunk), uint32(pl.splits)
	groups := [3]uint32{uint32(min(max(pl.groups, 1), maxGroups)), 1, 1}
	if pl.mode != reduceColumns || pl.splits == 1 {
		pp.chunk, pp.splits = s.rows, 1
		groups[0] = uint32(min(max((int(s.params)+reduceTile-1)/reduceTile, 1), maxGroups))
		launch(b, "norm_backward_params", b.tune.normParamsSpec(normParamsColumns), &pp, groups, bufs...)
		return
	}
	part := b.dev.Alloc(2 * pl.splits * int(s.params))
	defer b.dev.Free(part)
	bufs[6] = write(part)
	launch(b, "norm_backward_params", b.tune.normParamsSpec(normParamsColumns), &pp, groups, bufs...)
	launch(b, "norm_backward_params", b.tune.normParamsSpec(normParamsCombine), &pp, groups1D(int(s.params), int(b.tune.Row)), bufs...)
}
