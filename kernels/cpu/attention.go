package cpu

import (
	"math"
	"sort"

	"sargo/tensor"
)

// attnBlock is the number of queries one forward work unit handles.
const attnBlock = 16

// dot returns Σ a[i]·b[i] over len(a) elements.
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// axpy adds alpha·x into y.
func axpy(alpha float32, x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += alpha * v
	}
}

// attnScores writes the scaled, masked scores of query i of head bh against
// every key into s; invisible keys get -Inf. It returns their maximum.
func attnScores(a tensor.AttentionArgs, s, q, k, mask, sq, sk []float32, i int) float32 {
	m := float32(math.Inf(-1))
	D := a.D
	for j := range s {
		var v float32
		switch {
		case a.Mask == tensor.MaskScale && sk[j] > sq[i]:
			v = float32(math.Inf(-1))
		default:
			v = a.Scale * dot(q, k[j*D:(j+1)*D])
			if a.Mask == tensor.MaskAdditive {
				v += mask[i*a.Lk+j]
			}
		}
		s[j] = v
		m = max(m, v)
	}
	return m
}

// attnInputs returns the per-head slices of the attention inputs.
func attnInputs(a tensor.AttentionArgs) (q, k, v, mask, sq, sk []float32) {
	nh := a.B * a.H
	q, k, v = span(a.Q, nh*a.Lq*a.D), span(a.K, nh*a.Lk*a.D), span(a.V, nh*a.Lk*a.D)
	switch a.Mask {
	case tensor.MaskAdditive:
		mask = span(a.MaskValues, a.Lq*a.Lk)
	case tensor.MaskScale:
		sq, sk = span(a.ScaleQ, a.Lq), span(a.ScaleK, a.Lk)
	}
	return q, k, v, mask, sq, sk
}

// attnGemmWork is the size B·H·Lq·Lk·D from which attention runs its
// products on the GEMM rather than the direct loops.
const attnGemmWork = 1 << 18

// attnScoreBudget bounds the score matrices (in elements) the GEMM path
// holds at once; heads are processed in groups that fit.
const attnScoreBudget = 1 << 22

// attnUseGemm reports whether a is large enough for the GEMM path.
func attnUseGemm(a tensor.AttentionArgs) bool { return a.B*a.H*a.Lq*a.Lk*a.D >= attnGemmWork }

// Attention computes softmax(scale·Q·Kᵀ + mask)·V, saving each query's
// log-sum-exp. A query that sees no key gets zeros and a log-sum-exp of
// -Inf. Small problems run fused loops per (batch, head) and query block;
// large ones run the two products of each group of heads on the GEMM.
func (b *Backend) Attention(a tensor.AttentionArgs) {
	if attnUseGemm(a) {
		b.attentionGemm(a, attnScoreBudget)
		return
	}
	b.attentionDirect(a)
}

// AttentionBackward recomputes the probabilities P = exp(S − lse) from the
// saved log-sum-exp and writes dV = Pᵀ·dO, dS = P∘(dO·Vᵀ − rowsum(dO∘O)),
// dQ = scale·dS·K and dK = scale·dSᵀ·Q. Queries with no visible key
// contribute nothing and get zero gradients.
func (b *Backend) AttentionBackward(a tensor.AttentionArgs, g tensor.AttentionGrads) {
	if attnUseGemm(a) {
		b.attentionBackwardGemm(a, g, attnScoreBudget)
		return
	}
	b.attentionBackwardDirect(a, g)
}

// attentionDirect is the fused forward per (batch, head) and query block.
// Each query's scores are computed once, then normalised against their
// maximum (the same result as an online softmax over key blocks).
func (b *Backend) attentionDirect(a tensor.AttentionArgs) {
	D, Lq, Lk := a.D, a.Lq, a.Lk
	nh := a.B * a.H
	q, k, v, mask, sq, sk := attnInputs(a)
	out, lse := span(a.Out, nh*Lq*D), span(a.Lse, nh*Lq)
	blocks := (Lq + attnBlock - 1) / attnBlock
	l := attnLoop{a: a, scratch: scratchRef{b, scratchRows}, D: D, Lq: Lq, Lk: Lk, blocks: blocks, q: q, k: k, v: v, mask: mask, sq: sq, sk: sk, out: out, lse: lse}
	if b.chunks(nh*blocks, 1) <= 1 {
		l.run(0, nh*blocks)
	} else {
		launch(b, &b.frames.attn, nh*blocks, 1, &l)
	}
}

// attentionBackwardDirect is the fused backward, parallel over batch·heads
// with queries in order.
func (b *Backend) attentionBackwardDirect(a tensor.AttentionArgs, g tensor.AttentionGrads) {
	D, Lq, Lk := a.D, a.Lq, a.Lk
	nh := a.B * a.H
	q, k, v, mask, sq, sk := attnInputs(a)
	out, lse := span(a.Out, nh*Lq*D), span(a.Lse, nh*Lq)
	gout := span(g.GradOut, nh*Lq*D)
	dq, dk, dv := span(g.GradQ, nh*Lq*D), span(g.GradK, nh*Lk*D), span(g.GradV, nh*Lk*D)
	l := attnBackLoop{a: a, scratch: scratchRef{b, scratchRows}, D: D, Lq: Lq, Lk: Lk, q: q, k: k, v: v, mask: mask, sq: sq, sk: sk, out: out, lse: lse, gout: gout, dq: dq, dk: dk, dv: dv}
	if b.chunks(nh, 1) <= 1 {
		l.run(0, nh)
	} else {
		launch(b, &b.frames.attnBack, nh, 1, &l)
	}
}

// spanAt is s advanced by off elements.
func spanAt(s tensor.Span, off int) tensor.Span {
	return tensor.Span{Buf: s.Buf, Offset: s.Offset + off}
}

// attnHeadGroup is the number of heads whose [Lq, Lk] scores fit budget
// elements.
func attnHeadGroup(a tensor.AttentionArgs, budget int) int {
	return max(1, min(a.B*a.H, budget/max(1, a.Lq*a.Lk)))
}

// attnMaskRow applies the mask to row i of raw scores in place, invisible
// keys becoming -Inf, and returns the row maximum.
func attnMaskRow(a tensor.AttentionArgs, row, mask, sq, sk []float32, i int) float32 {
	switch a.Mask {
	case tensor.MaskAdditive:
		binarySlice(tensor.OpAdd, row, row, mask[i*a.Lk:i*a.Lk+len(row)])
	case tensor.MaskScale:
		si, inf := sq[i], float32(math.Inf(-1))
		sk = sk[:len(row)]
		for j := range row {
			if sk[j] > si {
				row[j] = inf
			}
		}
	}
	return rowMax(row)
}

// attnVisiblePrefix returns, for the block-causal mask over key scale ids
// in non-decreasing order, the number of keys each query sees: query i
// sees exactly keys [0, vis[i]). For other masks, or keys out of order, it
// returns nil and rows are masked key by key. The array lives in buf,
// which the caller returns to b.attnVis.
func (b *Backend) attnVisiblePrefix(a tensor.AttentionArgs, sq, sk []float32) (vis []int32, buf *[]int32) {
	buf, _ = b.attnVis.Get().(*[]int32)
	if buf == nil {
		buf = new([]int32)
	}
	if a.Mask != tensor.MaskScale || !nonDecreasing(sk) {
		return nil, buf
	}
	if cap(*buf) < a.Lq {
		*buf = make([]int32, a.Lq)
	}
	vis = (*buf)[:a.Lq]
	for i, s := range sq {
		vis[i] = int32(sort.Search(len(sk), func(j int) bool { return !(sk[j] <= s) }))
	}
	return vis, buf
}

// attnVisible is the number of leading keys of row i of length n that its
// query may see (all n without a visible prefix; the others are masked
// key by key).
func attnVisible(vis []int32, i, n int) int {
	if vis == nil {
		return n
	}
	return min(int(vis[i]), n)
}

// attnExpRow turns row i of scaled scores into unnormalised probabilities
// e^(s − max) in place and returns its log-sum-exp and the reciprocal of
// the sum; invisible keys become 0, and a row with no visible key becomes
// zeros with a log-sum-exp of -Inf. With a visible prefix only the
// prefix is read.
func attnExpRow(a tensor.AttentionArgs, row, mask, sq, sk []float32, vis []int32, i int) (lse, inv float32) {
	n := attnVisible(vis, i, len(row))
	clear(row[n:])
	row = row[:n]
	m := float32(math.Inf(-1))
	if vis == nil {
		m = attnMaskRow(a, row, mask, sq, sk, i)
	} else if n > 0 {
		m = rowMax(row)
	}
	if math.IsInf(float64(m), -1) {
		clear(row)
		return m, 0
	}
	l := expShiftRow(row, row, m)
	return float32(float64(m) + math.Log(l)), float32(1 / l)
}

// attnProbRow recomputes row i of probabilities in place from its scaled
// scores and saved log-sum-exp l: e^(s + mask − l) over the visible keys,
// 0 elsewhere (everywhere when l is -Inf: the query sees no key).
func attnProbRow(a tensor.AttentionArgs, row, mask, sq, sk []float32, vis []int32, i int, l float32) {
	n := attnVisible(vis, i, len(row))
	clear(row[n:])
	row = row[:n]
	if math.IsInf(float64(l), -1) {
		clear(row)
		return
	}
	if vis == nil {
		attnMaskRow(a, row, mask, sq, sk, i)
	}
	expShiftRow(row, row, l)
}

// attnScoreGradRow turns row i of dP = dO·Vᵀ into the score gradient
// dS = scale·(dP − rowsum(dO∘O))∘P in place, given the row's probabilities
// p and its rows of dO and O; keys past the visible prefix get 0.
func attnScoreGradRow(a tensor.AttentionArgs, ds, p, gout, out []float32, vis []int32, i int) {
	n := attnVisible(vis, i, len(ds))
	clear(ds[n:])
	ds = ds[:n]
	scaleShiftRow(ds, ds, a.Scale, dot(gout, out))
	binarySlice(tensor.OpMul, ds, ds, p[:n])
}

// attnQBlock is a run of queries [r0, r1) of the GEMM path that is scored
// against keys [0, kEnd) only: the keys past kEnd are invisible to all of
// them.
type attnQBlock struct{ r0, r1, kEnd int }

// attnMinBlockRows is the fewest queries a block of the GEMM path gathers
// (whole scales at a time) before starting the next one.
const attnMinBlockRows = 64

// nonDecreasing reports whether s is sorted.
func nonDecreasing(s []float32) bool {
	for i := 1; i < len(s); i++ {
		if !(s[i-1] <= s[i]) {
			return false
		}
	}
	return true
}

// attnQueryBlocks splits the queries of the GEMM path into blocks. With the
// block-causal mask over sorted scale ids, query i sees only the keys up to
// the end of its scale, so whole scales are grouped into blocks of at least
// attnMinBlockRows queries, each scored against the keys up to the end of
// its last scale. Otherwise there is one block of all queries and keys.
// The blocks are appended to blocks (an array on the caller's stack has
// room for a model's scales).
func attnQueryBlocks(blocks []attnQBlock, a tensor.AttentionArgs, sq, sk []float32) []attnQBlock {
	if a.Mask != tensor.MaskScale || !nonDecreasing(sq) || !nonDecreasing(sk) {
		return append(blocks, attnQBlock{0, a.Lq, a.Lk})
	}
	r0, kEnd := 0, 0
	for i := 0; i < a.Lq; {
		e := i + 1
		for e < a.Lq && sq[e] == sq[i] {
			e++
		}
		for kEnd < a.Lk && sk[kEnd] <= sq[i] {
			kEnd++
		}
		if e-r0 >= attnMinBlockRows || e == a.Lq {
			blocks = append(blocks, attnQBlock{r0, e, kEnd})
			r0 = e
		}
		i = e
	}
	return blocks
}

// attentionGemm computes, for each group of heads and each query block,
// S = scale·Q·Kᵀ over the block's keys, the unnormalised probabilities
// e^(S + mask − max) and O = e^(…)·V with batched GEMMs, then divides each
// row of O (D values) by its row sum rather than each row of P (a row of
// keys). It holds at most budget score elements (but always one head's)
// at a time.
func (b *Backend) attentionGemm(a tensor.AttentionArgs, budget int) {
	D, Lq, Lk := a.D, a.Lq, a.Lk
	nh := a.B * a.H
	_, _, _, mask, sq, sk := attnInputs(a)
	lse, out := span(a.Lse, nh*Lq), span(a.Out, nh*Lq*D)
	hg := attnHeadGroup(a, budget)
	var bd [16]attnQBlock
	blocks := attnQueryBlocks(bd[:0], a, sq, sk)
	vis, visBuf := b.attnVisiblePrefix(a, sq, sk)
	defer b.attnVis.Put(visBuf)
	sBuf, rBuf := b.mem.alloc(hg*Lq*Lk), b.mem.alloc(hg*Lq) // scratch from the storage pool
	defer b.mem.release(sBuf)
	defer b.mem.release(rBuf)
	for h0 := 0; h0 < nh; h0 += hg {
		g := min(hg, nh-h0)
		for _, blk := range blocks {
			nb, kn := blk.r1-blk.r0, blk.kEnd
			if kn == 0 {
				for h := h0; h < h0+g; h++ {
					clear(out[(h*Lq+blk.r0)*D : (h*Lq+blk.r1)*D])
					for r := blk.r0; r < blk.r1; r++ {
						lse[h*Lq+r] = float32(math.Inf(-1))
					}
				}
				continue
			}
			b.MatMul(tensor.MatMulArgs{Batch: g, M: nb, N: kn, K: D, TransB: true,
				A: spanAt(a.Q, (h0*Lq+blk.r0)*D), B: spanAt(a.K, h0*Lk*D), C: tensor.Span{Buf: sBuf},
				StrideA: Lq * D, StrideB: Lk * D, StrideC: nb * kn, Alpha: a.Scale})
			S, inv := sBuf.Data, rBuf.Data
			l := attnProbLoop{a: a, S: S, lse: lse, inv: inv, mask: mask, sq: sq, sk: sk, vis: vis, blk: blk, nb: nb, kn: kn, h0: h0, Lq: Lq}
			if b.chunks(g*nb, rowGrain(kn)) <= 1 {
				l.run(0, g*nb)
			} else {
				launch(b, &b.frames.attnProb, g*nb, rowGrain(kn), &l)
			}
			b.MatMul(tensor.MatMulArgs{Batch: g, M: nb, N: D, K: kn,
				A: tensor.Span{Buf: sBuf}, B: spanAt(a.V, h0*Lk*D), C: spanAt(a.Out, (h0*Lq+blk.r0)*D),
				StrideA: nb * kn, StrideB: Lk * D, StrideC: Lq * D, Alpha: 1})
			ln := attnNormLoop{out: out, inv: inv, blk: blk, nb: nb, h0: h0, Lq: Lq, D: D}
			if b.chunks(g*nb, rowGrain(D)) <= 1 {
				ln.run(0, g*nb)
			} else {
				launch(b, &b.frames.attnNorm, g*nb, rowGrain(D), &ln)
			}
		}
	}
}

// attentionBackwardGemm is the backward of attentionGemm: per group of
// heads and query block it recomputes P, then accumulates dV += Pᵀ·dO,
// forms dP = dO·Vᵀ and dS = scale·P∘(dP − rowsum(dO∘O)), writes dQ = dS·K
// and accumulates dK += dSᵀ·Q. With a visible prefix per query, P and dS
// are computed over the prefix only and zero past it.
func (b *Backend) attentionBackwardGemm(a tensor.AttentionArgs, gr tensor.AttentionGrads, budget int) {
	D, Lq, Lk := a.D, a.Lq, a.Lk
	nh := a.B * a.H
	_, _, _, mask, sq, sk := attnInputs(a)
	lse, out, gout := span(a.Lse, nh*Lq), span(a.Out, nh*Lq*D), span(gr.GradOut, nh*Lq*D)
	dq, dk, dv := span(gr.GradQ, nh*Lq*D), span(gr.GradK, nh*Lk*D), span(gr.GradV, nh*Lk*D)
	clear(dk)
	clear(dv)
	hg := attnHeadGroup(a, budget)
	var bd [16]attnQBlock
	blocks := attnQueryBlocks(bd[:0], a, sq, sk)
	vis, visBuf := b.attnVisiblePrefix(a, sq, sk)
	defer b.attnVis.Put(visBuf)
	pBuf, dBuf := b.mem.alloc(hg*Lq*Lk), b.mem.alloc(hg*Lq*Lk) // scratch from the storage pool
	defer b.mem.release(pBuf)
	defer b.mem.release(dBuf)
	type mm = tensor.MatMulArgs
	for h0 := 0; h0 < nh; h0 += hg {
		g := min(hg, nh-h0)
		ks, vs := spanAt(a.K, h0*Lk*D), spanAt(a.V, h0*Lk*D)
		for _, blk := range blocks {
			nb, kn := blk.r1-blk.r0, blk.kEnd
			if kn == 0 {
				for h := h0; h < h0+g; h++ {
					clear(dq[(h*Lq+blk.r0)*D : (h*Lq+blk.r1)*D])
				}
				continue
			}
			qs, gos := spanAt(a.Q, (h0*Lq+blk.r0)*D), spanAt(gr.GradOut, (h0*Lq+blk.r0)*D)
			b.MatMul(mm{Batch: g, M: nb, N: kn, K: D, TransB: true, A: qs, B: ks, C: tensor.Span{Buf: pBuf},
				StrideA: Lq * D, StrideB: Lk * D, StrideC: nb * kn, Alpha: a.Scale})
			P := pBuf.Data
			l := attnBackProbLoop{a: a, S: P, lse: lse, mask: mask, sq: sq, sk: sk, vis: vis, blk: blk, nb: nb, kn: kn, h0: h0, Lq: Lq}
			if b.chunks(g*nb, rowGrain(kn)) <= 1 {
				l.run(0, g*nb)
			} else {
				launch(b, &b.frames.attnBackProb, g*nb, rowGrain(kn), &l)
			}
			b.MatMul(mm{Batch: g, M: kn, N: D, K: nb, TransA: true, A: tensor.Span{Buf: pBuf}, B: gos,
				C: spanAt(gr.GradV, h0*Lk*D), StrideA: nb * kn, StrideB: Lq * D, StrideC: Lk * D, Alpha: 1, Beta: 1})
			b.MatMul(mm{Batch: g, M: nb, N: kn, K: D, TransB: true, A: gos, B: vs, C: tensor.Span{Buf: dBuf},
				StrideA: Lq * D, StrideB: Lk * D, StrideC: nb * kn, Alpha: 1})
			dS := dBuf.Data
			ld := attnDSLoop{a: a, P: P, dS: dS, gout: gout, out: out, vis: vis, blk: blk, nb: nb, kn: kn, h0: h0, Lq: Lq, D: D}
			if b.chunks(g*nb, rowGrain(kn)) <= 1 {
				ld.run(0, g*nb)
			} else {
				launch(b, &b.frames.attnDS, g*nb, rowGrain(kn), &ld)
			}
			b.MatMul(mm{Batch: g, M: nb, N: D, K: kn, A: tensor.Span{Buf: dBuf}, B: ks,
				C: spanAt(gr.GradQ, (h0*Lq+blk.r0)*D), StrideA: nb * kn, StrideB: Lk * D, StrideC: Lq * D, Alpha: 1})
			b.MatMul(mm{Batch: g, M: kn, N: D, K: nb, TransA: true, A: tensor.Span{Buf: dBuf}, B: qs,
				C: spanAt(gr.GradK, h0*Lk*D), StrideA: nb * kn, StrideB: Lq * D, StrideC: Lk * D, Alpha: 1, Beta: 1})
		}
	}
}

// attnLoop is the parallel loop body of attentionDirect.
type attnLoop struct {
	a       tensor.AttentionArgs
	scratch scratchRef
	D       int
	Lq      int
	Lk      int
	blocks  int
	q       []float32
	k       []float32
	v       []float32
	mask    []float32
	sq      []float32
	sk      []float32
	out     []float32
	lse     []float32
}

func (l *attnLoop) run(lo, hi int) {
	a, scratch, D, Lq, Lk, blocks, q, k, v, mask, sq, sk, out, lse := l.a, l.scratch, l.D, l.Lq, l.Lk, l.blocks, l.q, l.k, l.v, l.mask, l.sq, l.sk, l.out, l.lse
	buf := scratch.get(2*Lk + D)
	defer scratch.put(buf)
	s, p, acc := buf.data[:Lk], buf.data[Lk:2*Lk], buf.data[2*Lk:2*Lk+D]
	for u := lo; u < hi; u++ {
		h, blk := u/blocks, u%blocks
		kh, vh := k[h*Lk*D:(h+1)*Lk*D], v[h*Lk*D:(h+1)*Lk*D]
		for i := blk * attnBlock; i < min(Lq, (blk+1)*attnBlock); i++ {
			row := h*Lq + i
			qi, oi := q[row*D:(row+1)*D], out[row*D:(row+1)*D]
			m := attnScores(a, s, qi, kh, mask, sq, sk, i)
			if math.IsInf(float64(m), -1) {
				clear(oi)
				lse[row] = float32(math.Inf(-1))
				continue
			}
			clear(acc)
			l := expShiftRow(p, s, m) // invisible keys add e^−Inf = 0
			for j, sj := range s {
				if math.IsInf(float64(sj), -1) {
					continue
				}
				axpy(p[j], vh[j*D:(j+1)*D], acc)
			}
			rl := float32(1 / l)
			for d := range oi {
				oi[d] = acc[d] * rl
			}
			lse[row] = float32(float64(m) + math.Log(l))
		}
	}
}

// attnBackLoop is the parallel loop body of attentionBackwardDirect.
type attnBackLoop struct {
	a       tensor.AttentionArgs
	scratch scratchRef
	D       int
	Lq      int
	Lk      int
	q       []float32
	k       []float32
	v       []float32
	mask    []float32
	sq      []float32
	sk      []float32
	out     []float32
	lse     []float32
	gout    []float32
	dq      []float32
	dk      []float32
	dv      []float32
}

func (l *attnBackLoop) run(lo, hi int) {
	a, scratch, D, Lq, Lk, q, k, v, mask, sq, sk, out, lse, gout, dq, dk, dv := l.a, l.scratch, l.D, l.Lq, l.Lk, l.q, l.k, l.v, l.mask, l.sq, l.sk, l.out, l.lse, l.gout, l.dq, l.dk, l.dv
	buf := scratch.get(2 * Lk)
	defer scratch.put(buf)
	s, ps := buf.data[:Lk], buf.data[Lk:2*Lk]
	for h := lo; h < hi; h++ {
		kh, vh := k[h*Lk*D:(h+1)*Lk*D], v[h*Lk*D:(h+1)*Lk*D]
		dkh, dvh := dk[h*Lk*D:(h+1)*Lk*D], dv[h*Lk*D:(h+1)*Lk*D]
		clear(dkh)
		clear(dvh)
		for i := range Lq {
			row := h*Lq + i
			qi, oi, gi, dqi := q[row*D:(row+1)*D], out[row*D:(row+1)*D], gout[row*D:(row+1)*D], dq[row*D:(row+1)*D]
			clear(dqi)
			l := lse[row]
			if math.IsInf(float64(l), -1) {
				continue
			}
			attnScores(a, s, qi, kh, mask, sq, sk, i)
			expShiftRow(ps, s, l)
			di := dot(gi, oi)
			for j, sj := range s {
				if math.IsInf(float64(sj), -1) {
					continue
				}
				p := ps[j]
				kj, vj := kh[j*D:(j+1)*D], vh[j*D:(j+1)*D]
				axpy(p, gi, dvh[j*D:(j+1)*D])
				ds := a.Scale * p * (dot(gi, vj) - di)
				axpy(ds, kj, dqi)
				axpy(ds, qi, dkh[j*D:(j+1)*D])
			}
		}
	}
}

// attnProbLoop is the parallel loop body of attentionGemm that turns the
// scores S of a block of queries into unnormalised probabilities, their
// log-sum-exps and the reciprocals of their sums.
type attnProbLoop struct {
	a    tensor.AttentionArgs
	S    []float32
	lse  []float32
	inv  []float32
	mask []float32
	sq   []float32
	sk   []float32
	vis  []int32
	blk  attnQBlock
	nb   int
	kn   int
	h0   int
	Lq   int
}

func (l *attnProbLoop) run(lo, hi int) {
	a, S, lse, inv, mask, sq, sk, vis, blk, nb, kn, h0, Lq := l.a, l.S, l.lse, l.inv, l.mask, l.sq, l.sk, l.vis, l.blk, l.nb, l.kn, l.h0, l.Lq
	for r := lo; r < hi; r++ {
		i := blk.r0 + r%nb
		lse[(h0+r/nb)*Lq+i], inv[r] = attnExpRow(a, S[r*kn:(r+1)*kn], mask, sq, sk, vis, i)
	}
}

// attnNormLoop is the parallel loop body of attentionGemm that divides
// the rows of O of a block of queries by their probability sums.
type attnNormLoop struct {
	out []float32
	inv []float32
	blk attnQBlock
	nb  int
	h0  int
	Lq  int
	D   int
}

func (l *attnNormLoop) run(lo, hi int) {
	out, inv, blk, nb, h0, Lq, D := l.out, l.inv, l.blk, l.nb, l.h0, l.Lq, l.D
	for r := lo; r < hi; r++ {
		o := ((h0+r/nb)*Lq + blk.r0 + r%nb) * D
		scaleShiftRow(out[o:o+D], out[o:o+D], inv[r], 0)
	}
}

// attnBackProbLoop is the parallel loop body of attentionBackwardGemm
// that recomputes the probabilities, in S, of a block of queries.
type attnBackProbLoop attnProbLoop

func (l *attnBackProbLoop) run(lo, hi int) {
	a, P, lse, mask, sq, sk, vis, blk, nb, kn, h0, Lq := l.a, l.S, l.lse, l.mask, l.sq, l.sk, l.vis, l.blk, l.nb, l.kn, l.h0, l.Lq
	for r := lo; r < hi; r++ {
		i := blk.r0 + r%nb
		attnProbRow(a, P[r*kn:(r+1)*kn], mask, sq, sk, vis, i, lse[(h0+r/nb)*Lq+i])
	}
}

// attnDSLoop is the parallel loop body of attentionBackwardGemm that
// forms the score gradients of a block of queries.
type attnDSLoop struct {
	a    tensor.AttentionArgs
	P    []float32
	dS   []float32
	gout []float32
	out  []float32
	vis  []int32
	blk  attnQBlock
	nb   int
	kn   int
	h0   int
	Lq   int
	D    int
}

func (l *attnDSLoop) run(lo, hi int) {
	a, P, dS, gout, out, vis, blk, nb, kn, h0, Lq, D := l.a, l.P, l.dS, l.gout, l.out, l.vis, l.blk, l.nb, l.kn, l.h0, l.Lq, l.D
	for r := lo; r < hi; r++ {
		o := ((h0+r/nb)*Lq + blk.r0 + r%nb) * D
		attnScoreGradRow(a, dS[r*kn:(r+1)*kn], P[r*kn:(r+1)*kn], gout[o:o+D], out[o:o+D], vis, blk.r0+r%nb)
	}
}
