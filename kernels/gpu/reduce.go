package gpu

import "sargo/tensor"

// reducePush mirrors the push constants of shaders/reduce.comp.
type reducePush struct {
	OffDst, OffSrc  uint32
	Outer, N, Inner uint32
}

// reduceLocal is the workgroup size of the reduce shader (a power of two).
const reduceLocal = 256

// Reduce reduces src viewed as [outer, n, inner] over n into dst [outer,
// inner]. With inner == 1 one workgroup reduces each row through shared
// memory (through subgroup arithmetic for sums where the device has it);
// otherwise each invocation walks one column.
func (b *Kernels) Reduce(op tensor.ReduceOp, dst, src tensor.Span, outer, n, inner int) {
	if outer == 0 || inner == 0 {
		return
	}
	p := reducePush{OffDst: uint32(dst.Offset), OffSrc: uint32(src.Offset), Outer: uint32(outer), N: uint32(n), Inner: uint32(inner)}
	rows := uint32(0)
	groups := groups1D(outer*inner, reduceLocal)
	if inner == 1 && n >= 64 {
		rows = 1
		groups = [3]uint32{uint32(min(outer, maxGroups)), 1, 1}
		if op == tensor.ReduceSum && b.info.SubgroupArithmetic && !b.noSubgroups {
			launch(b, "reduce_subgroup", []uint32{reduceLocal}, &p, groups, write(dst.Buf), read(src.Buf))
			return
		}
	}
	launch(b, "reduce", []uint32{uint32(op), rows, reduceLocal}, &p, groups, write(dst.Buf), read(src.Buf))
}
