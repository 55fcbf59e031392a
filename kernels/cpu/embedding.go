package cpu

import "sargo/tensor"

// Gather copies rows ids[i] of table [rows, dim] into dst [n, dim], after
// checking every id (tensor.CheckIDs); a bad id is the sticky error and
// nothing is read.
func (b *Backend) Gather(dst, table, ids tensor.Span, n, rows, dim int) {
	is := span(ids, n)
	if err := tensor.CheckIDs("Gather", is, rows, 0, false); err != nil {
		b.fail(err)
		return
	}
	d := span(dst, n*dim)
	t := data(table.Buf)[table.Offset:][:rows*dim]
	b.parallelFor(n, rowGrain(dim), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			r := int(is[i])
			copy(d[i*dim:(i+1)*dim], t[r*dim:(r+1)*dim])
		}
	})
}

// scatterTile is the number of columns one ScatterAdd work unit owns.
const scatterTile = 64

// ScatterAdd adds row i of src [n, dim] into row ids[i] of dst [rows,
// dim], after checking every id (tensor.CheckIDs); a bad id is the sticky
// error and nothing is written. Work is split over column tiles and rows
// are added in order within each tile, so the result does not depend on
// the number of workers.
func (b *Backend) ScatterAdd(dst, src, ids tensor.Span, n, rows, dim int) {
	is := span(ids, n)
	if err := tensor.CheckIDs("ScatterAdd", is, rows, 0, false); err != nil {
		b.fail(err)
		return
	}
	s := span(src, n*dim)
	d := data(dst.Buf)[dst.Offset:][:rows*dim]
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
