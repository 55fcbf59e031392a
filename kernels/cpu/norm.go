package cpu

import (
	"math"

	"sargo/tensor"
)

// normShape maps NormArgs onto rows of length rowLen whose element i uses
// affine parameter (row % groups)·chans + i/hw. A layer norm (Groups == 0)
// is rows of N with one parameter per element; a group norm is Batch·Groups
// rows of (C/Groups)·HW elements with one parameter per channel.
type normShape struct {
	rows, rowLen, groups, chans, hw, params int
}

func shapeOf(a tensor.NormArgs) normShape {
	if a.Groups > 0 && a.C > 0 {
		cg := a.C / a.Groups
		return normShape{rows: a.Batch * a.Groups, rowLen: cg * a.HW, groups: a.Groups, chans: cg, hw: a.HW, params: a.C}
	}
	return normShape{rows: a.Rows, rowLen: a.N, groups: 1, chans: a.N, hw: 1, params: a.N}
}

// Norm computes a layer norm or group norm with float64 statistics
// (biased variance), writing y, the mean and the reciprocal standard
// deviation 1/sqrt(var + eps). Group norms take groupNorm, layer norms
// rowNorm (two-pass statistics).
func (b *Backend) Norm(a tensor.NormArgs, y, mean, rstd, x, w, bias tensor.Span) {
	s := shapeOf(a)
	n := s.rowLen
	ys, xs := span(y, s.rows*n), span(x, s.rows*n)
	ms, rs := span(mean, s.rows), span(rstd, s.rows)
	var ws, bs []float32
	if a.HasWeight {
		ws = span(w, s.params)
	}
	if a.HasBias {
		bs = span(bias, s.params)
	}
	if a.Groups > 0 && a.C > 0 {
		b.groupNorm(s, a.Eps, ys, ms, rs, xs, ws, bs)
		return
	}
	b.rowNorm(s, a.Eps, ys, ms, rs, xs, ws, bs)
}

// rowNorm is Norm row by row with the affine parameters applied run by
// run (segments): the layer norm's kernel, which also computes group
// norms (the reference groupNorm is tested and timed against).
func (b *Backend) rowNorm(s normShape, eps float32, ys, ms, rs, xs, ws, bs []float32) {
	n := s.rowLen
	l := rowNormLoop{s: s, eps: eps, n: n, ys: ys, ms: ms, rs: rs, xs: xs, ws: ws, bs: bs}
	if b.chunks(s.rows, rowGrain(n)) <= 1 {
		l.run(0, s.rows)
	} else {
		launch(b, &b.frames.rowNorm, s.rows, rowGrain(n), &l)
	}
}

// segments calls f(p, i0, i1) for the runs [i0, i1) of row r whose
// elements share affine parameter p: the channels of a group norm's row,
// or the single elements of a layer norm's. Without affine parameters
// (affine false) it calls f(-1, 0, rowLen) once.
func (s normShape) segments(r int, f func(p, i0, i1 int), affine bool) {
	if !affine {
		f(-1, 0, s.rowLen)
		return
	}
	p0 := (r % s.groups) * s.chans
	for c := range s.chans {
		f(p0+c, c*s.hw, (c+1)*s.hw)
	}
}

// NormBackward writes dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) with
// g = gy·w and x̂ = (x − mean)·rstd, and adds Σ gy·x̂ into dw and Σ gy into
// db when their spans are set. The parameter gradients are summed in a
// fixed order (parallel over parameters), so they are deterministic.
func (b *Backend) NormBackward(a tensor.NormArgs, dx, dw, db, x, mean, rstd, w, gy tensor.Span) {
	s := shapeOf(a)
	n := s.rowLen
	dxs, xs, gs := span(dx, s.rows*n), span(x, s.rows*n), span(gy, s.rows*n)
	ms, rs := span(mean, s.rows), span(rstd, s.rows)
	var ws, dws, dbs []float32
	if a.HasWeight {
		ws = span(w, s.params)
	}
	if dw.Buf != nil {
		dws = span(dw, s.params)
	}
	if db.Buf != nil {
		dbs = span(db, s.params)
	}
	if a.Groups > 0 && a.C > 0 {
		b.groupNormBackward(s, dxs, dws, dbs, xs, ms, rs, ws, gs)
		return
	}
	b.rowNormBackward(s, dxs, dws, dbs, xs, ms, rs, ws, gs)
}

// rowNormBackward is NormBackward for rowNorm.
func (b *Backend) rowNormBackward(s normShape, dxs, dws, dbs, xs, ms, rs, ws, gs []float32) {
	n := s.rowLen
	l := rowNormBackLoop{s: s, n: n, dxs: dxs, xs: xs, ms: ms, rs: rs, ws: ws, gs: gs}
	if b.chunks(s.rows, rowGrain(n)) <= 1 {
		l.run(0, s.rows)
	} else {
		launch(b, &b.frames.rowNormBack, s.rows, rowGrain(n), &l)
	}
	if dws == nil && dbs == nil {
		return
	}
	if s.groups == 1 && s.hw == 1 {
		b.layerNormParamGrads(s, dws, dbs, xs, gs, ms, rs)
		return
	}
	// Each parameter p covers, in every row of its group residue, the hw
	// elements starting at (p % chans)·hw.
	b.parallelFor(s.params, max(1, rowGrain(s.rows*s.hw)), func(lo, hi int) {
		for p := lo; p < hi; p++ {
			g, c := p/s.chans, p%s.chans
			var sw, sb float64
			for r := g; r < s.rows; r += s.groups {
				mu, rsd := float64(ms[r]), float64(rs[r])
				base := r*n + c*s.hw
				for i := base; i < base+s.hw; i++ {
					gv := float64(gs[i])
					sb += gv
					sw += gv * (float64(xs[i]) - mu) * rsd
				}
			}
			if dws != nil {
				dws[p] += float32(sw)
			}
			if dbs != nil {
				dbs[p] += float32(sb)
			}
		}
	})
}

// normTile is the number of layer-norm columns one work unit sums.
const normTile = 64

// layerNormParamGrads adds the layer-norm weight and bias gradients,
// parallel over column tiles with rows summed in order.
func (b *Backend) layerNormParamGrads(s normShape, dws, dbs, xs, gs, ms, rs []float32) {
	n := s.rowLen
	tiles := (n + normTile - 1) / normTile
	b.parallelFor(tiles, max(1, rowGrain(s.rows*normTile)), func(lo, hi int) {
		var sw, sb [normTile]float64
		for t := lo; t < hi; t++ {
			c0 := t * normTile
			w := min(normTile, n-c0)
			clear(sw[:])
			clear(sb[:])
			for r := range s.rows {
				mu, rsd := float64(ms[r]), float64(rs[r])
				xr, gr := xs[r*n+c0:r*n+c0+w], gs[r*n+c0:r*n+c0+w]
				for i, g := range gr {
					sb[i] += float64(g)
					sw[i] += float64(g) * (float64(xr[i]) - mu) * rsd
				}
			}
			for i := range w {
				if dws != nil {
					dws[c0+i] += float32(sw[i])
				}
				if dbs != nil {
					dbs[c0+i] += float32(sb[i])
				}
			}
		}
	})
}

// rowNormLoop is the parallel loop body of rowNorm.
type rowNormLoop struct {
	s   normShape
	eps float32
	n   int
	ys  []float32
	ms  []float32
	rs  []float32
	xs  []float32
	ws  []float32
	bs  []float32
}

func (l *rowNormLoop) run(lo, hi int) {
	s, eps, n, ys, ms, rs, xs, ws, bs := l.s, l.eps, l.n, l.ys, l.ms, l.rs, l.xs, l.ws, l.bs
	for r := lo; r < hi; r++ {
		xr, yr := xs[r*n:(r+1)*n], ys[r*n:(r+1)*n]
		var sum float64
		for _, v := range xr {
			sum += float64(v)
		}
		mu := sum / float64(max(n, 1))
		var sq float64
		for _, v := range xr {
			d := float64(v) - mu
			sq += d * d
		}
		rsd := 1 / math.Sqrt(sq/float64(max(n, 1))+float64(eps))
		ms[r], rs[r] = float32(mu), float32(rsd)
		// Each run of elements sharing an affine parameter is
		// y = (x − mean)·scale + shift (x − mean first, so that a
		// constant row normalises to exact zeros).
		s.segments(r, func(p, i0, i1 int) {
			scale, shift := rsd, 0.0
			if ws != nil {
				scale *= float64(ws[p])
			}
			if bs != nil {
				shift = float64(bs[p])
			}
			out := yr[i0:i1]
			for i, v := range xr[i0:i1] {
				out[i] = float32((float64(v)-mu)*scale + shift)
			}
		}, ws != nil || bs != nil)
	}
}

// rowNormBackLoop is the parallel loop body of rowNormBackward.
type rowNormBackLoop struct {
	s   normShape
	n   int
	dxs []float32
	xs  []float32
	ms  []float32
	rs  []float32
	ws  []float32
	gs  []float32
}

func (l *rowNormBackLoop) run(lo, hi int) {
	s, n, dxs, xs, ms, rs, ws, gs := l.s, l.n, l.dxs, l.xs, l.ms, l.rs, l.ws, l.gs
	for r := lo; r < hi; r++ {
		xr, gr, dr := xs[r*n:(r+1)*n], gs[r*n:(r+1)*n], dxs[r*n:(r+1)*n]
		mu, rsd := float64(ms[r]), float64(rs[r])
		var sg, sgh float64
		s.segments(r, func(p, i0, i1 int) {
			wv := 1.0
			if p >= 0 {
				wv = float64(ws[p])
			}
			var sgs, sxs float64
			gseg := gr[i0:i1]
			for i, v := range xr[i0:i1] {
				g := float64(gseg[i])
				sgs += g
				sxs += g * float64(v)
			}
			sg += wv * sgs
			sgh += wv * (sxs - mu*sgs) * rsd
		}, ws != nil)
		sg /= float64(n)
		sgh /= float64(n)
		// dx = rsd·(g·w − sg − (x − mu)·rsd·sgh) = g·(rsd·w) + c0 + (x − mu)·k
		k := -rsd * rsd * sgh
		c0 := -rsd * sg
		s.segments(r, func(p, i0, i1 int) {
			gw := rsd
			if p >= 0 {
				gw *= float64(ws[p])
			}
			gseg, dseg := gr[i0:i1], dr[i0:i1]
			for i, v := range xr[i0:i1] {
				dseg[i] = float32(float64(gseg[i])*gw + c0 + (float64(v)-mu)*k)
			}
		}, ws != nil)
	}
}
