package gpu

import (
	"fmt"

	"sargo/tensor"
)

// Fused scaled dot-product attention: shaders/attention.comp (forward) and
// attention_backward_dot.comp, attention_backward_dq.comp,
// attention_backward_dkdv.comp (backward). The forward is flash style: a
// workgroup per (batch·head, query tile), K/V tiles in shared memory, an
// online softmax in registers and the log-sum-exp saved. The backward
// recomputes the probabilities from it: first D = rowsum(dO∘O), then dQ per
// query tile and dK, dV per key tile in separate dispatches, so nothing
// needs atomics.

// attnLocal is the number of queries (forward, dQ) or keys (dK/dV) one
// workgroup owns, one per invocation.
const attnLocal = 32

// attnMaxD is the largest head dimension the attention kernels support.
const attnMaxD = 128

// attnSpec returns the specialization (rows per workgroup, shared tile
// length, head dim) for head dim d. The head dim is a constant of the
// pipeline so that the per-row loops over it unroll and the per-row arrays
// stay in registers; the two shared tiles of tile × d floats stay within
// 8 KiB.
func attnSpec(d int) []uint32 {
	tile := min(32, max(1, 1024/max(d, 1)))
	return []uint32{attnLocal, uint32(tile), uint32(max(d, 1))}
}

// attnCheck records a sticky error and reports false when the head dim is
// beyond the kernels' register width.
func (b *Kernels) attnCheck(op string, d int) bool {
	if d <= attnMaxD {
		return true
	}
	b.dev.Fail(fmt.Errorf("%s: head dim %d exceeds %d", op, d, attnMaxD))
	return false
}

// attnMasks returns the storages bound for the additive mask and the
// query and key scale ids (placeholders where the mask kind needs none)
// and a function releasing the placeholders.
func (b *Kernels) attnMasks(a tensor.AttentionArgs) (mask, sq, sk tensor.Storage, release func()) {
	mask, fm := b.placeholder(optional(a.MaskValues, a.Mask == tensor.MaskAdditive))
	sq, fq := b.placeholder(optional(a.ScaleQ, a.Mask == tensor.MaskScale))
	sk, fk := b.placeholder(optional(a.ScaleK, a.Mask == tensor.MaskScale))
	return mask, sq, sk, func() { fm(); fq(); fk() }
}

// attnInputs returns the storages of Q, K and V, with placeholders for
// the side that has no rows (a storage of no elements cannot be bound),
// and a function releasing them.
func (b *Kernels) attnInputs(a tensor.AttentionArgs) (q, k, v tensor.Storage, release func()) {
	q, fq := b.placeholder(optional(a.Q, a.Lq > 0))
	k, fk := b.placeholder(optional(a.K, a.Lk > 0))
	v, fv := b.placeholder(optional(a.V, a.Lk > 0))
	return q, k, v, func() { fq(); fk(); fv() }
}

// attnGroups is one workgroup per (tile of n rows, batch·head), capped.
func attnGroups(n, nh int) [3]uint32 {
	g := groups1D(n, attnLocal)
	g[1] = uint32(min(max(nh, 1), maxGroups))
	return g
}

type attentionPush struct {
	offOut, offLse, offQ, offK, offV, offMask, offSQ, offSK uint32
	nh, lq, lk, d, mask                                     uint32
	scale                                                   float32
}

// Attention runs softmax(scale·Q·Kᵀ + mask)·V over [B, H, L, D] and saves
// each query's log-sum-exp; a query that sees no key gets zeros and -Inf.
func (b *Kernels) Attention(a tensor.AttentionArgs) {
	nh := a.B * a.H
	if nh == 0 || a.Lq == 0 || !b.attnCheck("Attention", a.D) {
		return
	}
	mask, sq, sk, release := b.attnMasks(a)
	defer release()
	q, k, v, releaseQKV := b.attnInputs(a)
	defer releaseQKV()
	push := attentionPush{uint32(a.Out.Offset), uint32(a.Lse.Offset), uint32(a.Q.Offset), uint32(a.K.Offset), uint32(a.V.Offset),
		uint32(a.MaskValues.Offset), uint32(a.ScaleQ.Offset), uint32(a.ScaleK.Offset),
		uint32(nh), uint32(a.Lq), uint32(a.Lk), uint32(a.D), uint32(a.Mask), a.Scale}
	launch(b, "attention", attnSpec(a.D), &push, attnGroups(a.Lq, nh),
		write(a.Out.Buf), write(a.Lse.Buf), read(q), read(k), read(v), read(mask), read(sq), read(sk))
}

type attnDotPush struct {
	offD, offO, offGO, rows, d uint32
}

type attnDQPush struct {
	offDQ, offQ, offK, offV, offGO, offLse, offD, offMask, offSQ, offSK uint32
	nh, lq, lk, d, mask                                                 uint32
	scale                                                               float32
}

type attnDKDVPush struct {
	offDK, offDV, offQ, offK, offV, offGO, offLse, offD, offMask, offSQ, offSK uint32
	nh, lq, lk, d, mask                                                        uint32
	scale                                                                      float32
}

// AttentionBackward writes dQ, dK and dV from the saved log-sum-exp:
// P = exp(S − lse), dV = Pᵀ·dO, dS = P∘(dO·Vᵀ − rowsum(dO∘O)),
// dQ = scale·dS·K, dK = scale·dSᵀ·Q.
func (b *Kernels) AttentionBackward(a tensor.AttentionArgs, g tensor.AttentionGrads) {
	nh := a.B * a.H
	if nh == 0 || a.D == 0 || !b.attnCheck("AttentionBackward", a.D) {
		return
	}
	rows := nh * a.Lq
	dd := b.dev.Alloc(max(rows, 1))
	defer b.dev.Free(dd)
	mask, sq, sk, release := b.attnMasks(a)
	defer release()
	q, k, v, releaseQKV := b.attnInputs(a)
	defer releaseQKV()
	// with no queries, the row inputs are placeholders too (dK, dV are zeros)
	out, gout, lse, releaseRows := b.attnRows(a, g)
	defer releaseRows()
	spec := attnSpec(a.D)
	if rows > 0 {
		dp := attnDotPush{0, uint32(a.Out.Offset), uint32(g.GradOut.Offset), uint32(rows), uint32(a.D)}
		launch(b, "attention_backward_dot", []uint32{64}, &dp, groups1D(rows, 64), write(dd), read(out), read(gout))
		qp := attnDQPush{uint32(g.GradQ.Offset), uint32(a.Q.Offset), uint32(a.K.Offset), uint32(a.V.Offset), uint32(g.GradOut.Offset),
			uint32(a.Lse.Offset), 0, uint32(a.MaskValues.Offset), uint32(a.ScaleQ.Offset), uint32(a.ScaleK.Offset),
			uint32(nh), uint32(a.Lq), uint32(a.Lk), uint32(a.D), uint32(a.Mask), a.Scale}
		launch(b, "attention_backward_dq", spec, &qp, attnGroups(a.Lq, nh),
			write(g.GradQ.Buf), read(q), read(k), read(v), read(gout), read(lse), read(dd),
			read(mask), read(sq), read(sk))
	}
	if a.Lk > 0 {
		kp := attnDKDVPush{uint32(g.GradK.Offset), uint32(g.GradV.Offset), uint32(a.Q.Offset), uint32(a.K.Offset), uint32(a.V.Offset),
			uint32(g.GradOut.Offset), uint32(a.Lse.Offset), 0, uint32(a.MaskValues.Offset), uint32(a.ScaleQ.Offset), uint32(a.ScaleK.Offset),
			uint32(nh), uint32(a.Lq), uint32(a.Lk), uint32(a.D), uint32(a.Mask), a.Scale}
		launch(b, "attention_backward_dkdv", spec, &kp, attnGroups(a.Lk, nh),
			write(g.GradK.Buf), write(g.GradV.Buf), read(q), read(k), read(v), read(gout),
			read(lse), read(dd), read(mask), read(sq), read(sk))
	}
}

// attnRows returns the storages of Out, GradOut and Lse, placeholders when
// there are no queries, and a function releasing them.
func (b *Kernels) attnRows(a tensor.AttentionArgs, g tensor.AttentionGrads) (out, gout, lse tensor.Storage, release func()) {
	out, fo := b.placeholder(optional(a.Out, a.Lq > 0))
	gout, fg := b.placeholder(optional(g.GradOut, a.Lq > 0))
	lse, fl := b.placeholder(optional(a.Lse, a.Lq > 0))
	return out, gout, lse, func() { fo(); fg(); fl() }
}
