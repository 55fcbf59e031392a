package nn

import (
	"fmt"

	"sargo/autograd"
)

// ResBlock is the residual block of the VQ autoencoder (taming /
// LlamaGen's ResnetBlock): GroupNorm → SiLU → Conv3×3, twice, added to the
// input, which passes through a 1×1 convolution (nin_shortcut) when the
// channel counts differ.
type ResBlock struct {
	In, Out      int
	Norm1, Norm2 *GroupNorm
	Conv1, Conv2 *Conv2d
	Shortcut     *Conv2d // nil when In == Out
}

// NewResBlock makes a block from inC to outC channels. groups is the
// GroupNorm group count (0 picks 32, or the largest divisor of the
// channels below it); eps is 1e-6 in the reference models.
func NewResBlock(in *Init, inC, outC, groups int, eps float32) (*ResBlock, error) {
	g1, g2 := groups, groups
	if groups == 0 {
		g1, g2 = normGroups(inC), normGroups(outC)
	}
	n1, err := NewGroupNorm(in, g1, inC, eps)
	if err != nil {
		return nil, fmt.Errorf("resblock norm1: %w", err)
	}
	n2, err := NewGroupNorm(in, g2, outC, eps)
	if err != nil {
		return nil, fmt.Errorf("resblock norm2: %w", err)
	}
	r := &ResBlock{In: inC, Out: outC, Norm1: n1, Norm2: n2,
		Conv1: NewConv2d(in, inC, outC, 3, 1, 1, true),
		Conv2: NewConv2d(in, outC, outC, 3, 1, 1, true)}
	if inC != outC {
		r.Shortcut = NewConv2d(in, inC, outC, 1, 1, 0, true)
	}
	return r, nil
}

// Forward runs the block on x [N, In, H, W].
func (r *ResBlock) Forward(g *autograd.Graph, x *autograd.Var) *autograd.Var {
	h := r.Conv1.Forward(g, g.Silu(r.Norm1.Forward(g, x)))
	h = r.Conv2.Forward(g, g.Silu(r.Norm2.Forward(g, h)))
	if r.Shortcut != nil {
		x = r.Shortcut.Forward(g, x)
	}
	return g.Add(x, h)
}

// Parameters are norm1, conv1, norm2, conv2 and nin_shortcut.
func (r *ResBlock) Parameters() []NamedParam {
	var p Params
	p.Sub("norm1", r.Norm1)
	p.Sub("conv1", r.Conv1)
	p.Sub("norm2", r.Norm2)
	p.Sub("conv2", r.Conv2)
	if r.Shortcut != nil {
		p.Sub("nin_shortcut", r.Shortcut)
	}
	return p
}
