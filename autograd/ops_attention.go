package autograd

import "sargo/tensor"

// Attention is fused scaled dot-product attention,
// softmax(scale·q·kᵀ + mask)·v, for q [B, H, Lq, D] and k, v [B, H, Lk, D].
// The forward saves the per-query log-sum-exp, from which the backward
// (tensor.AttentionBackward) recomputes the probabilities instead of
// storing them.
func (g *Graph) Attention(q, k, v *Var, scale float32, mask tensor.AttentionMask) *Var {
	out, lse := tensor.Attention(q.Value, k.Value, v.Value, scale, mask)
	s := saved{t: [4]*tensor.Tensor{lse, mask.Values, mask.ScaleQ, mask.ScaleK}, i: [6]int{int(mask.Kind)}, f: [2]float32{scale}}
	return g.recordStep("Attention", out, attentionBack, &s, q, k, v)
}

// attentionBack is Attention's backward: n.saved holds the log-sum-exp,
// the mask (its tensors and kind) and the scale.
func attentionBack(g *Graph, n *node, gy *tensor.Tensor) []*tensor.Tensor {
	s := &n.saved
	mask := tensor.AttentionMask{Kind: tensor.MaskKind(s.i[0]), Values: s.t[1], ScaleQ: s.t[2], ScaleK: s.t[3]}
	q, k, v := n.inputs[0].Value, n.inputs[1].Value, n.inputs[2].Value
	dq, dk, dv := tensor.AttentionBackward(q, k, v, n.out.Value, s.t[0], gy, s.f[0], mask)
	return g.grads(dq, dk, dv)
}
