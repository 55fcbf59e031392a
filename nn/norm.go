package nn

import (
	"fmt"

	"sargo/autograd"
)

// LayerNorm normalises the last axis, with an optional affine transform.
type LayerNorm struct {
	Dim    int
	Eps    float32
	Weight *autograd.Var // nil without affine
	Bias   *autograd.Var
}

// NewLayerNorm makes a LayerNorm; with affine, weight is one and bias zero.
func NewLayerNorm(in *Init, dim int, eps float32, affine bool) *LayerNorm {
	ln := &LayerNorm{Dim: dim, Eps: eps}
	if affine {
		ln.Weight = autograd.Param(in.Full(1, dim))
		ln.Bias = autograd.Param(in.Zeros(dim))
	}
	return ln
}

// Forward normalises x over its last axis.
func (ln *LayerNorm) Forward(g *autograd.Graph, x *autograd.Var) *autograd.Var {
	return g.LayerNorm(x, ln.Weight, ln.Bias, ln.Eps)
}

// Parameters are "weight" and "bias" when affine, both without decay.
func (ln *LayerNorm) Parameters() []NamedParam {
	var p Params
	p.Add("weight", ln.Weight, true)
	p.Add("bias", ln.Bias, true)
	return p
}

// GroupNorm normalises x [N, C, ...] over groups of channels, with a
// per-channel affine transform.
type GroupNorm struct {
	Groups, Channels int
	Eps              float32
	Weight, Bias     *autograd.Var
}

// NewGroupNorm makes a GroupNorm with weight one and bias zero. Channels
// must be divisible by groups.
func NewGroupNorm(in *Init, groups, channels int, eps float32) (*GroupNorm, error) {
	if groups <= 0 || channels%groups != 0 {
		return nil, fmt.Errorf("group norm: %d channels do not split into %d groups", channels, groups)
	}
	return &GroupNorm{Groups: groups, Channels: channels, Eps: eps,
		Weight: autograd.Param(in.Full(1, channels)), Bias: autograd.Param(in.Zeros(channels))}, nil
}

// Forward normalises x.
func (gn *GroupNorm) Forward(g *autograd.Graph, x *autograd.Var) *autograd.Var {
	return g.GroupNorm(x, gn.Weight, gn.Bias, gn.Groups, gn.Eps)
}

// Parameters are "weight" and "bias", both without decay.
func (gn *GroupNorm) Parameters() []NamedParam {
	var p Params
	p.Add("weight", gn.Weight, true)
	p.Add("bias", gn.Bias, true)
	return p
}

// normGroups picks the group count of the VQ autoencoder's norms: 32 as in
// taming/LlamaGen when the channels allow it, else the largest divisor of
// channels not above 32.
func normGroups(channels int) int {
	for g := min(32, channels); g > 1; g-- {
		if channels%g == 0 {
			return g
		}
	}
	return 1
}
