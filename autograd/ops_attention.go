package autograd

import "sargo/tensor"

// Attention is fused scaled dot-product attention,
// softmax(scale·q·kᵀ + mask)·v, for q [B, H, Lq, D] and k, v [B, H, Lk, D].
// The forward saves the per-query log-sum-exp, from which the backward
// (tensor.AttentionBackward) recomputes the probabilities instead of
// storing them.
func (g *Graph) Attention(q, k, v *Var, scale float32, mask tensor.AttentionMask) *Var {
	out, lse := tensor.Attention(q.Value, k.Value, v.Value, scale, mask)
	return g.record("Attention", out, func(gy *tensor.Tensor) []*tensor.Tensor {
		dq, dk, dv := tensor.AttentionBackward(q.Value, k.Value, v.Value, out, lse, gy, scale, mask)
		return g.grads(dq, dk, dv)
	}, q, k, v)
}
