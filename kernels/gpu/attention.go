package gpu

import (
	"fmt"

	"sargo/tensor"
)

// Fused scaled dot-product attention, FlashAttention-2 style:
// shaders/attention.comp or attention_subgroup.comp (forward),
// attention_backward_dq.comp and attention_backward_dkdv.comp (backward),
// tiled as attention_tile.glsl describes. The forward gives a workgroup of
// attnLocal invocations a tile of attnTile queries, walks the keys
// attnTile at a time with an online softmax, and saves the log-sum-exp.
// The backward recomputes the probabilities from it: the dQ kernel (per
// query tile, which also writes D = rowsum(dO∘O)), then the dK/dV kernel
// (per key tile), so every output has one writer and nothing needs atomics.

// attnLocal is the number of invocations of an attention workgroup.
const attnLocal = 128

// attnTile is the number of queries (forward, dQ) or keys (dK/dV) one
// workgroup owns.
const attnTile = 32

// attnMaxD is the largest head dimension the attention kernels support:
// each invocation accumulates D/4 outputs (2 rows × D/8 columns) per
// tensor, and the kernels write them out per 32-column chunk, at most 4.
const attnMaxD = 128

// attnChunk is the number of head-dim columns the kernels stage at a time.
const attnChunk = 32

// attnSpec is the specialization of the attention kernels: the head dim
// rounded up to whole chunks (32, 64, 96 or 128), a constant of the
// pipeline so that the accumulators (D/4 per invocation) are registers;
// the exact head dim travels in the push constants.
func attnSpec(d int) []uint32 {
	return []uint32{uint32((max(d, 1) + attnChunk - 1) / attnChunk * attnChunk)}
}

// attnCheck records a sticky error and reports false when the head dim is
// beyond the kernels' register width. (Their shared memory, at most 16 KiB,
// is within every device's limit.)
func (b *Kernels) attnCheck(op string, d int) bool {
	if d <= attnMaxD {
		return true
	}
	b.dev.Fail(fmt.Errorf("%s: head dim %d exceeds %d", op, d, attnMaxD))
	return false
}

// attnShuffles reports whether the forward reduces rows with subgroup
// shuffles on a device with properties info: it needs them in subgroups of
// at least 8 invocations that divide the workgroup (the 8 invocations
// sharing a row are consecutive lanes).
func attnShuffles(info Features, t Tuning) bool {
	sg := t.SubgroupSize(info)
	return info.SubgroupShuffle && sg >= 8 && sg <= attnLocal && attnLocal%sg == 0
}

// attnForwardShader is the forward kernel for the device and its
// required subgroup size: the row reductions through subgroup shuffles
// where attnShuffles allows and they are not turned off, through shared
// memory otherwise.
func (b *Kernels) attnForwardShader() (string, uint32) {
	if attnShuffles(b.info, b.tune) && !b.noSubgroups {
		return "attention_subgroup", b.tune.Subgroup
	}
	return "attention", 0
}

// attentionVariants lists the attention pipelines: for each padded head
// dim (every head dim up to attnMaxD launches one of these), the forward
// through shared memory, the forward through subgroup shuffles where
// attnShuffles allows, and the dQ and dK/dV kernels.
func attentionVariants(info Features, t Tuning) []Variant {
	var vs []Variant
	for d := attnChunk; d <= attnMaxD; d += attnChunk {
		label := fmt.Sprintf("D=%d", d)
		spec := attnSpec(d)
		vs = append(vs, Variant{Shader: "attention", Spec: spec, Bindings: 8, Group: "attention", Label: label})
		if attnShuffles(info, t) {
			vs = append(vs, Variant{Shader: "attention_subgroup", Spec: spec, Bindings: 8, Group: "attention_subgroup", Label: label, Subgroup: t.Subgroup})
		}
		vs = append(vs,
			Variant{Shader: "attention_backward_dq", Spec: spec, Bindings: 11, Group: "attention_backward_dq", Label: label},
			Variant{Shader: "attention_backward_dkdv", Spec: spec, Bindings: 11, Group: "attention_backward_dkdv", Label: label})
	}
	return vs
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
	g := groups1D(n, attnTile)
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
	shader, subgroup := b.attnForwardShader()
	launchSized(b, subgroup, shader, attnSpec(a.D), &push, attnGroups(a.Lq, nh),
		write(a.Out.Buf), write(a.Lse.Buf), read(q), read(k), read(v), read(mask), read(sq), read(sk))
}

type attnDQPush struct {
	offDQ, offDd, offQ, offK, offV, offGO, offO, offLse, offMask, offSQ, offSK uint32
	nh, lq, lk, d, mask                                                        uint32
	scale                                                                      float32
}

type attnDKDVPush struct {
	offDK, offDV, offQ, offK, offV, offGO, offLse, offDd, offMask, offSQ, offSK uint32
	nh, lq, lk, d, mask                                                         uint32
	scale                                                                       float32
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
	dd := b.dev.Alloc(max(rows, 1)) // rowsum(dO∘O), written by the dQ kernel
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
		qp := attnDQPush{uint32(g.GradQ.Offset), 0, uint32(a.Q.Offset), uint32(a.K.Offset), uint32(a.V.Offset),
			uint32(g.GradOut.Offset), uint32(a.Out.Offset), uint32(a.Lse.Offset), uint32(a.MaskValues.Offset),
			uint32(a.ScaleQ.Offset), uint32(a.ScaleK.Offset), uint32(nh), uint32(a.Lq), uint32(a.Lk), uint32(a.D), uint32(a.Mask), a.Scale}
		launch(b, "attention_backward_dq", spec, &qp, attnGroups(a.Lq, nh),
			write(g.GradQ.Buf), write(dd), read(q), read(k), read(v), read(gout), read(out), read(lse),
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
