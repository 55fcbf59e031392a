package nn

import (
	"fmt"
	"math"

	"sargo/autograd"
	"sargo/tensor"
)

// MaxScaleMul is VAR's cap on the learnable attention temperature: the
// logarithm of the per-head multiplier is clamped at log(100).
const MaxScaleMul = 4.605170185988092 // math.Log(100)

// l2NormEps is F.normalize's default epsilon.
const l2NormEps = 1e-12

// SelfAttention is VAR's multi-head self-attention. The fused projection
// mat_qkv [3C, C] has no bias of its own; a learnable q_bias and v_bias
// (and a fixed zero bias for k) are concatenated as its bias. With L2Norm
// (VAR's attn_l2_norm, the FlexVAR form) q and k are L2-normalised per
// head, q is multiplied by exp(min(scale_mul_1H11, log 100)) per head
// (initialised to log 4), and the attention scale is 1; otherwise the
// scores are scaled by Scale (1/√headDim by default).
type SelfAttention struct {
	Dim, Heads, HeadDim int
	L2Norm              bool
	Scale               float32
	MatQKV              *Linear
	QBias, VBias        *autograd.Var
	ScaleMul            *autograd.Var // [1, Heads, 1, 1]; nil without L2Norm
	Proj                *Linear
}

// NewSelfAttention makes the attention of width dim with heads heads.
// scale is the plain form's score scale (0 means 1/√headDim); it is
// ignored with l2norm.
func NewSelfAttention(in *Init, dim, heads int, l2norm bool, scale float32) (*SelfAttention, error) {
	if heads <= 0 || dim%heads != 0 {
		return nil, fmt.Errorf("self-attention: width %d does not split into %d heads", dim, heads)
	}
	a := &SelfAttention{Dim: dim, Heads: heads, HeadDim: dim / heads, L2Norm: l2norm}
	a.MatQKV = NewLinear(in, dim, 3*dim, false)
	a.QBias = autograd.Param(in.Zeros(dim))
	a.VBias = autograd.Param(in.Zeros(dim))
	a.Proj = NewLinear(in, dim, dim, true)
	switch {
	case l2norm:
		a.Scale = 1
		a.ScaleMul = autograd.Param(in.Full(float32(math.Log(4)), 1, heads, 1, 1))
	case scale != 0:
		a.Scale = scale
	default:
		a.Scale = float32(1 / math.Sqrt(float64(a.HeadDim)))
	}
	return a, nil
}

// KVCache holds one attention layer's keys and values [B, H, L, D] of the
// tokens seen so far, for inference one scale at a time. With Reserve set
// before the first step to the number of tokens the whole generation
// caches, the first step allocates room for all of them and each step
// writes its keys and values into that room, so the cache is allocated
// once; without it (or past it), each step grows the cache by
// concatenation, which allocates a new cache and frees the old one every
// step.
type KVCache struct {
	// Reserve is the number of tokens the first step makes room for.
	Reserve int
	k, v    *tensor.Tensor // [B, H, capacity, D], the first n tokens cached
	n       int
}

// Len is the number of cached tokens.
func (c *KVCache) Len() int {
	if c == nil || c.k == nil {
		return 0
	}
	return c.n
}

// Reset frees the cached tensors; Reserve stays.
func (c *KVCache) Reset() {
	c.k.Release()
	c.v.Release()
	c.k, c.v, c.n = nil, nil, 0
}

// append adds this step's keys and values and returns all of them, views
// of the current scope. The cache owns its storage beyond the scope of the
// step that made it.
func (c *KVCache) append(k, v *tensor.Tensor) (*tensor.Tensor, *tensor.Tensor) {
	l := k.Dim(2)
	switch {
	case c.k == nil:
		sh := k.Shape()
		sh[2] = max(c.Reserve, l)
		c.k, c.v = tensor.Empty(k.Backend(), sh...), tensor.Empty(v.Backend(), sh...)
		tensor.Escape(c.k, c.v)
	case c.n+l > c.k.Dim(2):
		nk, nv := tensor.Concat(2, c.k.Narrow(2, 0, c.n), k), tensor.Concat(2, c.v.Narrow(2, 0, c.n), v)
		c.k.Release()
		c.v.Release()
		tensor.Escape(nk, nv)
		c.k, c.v, c.n = nk, nv, c.n+l
		return c.k.Narrow(2, 0, c.n), c.v.Narrow(2, 0, c.n)
	}
	c.k.Narrow(2, c.n, l).CopyFrom(k)
	c.v.Narrow(2, c.n, l).CopyFrom(v)
	c.n += l
	return c.k.Narrow(2, 0, c.n), c.v.Narrow(2, 0, c.n)
}

// Forward attends x [B, L, C] to itself under mask. With a non-nil cache
// the new keys and values are appended to it first and the queries attend
// over every cached token (pass a mask covering the cached keys, or
// tensor.AttentionMask{} for all of them). The cached keys and values
// are constants, so the cache is for inference (a nil graph) only.
func (a *SelfAttention) Forward(g *autograd.Graph, x *autograd.Var, mask tensor.AttentionMask, cache *KVCache) *autograd.Var {
	B, L, C := x.Value.Dim(0), x.Value.Dim(1), x.Value.Dim(2)
	zeroK := g.Const(tensor.Zeros(x.Value.Backend(), C))
	bias := g.Concat(0, a.QBias, zeroK, a.VBias)
	qkv := g.Linear(x, a.MatQKV.Weight, bias) // [B, L, 3C]
	qkv = g.Reshape(qkv, B, L, 3, a.Heads, a.HeadDim)
	qkv = g.Permute(qkv, 2, 0, 3, 1, 4) // [3, B, H, L, D]
	parts := g.Chunk(qkv, 0, 3)
	q, k, v := g.Squeeze(parts[0], 0), g.Squeeze(parts[1], 0), g.Squeeze(parts[2], 0)
	if a.L2Norm {
		mul := g.ExpClamp(a.ScaleMul, float32(math.Inf(-1)), MaxScaleMul)
		q = g.Mul(g.L2Normalize(q, -1, l2NormEps), mul)
		k = g.L2Normalize(k, -1, l2NormEps)
	}
	if cache != nil {
		kt, vt := cache.append(k.Value, v.Value)
		k, v = autograd.Const(kt), autograd.Const(vt)
	}
	out := g.Attention(q, k, v, a.Scale, mask) // [B, H, L, D]
	out = g.Reshape(g.Permute(out, 0, 2, 1, 3), B, L, C)
	return a.Proj.Forward(g, out)
}

// Parameters follow VAR: mat_qkv.weight, q_bias, v_bias, scale_mul_1H11
// (with L2Norm), proj.weight, proj.bias. Biases and the temperature are
// not decayed.
func (a *SelfAttention) Parameters() []NamedParam {
	var p Params
	p.Sub("mat_qkv", a.MatQKV)
	p.Add("q_bias", a.QBias, true)
	p.Add("v_bias", a.VBias, true)
	p.Add("scale_mul_1H11", a.ScaleMul, true)
	p.Sub("proj", a.Proj)
	return p
}

// ScaleMask builds the block-causal mask of a scale schedule: token i of
// scale s sees every token of scales ≤ s. sizes are the side lengths of
// the scales (1, 2, 3 gives 1+4+9 = 14 tokens).
func ScaleMask(b tensor.Backend, sizes ...int) tensor.AttentionMask {
	var ids []float32
	for s, n := range sizes {
		for range n * n {
			ids = append(ids, float32(s))
		}
	}
	t := tensor.FromSlice(b, ids, len(ids))
	return tensor.AttentionMask{Kind: tensor.MaskScale, ScaleQ: t, ScaleK: t}
}
