package cpu

import "math"

// Group norm over images [batch, C, HW]: each (image, group) row is
// cg = C/Groups channel planes of hw elements. The forward pass reads a
// row once for its statistics and once for the output; the backward pass
// reads x and gy once for the per-channel sums and once for dx, and takes
// the parameter gradients from those per-channel sums instead of a third
// pass over the data. Rows run in parallel; every sum is float64, and the
// parameter gradients add the images' sums in image order, so the results
// do not depend on the worker count.

// shiftedSums returns s1 = Σ (x − k) and s2 = Σ (x − k)² over xs in
// float64, in four independent chains. Each difference of two float32
// values is exact in float64 and so is its square, so with k an element
// of the row the only roundings are the additions: the variance
// (s2 − s1²/n)/n then loses only log2(1 + (mean − k)²/var) of float64's
// 53 bits to cancellation.
func shiftedSums(xs []float32, k float64) (s1, s2 float64) {
	v1, v2, done := normSumsVector(xs, k)
	xs = xs[done:]
	var a0, a1, a2, a3, q0, q1, q2, q3 float64
	i := 0
	for ; i+4 <= len(xs); i += 4 {
		d0, d1, d2, d3 := float64(xs[i])-k, float64(xs[i+1])-k, float64(xs[i+2])-k, float64(xs[i+3])-k
		a0, a1, a2, a3 = a0+d0, a1+d1, a2+d2, a3+d3
		q0, q1, q2, q3 = q0+d0*d0, q1+d1*d1, q2+d2*d2, q3+d3*d3
	}
	for ; i < len(xs); i++ {
		d := float64(xs[i]) - k
		a0 += d
		q0 += d * d
	}
	return v1 + ((a0 + a1) + (a2 + a3)), v2 + ((q0 + q1) + (q2 + q3))
}

// affineRow sets out[i] = float32((x[i] − mu)·scale + shift).
func affineRow(out, xs []float32, mu, scale, shift float64) {
	done := affineVector(out, xs, mu, scale, shift)
	out, xs = out[done:], xs[done:len(out)]
	i := 0
	for ; i+4 <= len(out); i += 4 {
		o := out[i : i+4 : i+4]
		x := xs[i : i+4 : i+4]
		o[0] = float32((float64(x[0])-mu)*scale + shift)
		o[1] = float32((float64(x[1])-mu)*scale + shift)
		o[2] = float32((float64(x[2])-mu)*scale + shift)
		o[3] = float32((float64(x[3])-mu)*scale + shift)
	}
	for ; i < len(out); i++ {
		out[i] = float32((float64(xs[i])-mu)*scale + shift)
	}
}

// gradSums returns Σ g and Σ g·(x − mu) over a channel plane.
func gradSums(gs, xs []float32, mu float64) (sg, sgx float64) {
	vg, vx, done := gradSumsVector(gs, xs, mu)
	gs, xs = gs[done:], xs[done:len(gs)]
	var g0, g1, x0, x1 float64
	i := 0
	for ; i+2 <= len(gs); i += 2 {
		ga, gb := float64(gs[i]), float64(gs[i+1])
		g0, g1 = g0+ga, g1+gb
		x0 += ga * (float64(xs[i]) - mu)
		x1 += gb * (float64(xs[i+1]) - mu)
	}
	if i < len(gs) {
		g := float64(gs[i])
		g0 += g
		x0 += g * (float64(xs[i]) - mu)
	}
	return vg + (g0 + g1), vx + (x0 + x1)
}

// gradRow sets dx[i] = float32(g[i]·gw + c0 + (x[i] − mu)·k).
func gradRow(dx, gs, xs []float32, mu, gw, c0, k float64) {
	done := gradRowVector(dx, gs, xs, mu, gw, c0, k)
	dx, gs, xs = dx[done:], gs[done:len(dx)], xs[done:len(dx)]
	i := 0
	for ; i+4 <= len(dx); i += 4 {
		d, g, x := dx[i:i+4:i+4], gs[i:i+4:i+4], xs[i:i+4:i+4]
		d[0] = float32(float64(g[0])*gw + c0 + (float64(x[0])-mu)*k)
		d[1] = float32(float64(g[1])*gw + c0 + (float64(x[1])-mu)*k)
		d[2] = float32(float64(g[2])*gw + c0 + (float64(x[2])-mu)*k)
		d[3] = float32(float64(g[3])*gw + c0 + (float64(x[3])-mu)*k)
	}
	for ; i < len(dx); i++ {
		dx[i] = float32(float64(gs[i])*gw + c0 + (float64(xs[i])-mu)*k)
	}
}

// groupNorm is Norm for a group norm (s from shapeOf with Groups > 0).
func (b *Backend) groupNorm(s normShape, eps float32, ys, ms, rs, xs, ws, bs []float32) {
	n, hw := s.rowLen, s.hw
	b.parallelFor(s.rows, rowGrain(n), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xr, yr := xs[r*n:(r+1)*n], ys[r*n:(r+1)*n]
			var mu, rsd float64
			if n > 0 {
				k := float64(xr[0])
				s1, s2 := shiftedSums(xr, k)
				m := s1 / float64(n)
				mu = k + m
				rsd = 1 / math.Sqrt(max(s2/float64(n)-m*m, 0)+float64(eps))
			} else {
				rsd = 1 / math.Sqrt(float64(eps))
			}
			ms[r], rs[r] = float32(mu), float32(rsd)
			// y = (x − mean)·scale + shift, x − mean first so that a
			// constant plane normalises to exact zeros.
			p0 := (r % s.groups) * s.chans
			for c := range s.chans {
				scale, shift := rsd, 0.0
				if ws != nil {
					scale *= float64(ws[p0+c])
				}
				if bs != nil {
					shift = float64(bs[p0+c])
				}
				affineRow(yr[c*hw:(c+1)*hw], xr[c*hw:(c+1)*hw], mu, scale, shift)
			}
		}
	})
}

// groupNormBackward is NormBackward for a group norm.
func (b *Backend) groupNormBackward(s normShape, dxs, dws, dbs, xs, ms, rs, ws, gs []float32) {
	n, hw, cg := s.rowLen, s.hw, s.chans
	// sums holds, per row and channel, Σ gy and Σ gy·x̂ for the parameter
	// gradients.
	need := 2 * s.rows * cg
	var sums []float64
	if dws != nil || dbs != nil {
		buf := b.scratch(scratchNormSums, 2*need)
		defer b.putScratch(buf)
		sums = buf.float64s(need)
	}
	b.parallelFor(s.rows, rowGrain(n), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xr, gr, dr := xs[r*n:(r+1)*n], gs[r*n:(r+1)*n], dxs[r*n:(r+1)*n]
			mu, rsd := float64(ms[r]), float64(rs[r])
			p0 := (r % s.groups) * cg
			var sg, sgh float64
			for c := range cg {
				g, gx := gradSums(gr[c*hw:(c+1)*hw], xr[c*hw:(c+1)*hw], mu)
				if sums != nil {
					sums[2*(r*cg+c)], sums[2*(r*cg+c)+1] = g, gx*rsd
				}
				wv := 1.0
				if ws != nil {
					wv = float64(ws[p0+c])
				}
				sg += wv * g
				sgh += wv * gx * rsd
			}
			sg /= float64(n)
			sgh /= float64(n)
			// dx = rsd·(g·w − sg − (x − mu)·rsd·sgh) = g·(rsd·w) + c0 + (x − mu)·k
			k := -rsd * rsd * sgh
			c0 := -rsd * sg
			for c := range cg {
				gw := rsd
				if ws != nil {
					gw *= float64(ws[p0+c])
				}
				gradRow(dr[c*hw:(c+1)*hw], gr[c*hw:(c+1)*hw], xr[c*hw:(c+1)*hw], mu, gw, c0, k)
			}
		}
	})
	if sums == nil {
		return
	}
	// Parameter p is channel p % cg of the rows p/cg, p/cg + groups, ….
	for p := range s.params {
		g, c := p/cg, p%cg
		var sw, sb float64
		for r := g; r < s.rows; r += s.groups {
			sb += sums[2*(r*cg+c)]
			sw += sums[2*(r*cg+c)+1]
		}
		if dws != nil {
			dws[p] += float32(sw)
		}
		if dbs != nil {
			dbs[p] += float32(sb)
		}
	}
}
