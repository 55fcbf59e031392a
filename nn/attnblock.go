package nn

import (
	"fmt"
	"math"

	"sargo/autograd"
)

// AttnBlock is the spatial self-attention block of the VQ autoencoder
// (taming / LlamaGen's AttnBlock): GroupNorm, then 1×1 convolutions q, k
// and v, one attention head over the H·W positions with scale C^(−1/2),
// a 1×1 convolution proj_out, added to the input. The attention is
// written with matrix products and a softmax over the keys, so its
// backward is that of those operations and the head may be as wide as
// the channels (512 in FlexVAR's VQ-16).
type AttnBlock struct {
	Channels         int
	Norm             *GroupNorm
	Q, K, V, ProjOut *Conv2d
}

// NewAttnBlock makes a block over channels; groups is the GroupNorm group
// count (0 picks 32, or the largest divisor of the channels below it) and
// eps its epsilon (1e-6 in the reference models).
func NewAttnBlock(in *Init, channels, groups int, eps float32) (*AttnBlock, error) {
	if groups == 0 {
		groups = normGroups(channels)
	}
	norm, err := NewGroupNorm(in, groups, channels, eps)
	if err != nil {
		return nil, fmt.Errorf("attn block norm: %w", err)
	}
	conv := func() *Conv2d { return NewConv2d(in, channels, channels, 1, 1, 0, true) }
	return &AttnBlock{Channels: channels, Norm: norm, Q: conv(), K: conv(), V: conv(), ProjOut: conv()}, nil
}

// Forward runs the block on x [N, C, H, W].
func (a *AttnBlock) Forward(g *autograd.Graph, x *autograd.Var) *autograd.Var {
	s := x.Shape()
	if len(s) != 4 || s[1] != a.Channels {
		panic(fmt.Sprintf("nn: AttnBlock: input %v, want [N, %d, H, W]", s, a.Channels))
	}
	n, c, hw := s[0], s[1], s[2]*s[3]
	h := a.Norm.Forward(g, x)
	q := g.Reshape(a.Q.Forward(g, h), n, c, hw)
	k := g.Reshape(a.K.Forward(g, h), n, c, hw)
	v := g.Reshape(a.V.Forward(g, h), n, c, hw)
	// w[n, i, j] = softmax_j(Σ_c q[n, c, i]·k[n, c, j] / √C): query i, key j.
	w := g.Softmax(g.Scale(g.MatMul(q, k, true, false), float32(1/math.Sqrt(float64(c)))))
	// out[n, c, i] = Σ_j v[n, c, j]·w[n, i, j].
	out := g.Reshape(g.MatMul(v, w, false, true), s...)
	return g.Add(x, a.ProjOut.Forward(g, out))
}

// Parameters are norm, q, k, v and proj_out, as the reference names them.
func (a *AttnBlock) Parameters() []NamedParam {
	var p Params
	p.Sub("norm", a.Norm)
	p.Sub("q", a.Q)
	p.Sub("k", a.K)
	p.Sub("v", a.V)
	p.Sub("proj_out", a.ProjOut)
	return p
}
