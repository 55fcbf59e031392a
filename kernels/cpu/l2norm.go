package cpu

import (
	"math"

	"sargo/tensor"
)

// l2Divisor is min(max(norm, eps), MaxFloat32), NaN for a NaN norm.
func l2Divisor(norm, eps float32) float32 { return min(max(norm, eps), math.MaxFloat32) }

// L2Normalize writes y = x / min(max(‖x‖, eps), MaxFloat32) per row of
// [rows, n] and each row's ‖x‖, the squares summed in float32 as the GPU
// kernels and the composite ops do (a norm beyond MaxFloat32 is +Inf).
func (b *Backend) L2Normalize(y, norm, x tensor.Span, xRows tensor.RowLayout, rows, n int, eps float32) {
	ys, ns, xs := span(y, rows*n), span(norm, rows), data(x.Buf)[x.Offset:]
	l := l2NormLoop{n: n, eps: eps, ys: ys, ns: ns, xs: xs, xRows: xRows}
	if b.chunks(rows, rowGrain(n)) <= 1 {
		l.run(0, rows)
	} else {
		launch(b, &b.frames.l2Norm, rows, rowGrain(n), &l)
	}
}

// L2NormalizeBackward writes dx = (gy − y·c) / d per row, with
// c = (Σ gy·y)·[‖x‖ > eps] (the dot product summed in float64) and d the
// forward's divisor.
func (b *Backend) L2NormalizeBackward(dx, y, norm, gy tensor.Span, rows, n int, eps float32) {
	ds, ys, ns, gs := span(dx, rows*n), span(y, rows*n), span(norm, rows), span(gy, rows*n)
	l := l2NormBackLoop{n: n, eps: eps, ds: ds, ys: ys, ns: ns, gs: gs}
	if b.chunks(rows, rowGrain(n)) <= 1 {
		l.run(0, rows)
	} else {
		launch(b, &b.frames.l2NormBack, rows, rowGrain(n), &l)
	}
}

// l2NormLoop is the parallel loop body of L2Normalize.
type l2NormLoop struct {
	n     int
	eps   float32
	ys    []float32
	ns    []float32
	xs    []float32
	xRows tensor.RowLayout
}

func (l *l2NormLoop) run(lo, hi int) {
	n, eps, ys, ns, xs, xRows := l.n, l.eps, l.ys, l.ns, l.xs, l.xRows
	for r := lo; r < hi; r++ {
		at := xRows.Row(r)
		xr, yr := xs[at:at+n], ys[r*n:(r+1)*n]
		var sum float32
		for _, v := range xr {
			sum += v * v
		}
		nr := float32(math.Sqrt(float64(sum)))
		d := l2Divisor(nr, eps)
		for i, v := range xr {
			yr[i] = v / d
		}
		ns[r] = nr
	}
}

// l2NormBackLoop is the parallel loop body of L2NormalizeBackward.
type l2NormBackLoop struct {
	n   int
	eps float32
	ds  []float32
	ys  []float32
	ns  []float32
	gs  []float32
}

func (l *l2NormBackLoop) run(lo, hi int) {
	n, eps, ds, ys, ns, gs := l.n, l.eps, l.ds, l.ys, l.ns, l.gs
	for r := lo; r < hi; r++ {
		yr, gr, dr := ys[r*n:(r+1)*n], gs[r*n:(r+1)*n], ds[r*n:(r+1)*n]
		var dot float64
		for i, v := range yr {
			dot += float64(gr[i]) * float64(v)
		}
		live := float32(0)
		if ns[r] > eps {
			live = 1
		}
		c := float32(dot) * live
		d := l2Divisor(ns[r], eps)
		for i, v := range yr {
			dr[i] = (gr[i] - v*c) / d
		}
	}
}
