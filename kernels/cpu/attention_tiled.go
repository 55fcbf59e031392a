package cpu

import (
	"math"
	"sync/atomic"

	"sargo/tensor"
)

// The tiled attention path. Work is cut into units that one worker does
// alone from start to end: in the forward one tile of queries of one head,
// in the backward one head (its dK and dV gather every query tile). A unit
// runs its products on the calling goroutine, so a tile's scores and
// their gradient (attnTileRows × visible keys each) are written, turned
// into probabilities, packed and read again while they stay in that
// worker's L2 cache, instead of going out to memory once per pass as
// whole-head score matrices do. Workers take the next unit from a shared
// counter, so one that gets less processor time (a busy machine) takes
// fewer units rather than holding the others up at a barrier after every
// product.

// attnTileRows is the number of queries a tile scores at once: a multiple
// of the AVX2 kernel's 6 rows, and small enough that a tile's P and dS
// over 680 keys (196 KiB each) share a 512 KiB L2 cache.
const attnTileRows = 72

// attnTile is a run of queries [r0, r1) scored against keys [0, kn) only:
// the keys past kn are invisible to all of them.
type attnTile struct{ r0, r1, kn int }

// attnTiles cuts the queries into tiles of at most rows queries, each
// scored against the longest visible prefix of its queries (all keys
// without visible prefixes).
func attnTiles(a tensor.AttentionArgs, vis []int32, rows int) []attnTile {
	tiles := make([]attnTile, 0, (a.Lq+rows-1)/rows)
	for r0 := 0; r0 < a.Lq; r0 += rows {
		t := attnTile{r0: r0, r1: min(r0+rows, a.Lq)}
		for i := t.r0; i < t.r1; i++ {
			t.kn = max(t.kn, attnVisible(vis, i, a.Lk))
		}
		tiles = append(tiles, t)
	}
	return tiles
}

// attnProduct computes one product on the calling goroutine.
func attnProduct(g gemmOperands) {
	if g.m*g.n*g.k < smallGemmWork {
		gemmSmall(g)
		return
	}
	gemmOne(nil, g, bestGemmKernel)
}

// attnUnits runs body(w, u) for every unit u in [0, units) on up to
// b.workers goroutines, which take the next unit from a shared counter;
// w in [0, workers) names the goroutine (for its scratch). It returns
// before starting when units is 0.
func (b *Backend) attnUnits(units, workers int, body func(w, u int)) {
	var next atomic.Int64
	b.parallelFor(workers, 1, func(lo, hi int) {
		for w := lo; w < hi; w++ {
			for {
				u := int(next.Add(1) - 1)
				if u >= units {
					break
				}
				body(w, u)
			}
		}
	})
}

// attentionTiled is the forward over tiles of rows queries: per unit (head,
// tile) S = scale·Q·Kᵀ over the tile's keys, the unnormalised
// probabilities e^(S + mask − max), O = e^(…)·V, and each row of O divided
// by its row sum.
func (b *Backend) attentionTiled(a tensor.AttentionArgs, rows int) {
	D, Lq, Lk := a.D, a.Lq, a.Lk
	nh := a.B * a.H
	q, k, v, mask, sq, sk := attnInputs(a)
	lse, out := span(a.Lse, nh*Lq), span(a.Out, nh*Lq*D)
	vis := attnVisiblePrefix(a, sq, sk)
	tiles := attnTiles(a, vis, rows)
	units := nh * len(tiles)
	workers := min(b.workers, units)
	per := rows * (Lk + 1) // a tile's scores and the reciprocals of its row sums
	scratch := b.mem.alloc(workers * per)
	defer b.mem.release(scratch)
	b.attnUnits(units, workers, func(w, u int) {
		h, t := u/len(tiles), tiles[u%len(tiles)]
		nb, kn := t.r1-t.r0, t.kn
		o0, o1 := (h*Lq+t.r0)*D, (h*Lq+t.r1)*D
		if kn == 0 {
			clear(out[o0:o1])
			for i := t.r0; i < t.r1; i++ {
				lse[h*Lq+i] = float32(math.Inf(-1))
			}
			return
		}
		s := scratch.Data[w*per : w*per+nb*kn]
		inv := scratch.Data[w*per+rows*Lk : w*per+rows*Lk+nb]
		attnProduct(gemmOperands{m: nb, n: kn, k: D, transB: true,
			a: q[o0:o1], b: k[h*Lk*D : (h*Lk+kn)*D], c: s, alpha: a.Scale})
		for r := range nb {
			lse[h*Lq+t.r0+r], inv[r] = attnExpRow(a, s[r*kn:(r+1)*kn], mask, sq, sk, vis, t.r0+r)
		}
		attnProduct(gemmOperands{m: nb, n: D, k: kn, a: s, b: v[h*Lk*D : (h*Lk+kn)*D], c: out[o0:o1], alpha: 1})
		for r := range nb {
			o := out[o0+r*D : o0+(r+1)*D]
			scaleShiftRow(o, o, inv[r], 0)
		}
	})
}

// attentionBackwardTiled is the backward of attentionTiled, one head per
// unit: per tile of rows queries it recomputes P from the saved
// log-sum-exp, accumulates dV += Pᵀ·dO, forms dP = dO·Vᵀ and
// dS = scale·P∘(dP − rowsum(dO∘O)), writes dQ = dS·K and accumulates
// dK += dSᵀ·Q.
func (b *Backend) attentionBackwardTiled(a tensor.AttentionArgs, gr tensor.AttentionGrads, rows int) {
	D, Lq, Lk := a.D, a.Lq, a.Lk
	nh := a.B * a.H
	q, k, v, mask, sq, sk := attnInputs(a)
	lse, out, gout := span(a.Lse, nh*Lq), span(a.Out, nh*Lq*D), span(gr.GradOut, nh*Lq*D)
	dq, dk, dv := span(gr.GradQ, nh*Lq*D), span(gr.GradK, nh*Lk*D), span(gr.GradV, nh*Lk*D)
	vis := attnVisiblePrefix(a, sq, sk)
	tiles := attnTiles(a, vis, rows)
	workers := min(b.workers, nh)
	per := 2 * rows * Lk // a tile's probabilities and their gradient
	scratch := b.mem.alloc(workers * per)
	defer b.mem.release(scratch)
	b.attnUnits(nh, workers, func(w, h int) {
		kh, vh := k[h*Lk*D:(h+1)*Lk*D], v[h*Lk*D:(h+1)*Lk*D]
		dkh, dvh := dk[h*Lk*D:(h+1)*Lk*D], dv[h*Lk*D:(h+1)*Lk*D]
		clear(dkh)
		clear(dvh)
		for _, t := range tiles {
			nb, kn := t.r1-t.r0, t.kn
			o0, o1 := (h*Lq+t.r0)*D, (h*Lq+t.r1)*D
			if kn == 0 {
				clear(dq[o0:o1])
				continue
			}
			p := scratch.Data[w*per : w*per+nb*kn]
			ds := scratch.Data[w*per+rows*Lk : w*per+rows*Lk+nb*kn]
			attnProduct(gemmOperands{m: nb, n: kn, k: D, transB: true, a: q[o0:o1], b: kh[:kn*D], c: p, alpha: a.Scale})
			for r := range nb {
				attnProbRow(a, p[r*kn:(r+1)*kn], mask, sq, sk, vis, t.r0+r, lse[h*Lq+t.r0+r])
			}
			attnProduct(gemmOperands{m: kn, n: D, k: nb, transA: true, a: p, b: gout[o0:o1], c: dvh[:kn*D], alpha: 1, acc: true})
			attnProduct(gemmOperands{m: nb, n: kn, k: D, transB: true, a: gout[o0:o1], b: vh[:kn*D], c: ds, alpha: 1})
			for r := range nb {
				o := o0 + r*D
				attnScoreGradRow(a, ds[r*kn:(r+1)*kn], p[r*kn:(r+1)*kn], gout[o:o+D], out[o:o+D], vis, t.r0+r)
			}
			attnProduct(gemmOperands{m: nb, n: D, k: kn, a: ds, b: kh[:kn*D], c: dq[o0:o1], alpha: 1})
			attnProduct(gemmOperands{m: kn, n: D, k: nb, transA: true, a: ds, b: q[o0:o1], c: dkh[:kn*D], alpha: 1, acc: true})
		}
	})
}
