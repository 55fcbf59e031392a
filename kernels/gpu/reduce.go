package gpu

import "sargo/tensor"

// reducePush mirrors the push constants of shaders/reduce.comp.
type reducePush struct {
	OffDst, OffSrc  uint32
	Outer, N, Inner uint32
	Chunk, Splits   uint32
}

// Passes of reduce.comp (its MODE).
const (
	reduceRows    = 0 // inner == 1: a workgroup per row chunk
	reduceColumns = 1 // inner > 1: a workgroup per 32-column tile and row chunk
	reduceCombine = 2 // fold the chunks' partial results in order
	reduceSerial  = 3 // short axes: an invocation per output
)

// Reduction plan thresholds.
const (
	// reduceTile is the columns of one tile in the columns pass.
	reduceTile = 32
	// reduceShortAxis is the axis length below which the serial pass runs.
	reduceShortAxis = 64
	// reduceTargetGroups is the workgroup count a split aims for.
	reduceTargetGroups = 256
	// reduceMinRowChunk and reduceMinColumnChunk are the fewest elements of
	// the reduced axis per chunk: 4 per invocation of a row workgroup, 8
	// per row lane of a column workgroup, at the tuned workgroup size (the
	// split depends on the shape alone, so a smaller workgroup gives the
	// same chunks and results).
	reduceMinRowChunk    = 4 * tunedLocal
	reduceMinColumnChunk = 8 * tunedLocal / reduceTile
	// maxReduceSplits bounds the partial buffer.
	maxReduceSplits = 64
)

// reducePlan is how one reduction runs: the first pass, the number of
// chunks of the reduced axis (a combine pass follows when above 1), the
// chunk length and the first pass's workgroup count.
type reducePlan struct {
	mode          uint32
	splits, chunk int
	groups        int
}

// planReduce chooses the passes of a reduction over n of [outer, n,
// inner]. The split depends on the shape alone, so results are the same
// on every run and device.
func planReduce(outer, n, inner, local int) reducePlan {
	if n < reduceShortAxis {
		return reducePlan{mode: reduceSerial, splits: 1, chunk: n, groups: (outer*inner + local - 1) / local}
	}
	pl := reducePlan{mode: reduceRows, splits: 1, chunk: n, groups: outer}
	minChunk := reduceMinRowChunk
	if inner > 1 {
		pl.mode = reduceColumns
		pl.groups = outer * ((inner + reduceTile - 1) / reduceTile)
		minChunk = reduceMinColumnChunk
	}
	if pl.groups < reduceTargetGroups {
		s := min((reduceTargetGroups+pl.groups-1)/pl.groups, (n+minChunk-1)/minChunk, maxReduceSplits)
		pl.chunk = (n + s - 1) / s
		pl.splits = (n + pl.chunk - 1) / pl.chunk
		pl.groups *= pl.splits
	}
	return pl
}

// reduceSpec is the specialization of reduce.comp.
func (t Tuning) reduceSpec(op tensor.ReduceOp, mode uint32) []uint32 {
	return []uint32{uint32(op), mode, t.Row}
}

var reduceModeNames = [...]string{"reduce rows", "reduce columns", "reduce combine", "reduce serial"}

// reduceVariants lists the reduction pipelines: each op in each pass, and
// the subgroup row sum where the device has subgroup arithmetic.
func reduceVariants(info Features, t Tuning) []Variant {
	var vs []Variant
	for mode := range uint32(len(reduceModeNames)) {
		for op := range tensor.NumReduceOps {
			vs = append(vs, Variant{Shader: "reduce", Spec: t.reduceSpec(op, mode), Bindings: 3, Group: reduceModeNames[mode], Label: op.String()})
		}
	}
	if info.SubgroupArithmetic {
		vs = append(vs, Variant{Shader: "reduce_subgroup", Spec: t.specs().row, Bindings: 2, Group: "reduce_subgroup", Label: "sum", Subgroup: t.Subgroup})
	}
	return vs
}

// Reduce reduces src viewed as [outer, n, inner] over n into dst [outer,
// inner] (see planReduce and shaders/reduce.comp): short axes one
// invocation per output; rows (inner == 1) a workgroup per row through a
// shared-memory tree, or through subgroup arithmetic for unsplit sums
// where the device has it; columns in coalesced 32-column tiles; long axes
// over few outputs cut into chunks whose partial results a second pass
// adds in order.
func (b *Kernels) Reduce(op tensor.ReduceOp, dst, src tensor.Span, outer, n, inner int) {
	if outer == 0 || inner == 0 {
		return
	}
	pl := planReduce(outer, n, inner, int(b.tune.Row))
	p := reducePush{OffDst: uint32(dst.Offset), OffSrc: uint32(src.Offset), Outer: uint32(outer), N: uint32(n), Inner: uint32(inner),
		Chunk: uint32(pl.chunk), Splits: uint32(pl.splits)}
	groups := [3]uint32{uint32(min(max(pl.groups, 1), maxGroups)), 1, 1}
	if pl.splits == 1 {
		if pl.mode == reduceRows && op == tensor.ReduceSum && b.info.SubgroupArithmetic && !b.noSubgroups {
			launchSized(b, b.tune.Subgroup, "reduce_subgroup", b.spec.row, &p, groups, write(dst.Buf), read(src.Buf))
			return
		}
		// the partial buffer is unused: bind dst in its place
		launch(b, "reduce", b.tune.reduceSpec(op, pl.mode), &p, groups, write(dst.Buf), read(src.Buf), write(dst.Buf))
		return
	}
	size := pl.splits * outer * inner
	if op != tensor.ReduceSum {
		size *= 2 // values, then indices
	}
	part := b.dev.Alloc(size)
	defer b.dev.Free(part)
	launch(b, "reduce", b.tune.reduceSpec(op, pl.mode), &p, groups, write(dst.Buf), read(src.Buf), write(part))
	launch(b, "reduce", b.tune.reduceSpec(op, reduceCombine), &p, groups1D(outer*inner, int(b.tune.Row)), write(dst.Buf), read(src.Buf), read(part))
}
