package cpu

import "sargo/tensor"

// Gather copies rows ids[i] of table [V, dim] into dst [n, dim].
func (b *Backend) Gather(dst, table, ids tensor.Span, n, dim int) {
	d, is := span(dst, n*dim), span(ids, n)
	t := data(table.Buf)[table.Offset:]
	b.parallelFor(n, rowGrain(dim), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			r := int(is[i])
			copy(d[i*dim:(i+1)*dim], t[r*dim:(r+1)*dim])
		}
	})
}

// scatterTile is the number of columns one ScatterAdd work unit owns.
const scatterTile = 64

// ScatterAdd adds row i of src [n, dim] into row ids[i] of dst. Work is
// split over column tiles and rows are added in order within each tile, so
// the result does not depend on the number of workers.
func (b *Backend) ScatterAdd(dst, src, ids tensor.Span, n, dim int) {
	s, is := span(src, n*dim), span(ids, n)
	d := data(dst.Buf)[dst.Offset:]
	tiles := (dim + scatterTile - 1) / scatterTile
	b.parallelFor(tiles, max(1, rowGrain(n*scatterTile)), func(lo, hi int) {
		for t := lo; t < hi; t++ {
			c0 := t * scatterTile
			c1 := min(c0+scatterTile, dim)
			for i := range n {
				r := int(is[i])
				dr, sr := d[r*dim+c0:r*dim+c1], s[i*dim+c0:i*dim+c1]
				for j, v := range sr {
					dr[j] += v
				}
			}
		}
	})
}
