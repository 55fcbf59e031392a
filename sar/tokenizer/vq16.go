package tokenizer

import (
	"fmt"

	"sargo/autograd"
	"sargo/nn"
)

// The VQ-16 architecture of FlexVAR's tokenizer (LlamaGen's VQ model,
// FlexVAE.pth): channel widths Base·ChannelMult[i] per resolution level,
// ResBlocks per encoder level and ResBlocks+1 per decoder level, an
// AttnBlock after every ResBlock of the lowest-resolution level, a middle
// ResBlock → AttnBlock → ResBlock, GroupNorm with 32 groups and ε 1e-6,
// and ZChannels between the convolution stacks and the 1×1 quant_conv /
// post_quant_conv that map to and from the CVae-channel latent. Its
// parameter names are those of the reference state dict.

// vq16Groups is the GroupNorm group count of every norm of VQ-16.
const vq16Groups = 32

// vq16Level is one resolution level: ResBlocks (res.j), AttnBlocks after
// each of them at the lowest resolution (attn.j), then a resampler.
type vq16Level struct {
	Res        []*nn.ResBlock
	Attn       []*nn.AttnBlock
	Downsample *nn.Downsample
	Upsample   *nn.Upsample
}

// layers are the level's blocks in order.
func (l *vq16Level) layers() []layer {
	var ls []layer
	for j, r := range l.Res {
		ls = append(ls, r.Forward)
		if l.Attn != nil {
			ls = append(ls, l.Attn[j].Forward)
		}
	}
	if l.Downsample != nil {
		ls = append(ls, l.Downsample.Forward)
	}
	if l.Upsample != nil {
		ls = append(ls, l.Upsample.Forward)
	}
	return ls
}

func (l *vq16Level) Parameters() []nn.NamedParam {
	var p nn.Params
	for j, r := range l.Res {
		p.SubIndex("res", j, r)
	}
	for j, a := range l.Attn {
		p.SubIndex("attn", j, a)
	}
	if l.Downsample != nil {
		p.Sub("downsample", l.Downsample)
	}
	if l.Upsample != nil {
		p.Sub("upsample", l.Upsample)
	}
	return p
}

// vq16Mid is the middle ResBlock → AttnBlock → ResBlock (mid.0, mid.1,
// mid.2).
type vq16Mid struct {
	Res0 *nn.ResBlock
	Attn *nn.AttnBlock
	Res2 *nn.ResBlock
}

func newVQ16Mid(in *nn.Init, ch int) (*vq16Mid, error) {
	r0, err := nn.NewResBlock(in, ch, ch, vq16Groups, normEps)
	if err != nil {
		return nil, err
	}
	a, err := nn.NewAttnBlock(in, ch, vq16Groups, normEps)
	if err != nil {
		return nil, err
	}
	r2, err := nn.NewResBlock(in, ch, ch, vq16Groups, normEps)
	if err != nil {
		return nil, err
	}
	return &vq16Mid{Res0: r0, Attn: a, Res2: r2}, nil
}

// layers are the middle's blocks in order.
func (m *vq16Mid) layers() []layer { return []layer{m.Res0.Forward, m.Attn.Forward, m.Res2.Forward} }

func (m *vq16Mid) Parameters() []nn.NamedParam {
	var p nn.Params
	p.Sub("0", m.Res0)
	p.Sub("1", m.Attn)
	p.Sub("2", m.Res2)
	return p
}

// vq16Encoder maps an image to ZChannels at 1/Downsample of its size:
// conv_in, the levels (conv_blocks.i) from full resolution down, the
// middle, GroupNorm → SiLU → conv_out.
type vq16Encoder struct {
	ConvIn  *nn.Conv2d
	Levels  []*vq16Level
	Mid     *vq16Mid
	NormOut *nn.GroupNorm
	ConvOut *nn.Conv2d
}

func newVQ16Encoder(in *nn.Init, c Config) (*vq16Encoder, error) {
	n := len(c.ChannelMult)
	ch := c.Base
	e := &vq16Encoder{ConvIn: nn.NewConv2d(in, c.ImageChannels, ch, 3, 1, 1, true)}
	for i := range n {
		out := c.Base * c.ChannelMult[i]
		l := &vq16Level{}
		for j := range c.ResBlocks {
			r, err := nn.NewResBlock(in, ch, out, vq16Groups, normEps)
			if err != nil {
				return nil, fmt.Errorf("encoder level %d block %d: %w", i, j, err)
			}
			l.Res = append(l.Res, r)
			ch = out
			if i == n-1 {
				a, err := nn.NewAttnBlock(in, ch, vq16Groups, normEps)
				if err != nil {
					return nil, fmt.Errorf("encoder level %d attention %d: %w", i, j, err)
				}
				l.Attn = append(l.Attn, a)
			}
		}
		if i != n-1 {
			l.Downsample = nn.NewDownsample(in, ch)
		}
		e.Levels = append(e.Levels, l)
	}
	mid, err := newVQ16Mid(in, ch)
	if err != nil {
		return nil, fmt.Errorf("encoder middle: %w", err)
	}
	e.Mid = mid
	if e.NormOut, err = nn.NewGroupNorm(in, vq16Groups, ch, normEps); err != nil {
		return nil, fmt.Errorf("encoder norm_out: %w", err)
	}
	e.ConvOut = nn.NewConv2d(in, ch, c.ZChannels, 3, 1, 1, true)
	return e, nil
}

func (e *vq16Encoder) forward(g *autograd.Graph, x *autograd.Var) *autograd.Var {
	ls := []layer{e.ConvIn.Forward}
	for _, l := range e.Levels {
		ls = append(ls, l.layers()...)
	}
	ls = append(ls, e.Mid.layers()...)
	ls = append(ls, func(g *autograd.Graph, h *autograd.Var) *autograd.Var {
		return e.ConvOut.Forward(g, g.Silu(e.NormOut.Forward(g, h)))
	})
	return runLayers(g, x, ls...)
}

func (e *vq16Encoder) Parameters() []nn.NamedParam {
	var p nn.Params
	p.Sub("conv_in", e.ConvIn)
	for i, l := range e.Levels {
		p.SubIndex("conv_blocks", i, l)
	}
	p.Sub("mid", e.Mid)
	p.Sub("norm_out", e.NormOut)
	p.Sub("conv_out", e.ConvOut)
	return p
}

// vq16Decoder maps ZChannels back to an image 16× larger (for VQ-16):
// conv_in, the middle, the levels (conv_blocks.j, lowest resolution
// first) with nearest-neighbour upsampling, GroupNorm → SiLU → conv_out.
type vq16Decoder struct {
	ConvIn  *nn.Conv2d
	Mid     *vq16Mid
	Levels  []*vq16Level
	NormOut *nn.GroupNorm
	ConvOut *nn.Conv2d
}

func newVQ16Decoder(in *nn.Init, c Config) (*vq16Decoder, error) {
	n := len(c.ChannelMult)
	ch := c.Base * c.ChannelMult[n-1]
	d := &vq16Decoder{ConvIn: nn.NewConv2d(in, c.ZChannels, ch, 3, 1, 1, true)}
	mid, err := newVQ16Mid(in, ch)
	if err != nil {
		return nil, fmt.Errorf("decoder middle: %w", err)
	}
	d.Mid = mid
	for i := n - 1; i >= 0; i-- {
		out := c.Base * c.ChannelMult[i]
		l := &vq16Level{}
		for j := range c.ResBlocks + 1 {
			r, err := nn.NewResBlock(in, ch, out, vq16Groups, normEps)
			if err != nil {
				return nil, fmt.Errorf("decoder level %d block %d: %w", i, j, err)
			}
			l.Res = append(l.Res, r)
			ch = out
			if i == n-1 {
				a, err := nn.NewAttnBlock(in, ch, vq16Groups, normEps)
				if err != nil {
					return nil, fmt.Errorf("decoder level %d attention %d: %w", i, j, err)
				}
				l.Attn = append(l.Attn, a)
			}
		}
		if i != 0 {
			l.Upsample = nn.NewUpsample(in, ch)
		}
		d.Levels = append(d.Levels, l)
	}
	if d.NormOut, err = nn.NewGroupNorm(in, vq16Groups, ch, normEps); err != nil {
		return nil, fmt.Errorf("decoder norm_out: %w", err)
	}
	d.ConvOut = nn.NewConv2d(in, ch, c.ImageChannels, 3, 1, 1, true)
	return d, nil
}

func (d *vq16Decoder) forward(g *autograd.Graph, z *autograd.Var) *autograd.Var {
	ls := append([]layer{d.ConvIn.Forward}, d.Mid.layers()...)
	for _, l := range d.Levels {
		ls = append(ls, l.layers()...)
	}
	ls = append(ls, func(g *autograd.Graph, h *autograd.Var) *autograd.Var {
		return d.ConvOut.Forward(g, g.Silu(d.NormOut.Forward(g, h)))
	})
	return runLayers(g, z, ls...)
}

func (d *vq16Decoder) Parameters() []nn.NamedParam {
	var p nn.Params
	p.Sub("conv_in", d.ConvIn)
	p.Sub("mid", d.Mid)
	for j, l := range d.Levels {
		p.SubIndex("conv_blocks", j, l)
	}
	p.Sub("norm_out", d.NormOut)
	p.Sub("conv_out", d.ConvOut)
	return p
}
