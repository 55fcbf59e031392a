package cpu

import "sargo/tensor"

// ConcatRows copies each part's rows into its columns of dst's rows.
func (b *Backend) ConcatRows(dst tensor.Span, rows, rowWidth int, parts []tensor.RowsPart) {
	whole := span(dst, rows*rowWidth)
	for _, p := range parts {
		part := span(p.Span, rows*p.Width)
		for r := range rows {
			copy(whole[r*rowWidth+p.Col:r*rowWidth+p.Col+p.Width], part[r*p.Width:(r+1)*p.Width])
		}
	}
}

// SplitRows copies each part's columns of src's rows into the part.
func (b *Backend) SplitRows(src tensor.Span, rows, rowWidth int, parts []tensor.RowsPart) {
	whole := span(src, rows*rowWidth)
	for _, p := range parts {
		part := span(p.Span, rows*p.Width)
		for r := range rows {
			copy(part[r*p.Width:(r+1)*p.Width], whole[r*rowWidth+p.Col:r*rowWidth+p.Col+p.Width])
		}
	}
}
