package gpu

import "sargo/tensor"

// Concatenation in one launch: shaders/concat.comp writes up to
// tensor.MaxConcatParts contiguous sources, each into its columns of the
// rows of a contiguous destination, through the multi-tensor bindings
// (multi.glsl): the destination in slot 0, the sources' storages after it.

// concatVariants lists the concatenation pipeline.
func concatVariants() []Variant {
	return []Variant{{Shader: "concat", Spec: elemSpec, Bindings: MaxBindings, Group: "concat", Label: "multi"}}
}

// concatPush mirrors the push constants of shaders/concat.comp.
type concatPush struct {
	OffDst, Rows, RowWidth, Bind uint32
	Off, Col, Width              [tensor.MaxConcatParts]uint32
}

// ConcatRows writes the parts into dst's rows in one dispatch over
// rows·rowWidth elements; columns no part covers are not written.
func (b *Kernels) ConcatRows(dst tensor.Span, rows, rowWidth int, parts []tensor.ConcatPart) {
	if len(parts) > tensor.MaxConcatParts {
		panic("gpu: ConcatRows: more than tensor.MaxConcatParts parts")
	}
	n := rows * rowWidth
	if n == 0 || len(parts) == 0 || !b.checkIndexRange("ConcatRows", n) {
		return
	}
	var bs bindingSet
	bs.index(dst.Buf, true)
	push := concatPush{OffDst: uint32(dst.Offset), Rows: uint32(rows), RowWidth: uint32(rowWidth)}
	for k, p := range parts {
		push.Bind |= uint32(bs.index(p.Src.Buf, false)) << (4 * k)
		push.Off[k], push.Col[k], push.Width[k] = uint32(p.Src.Offset), uint32(p.Col), uint32(p.Width)
	}
	launch(b, "concat", elemSpec, &push, groups1D(n, elemLocal), bs.all()...)
}
