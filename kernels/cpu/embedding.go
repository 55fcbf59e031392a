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
	l := gatherLoop{dim: dim, is: is, d: d, t: t}
	if b.chunks(n, rowGrain(dim)) <= 1 {
		l.run(0, n)
	} else {
		launch(b, &b.frames.gather, n, rowGrain(dim), &l)
	}
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
	l := scatterLoop{n: n, dim: dim, is: is, d: d, s: s}
	if b.chunks(tiles, max(1, rowGrain(n*scatterTile))) <= 1 {
		l.run(0, tiles)
	} else {
		launch(b, &b.frames.scatter, tiles, max(1, rowGrain(n*scatterTile)), &l)
	}
}

// gatherLoop is the parallel loop body of Gather.
type gatherLoop struct {
	dim int
	is  []float32
	d   []float32
	t   []float32
}

func (l *gatherLoop) run(lo, hi int) {
	dim, is, d, t := l.dim, l.is, l.d, l.t
	for i := lo; i < hi; i++ {
		r := int(is[i])
		copy(d[i*dim:(i+1)*dim], t[r*dim:(r+1)*dim])
	}
}

// scatterLoop is the parallel loop body of ScatterAdd.
type scatterLoop struct {
	n   int
	dim int
	is  []float32
	d   []float32
	s   []float32
}

func (l *scatterLoop) run(lo, hi int) {
	n, dim, is, d, s := l.n, l.dim, l.is, l.d, l.s
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
}
