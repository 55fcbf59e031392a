package cpu

import (
	"fmt"
	"math"

	"sargo/tensor"
)

// reduceTile is the number of inner positions one work unit reduces.
const reduceTile = 256

// Reduce reduces src viewed as [outer, n, inner] over n into dst [outer,
// inner]. Sums accumulate in float64. Max and Min propagate NaN; Argmax
// gives the first index of the maximum (a NaN counts as the maximum).
func (b *Backend) Reduce(op tensor.ReduceOp, dst, src tensor.Span, outer, n, inner int) {
	b.reduce(reduceRun{op: op, d: span(dst, outer*inner), s: span(src, outer*n*inner), n: n, inner: inner}, outer)
}

// reduce runs r over outer slices, split across the workers when large.
func (b *Backend) reduce(r reduceRun, outer int) {
	r.tiles = (r.inner + reduceTile - 1) / reduceTile
	units := outer * r.tiles
	grain := max(1, elemGrain/max(1, r.n*min(r.inner, reduceTile)))
	if b.chunks(units, grain) <= 1 {
		r.run(0, units)
		return
	}
	b.reduceParallel(r, units, grain)
}

// SumInto sums each part as Reduce's ReduceSum does (the float32 products
// Src·Mul when the part has Mul) and writes the sum, or adds it in float32
// to the destination's value when the part has Add.
func (b *Backend) SumInto(parts []tensor.SumPart, outer, n, inner int) {
	if len(parts) > tensor.MaxSumParts {
		panic(fmt.Sprintf("cpu: SumInto: %d parts exceed tensor.MaxSumParts", len(parts)))
	}
	for _, p := range parts {
		r := reduceRun{op: tensor.ReduceSum, d: span(p.Dst, outer*inner), s: span(p.Src, outer*n*inner), n: n, inner: inner, add: p.Add}
		if p.Mul.Buf != nil {
			r.m = span(p.Mul, outer*n*inner)
		}
		b.reduce(r, outer)
	}
}

// reduceParallel is Reduce split across the workers, with its launch in a
// frame of the backend.
func (b *Backend) reduceParallel(r reduceRun, units, grain int) {
	launch(b, &b.frames.reduce, units, grain, &r)
}

// reduceRun is one launch of Reduce: src [outer, n, inner] into dst
// [outer, inner], in units of one tile of inner positions of one outer
// index.
type reduceRun struct {
	op       tensor.ReduceOp
	d, s     []float32
	n, inner int
	tiles    int       // tiles per outer index
	add      bool      // sums are added to d's values (SumInto's Add)
	m        []float32 // sums are of s·m (SumInto's Mul), nil for none
}

// run reduces units [lo, hi).
func (r *reduceRun) run(lo, hi int) {
	var acc [reduceTile]float64
	var arg [reduceTile]int
	for u := lo; u < hi; u++ {
		o, t := u/r.tiles, u%r.tiles
		i0 := t * reduceTile
		w := min(reduceTile, r.inner-i0)
		base := o*r.n*r.inner + i0
		if r.m != nil {
			sumProductsInto(r.d[o*r.inner+i0:o*r.inner+i0+w], r.s[base:], r.m[base:], r.n, r.inner, acc[:w], r.add)
			continue
		}
		reduceTileInto(r.op, r.d[o*r.inner+i0:o*r.inner+i0+w], r.s[base:], r.n, r.inner, acc[:w], arg[:w], r.add)
	}
}

// sumProductsInto sums the float32 products s·m of the w columns starting
// at s[0] and m[0] (row stride inner) over n rows into d, in float64; with
// add, each sum is rounded to float32 and added to d's values.
func sumProductsInto(d, s, m []float32, n, inner int, acc []float64, add bool) {
	clear(acc)
	for j := range n {
		row, mrow := s[j*inner:j*inner+len(acc)], m[j*inner:j*inner+len(acc)]
		for i, x := range row {
			acc[i] += float64(float32(x * mrow[i])) // the product rounded as OpMul rounds it
		}
	}
	for i := range d {
		if add {
			d[i] += float32(acc[i])
		} else {
			d[i] = float32(acc[i])
		}
	}
}

// reduceTileInto reduces the w columns starting at s[0] (row stride inner)
// over n rows into d; with add, a sum is rounded to float32 and added to
// d's values.
func reduceTileInto(op tensor.ReduceOp, d, s []float32, n, inner int, acc []float64, arg []int, add bool) {
	if op == tensor.ReduceSum {
		clear(acc)
		for j := range n {
			row := s[j*inner : j*inner+len(acc)]
			done := addWidenVector(acc, row)
			for i, x := range row[done:] {
				acc[done+i] += float64(x)
			}
		}
		if add {
			for i := range d {
				d[i] += float32(acc[i])
			}
			return
		}
		for i := range d {
			d[i] = float32(acc[i])
		}
		return
	}
	if n == 0 {
		for i := range d {
			d[i] = float32(math.NaN())
		}
		return
	}
	best := d
	copy(best, s[:len(d)])
	clear(arg)
	for j := 1; j < n; j++ {
		row := s[j*inner : j*inner+len(d)]
		for i, x := range row {
			m := best[i]
			if m != m {
				continue
			}
			var better bool
			switch op {
			case tensor.ReduceMin:
				better = x < m || x != x
			default:
				better = x > m || x != x
			}
			if better {
				best[i], arg[i] = x, j
			}
		}
	}
	if op == tensor.ReduceArgmax {
		for i := range d {
			d[i] = float32(arg[i])
		}
	}
}
