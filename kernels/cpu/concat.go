package cpu

import "sargo/tensor"

// ConcatRows copies each part's rows into its columns of dst's rows.
func (b *Backend) ConcatRows(dst tensor.Span, rows, rowWidth int, parts []tensor.ConcatPart) {
	out := span(dst, rows*rowWidth)
	for _, p := range parts {
		src := span(p.Src, rows*p.Width)
		for r := range rows {
			copy(out[r*rowWidth+p.Col:r*rowWidth+p.Col+p.Width], src[r*p.Width:(r+1)*p.Width])
		}
	}
}
