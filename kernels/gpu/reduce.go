package gpu

import "sargo/tensor"

// reducePush mirrors the push constants of shaders/reduce.comp.
type reducePush struct {
	OffDst, OffSrc  uint32
	Outer, N, Inner uint32
}

// reduceLocal is the workgroup size of the reduce shader (a power of two).
const reduceLocal = 256

// reduceSpec is the specialization of reduce.comp.
func reduceSpec(op tensor.ReduceOp, rows bool) []uint32 {
	return []uint32{uint32(op), flag(rows), reduceLocal}
}

// reduceSubgroupSpec is the specialization of reduce_subgroup.comp.
var reduceSubgroupSpec = []uint32{reduceLocal}

// reduceVariants lists the reduction pipelines: each op by rows and by
// columns, and the subgroup row sum where the device has subgroup
// arithmetic.
func reduceVariants(info Features) []Variant {
	var vs []Variant
	for op := range tensor.NumReduceOps {
		vs = append(vs,
			Variant{Shader: "reduce", Spec: reduceSpec(op, true), Bindings: 2, Group: "reduce rows", Label: op.String()},
			Variant{Shader: "reduce", Spec: reduceSpec(op, false), Bindings: 2, Group: "reduce columns", Label: op.String()})
	}
	if info.SubgroupArithmetic {
		vs = append(vs, Variant{Shader: "reduce_subgroup", Spec: reduceSubgroupSpec, Bindings: 2, Group: "reduce_subgroup", Label: "sum"})
	}
	return vs
}

// Reduce reduces src viewed as [outer, n, inner] over n into dst [outer,
// inner]. With inner == 1 one workgroup reduces each row through shared
// memory (through subgroup arithmetic for sums where the device has it);
// otherwise each invocation walks one column.
func (b *Kernels) Reduce(op tensor.ReduceOp, dst, src tensor.Span, outer, n, inner int) {
	if outer == 0 || inner == 0 {
		return
	}
	p := reducePush{OffDst: uint32(dst.Offset), OffSrc: uint32(src.Offset), Outer: uint32(outer), N: uint32(n), Inner: uint32(inner)}
	rows := false
	groups := groups1D(outer*inner, reduceLocal)
	if inner == 1 && n >= 64 {
		rows = true
		groups = [3]uint32{uint32(min(outer, maxGroups)), 1, 1}
		if op == tensor.ReduceSum && b.info.SubgroupArithmetic && !b.noSubgroups {
			b.launch("reduce_subgroup", reduceSubgroupSpec, &p, groups, write(dst.Buf), read(src.Buf))
			return
		}
	}
	b.launch("reduce", reduceSpec(op, rows), &p, groups, write(dst.Buf), read(src.Buf))
}
