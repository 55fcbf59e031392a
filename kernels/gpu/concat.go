package gpu

import (
	"fmt"

	"sargo/tensor"
)

// Concatenation and its inverse in one launch: shaders/concat.comp and
// split.comp copy between up to tensor.MaxConcatParts contiguous parts and
// their columns of the rows of a contiguous joined tensor, through the
// multi-tensor bindings (multi.glsl): the joined tensor in slot 0, the
// parts' storages after it. split.comp stores through a binding index
// known only at run time, so a split marks every slot written (the
// barrier tracking then orders it after any earlier reader).

// concatVariants lists the concatenation pipeline.
func concatVariants(t Tuning) []Variant {
	return []Variant{
		{Shader: "concat", Spec: t.specs().elem, Bindings: MaxBindings, Group: "concat", Label: "multi"},
		{Shader: "split", Spec: t.specs().elem, Bindings: MaxBindings, Group: "concat", Label: "split"},
	}
}

// concatPush mirrors the push constants of shaders/concat.comp and
// split.comp.
type concatPush struct {
	OffWhole, Rows, RowWidth, Bind uint32
	Off, Col, Width                [tensor.MaxConcatParts]uint32
}

// ConcatRows writes the parts into dst's rows in one dispatch over
// rows·rowWidth elements; columns no part covers are not written.
func (b *Kernels) ConcatRows(dst tensor.Span, rows, rowWidth int, parts []tensor.RowsPart) {
	b.rows("ConcatRows", dst, rows, rowWidth, parts, false)
}

// SplitRows writes the parts' columns of src's rows into the parts in one
// dispatch over rows·rowWidth elements.
func (b *Kernels) SplitRows(src tensor.Span, rows, rowWidth int, parts []tensor.RowsPart) {
	b.rows("SplitRows", src, rows, rowWidth, parts, true)
}

// rows launches concat.comp (into whole) or, when split, split.comp (into
// the parts).
func (b *Kernels) rows(op string, whole tensor.Span, rows, rowWidth int, parts []tensor.RowsPart, split bool) {
	if len(parts) > tensor.MaxConcatParts {
		panic(fmt.Sprintf("gpu: %s: %d parts exceed tensor.MaxConcatParts", op, len(parts)))
	}
	n := rows * rowWidth
	if n == 0 || len(parts) == 0 || !b.checkIndexRange(op, n) {
		return
	}
	var bs bindingSet
	bs.index(whole.Buf, true)
	push := concatPush{OffWhole: uint32(whole.Offset), Rows: uint32(rows), RowWidth: uint32(rowWidth)}
	for k, p := range parts {
		push.Bind |= uint32(bs.index(p.Span.Buf, split)) << (4 * k)
		push.Off[k], push.Col[k], push.Width[k] = uint32(p.Span.Offset), uint32(p.Col), uint32(p.Width)
	}
	name := "concat"
	if split {
		name = "split"
	}
	launch(b, name, b.spec.elem, &push, groups1D(n, int(b.tune.Elem)), bs.all()...)
}
