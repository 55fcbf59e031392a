package tokenizer

import (
	"fmt"

	"sargo/autograd"
	"sargo/nn"
)

// decoder mirrors the encoder: conv_in from CVae channels, middle
// ResBlocks, per resolution (lowest first) ResBlocks+1 ResBlocks and a
// nearest-neighbour Upsample (none after the last), GroupNorm → SiLU →
// conv_out to the image channels.
type decoder struct {
	ConvIn  *nn.Conv2d
	Mid     []*nn.ResBlock
	Up      []*stage
	NormOut *nn.GroupNorm
	ConvOut *nn.Conv2d
}

func newDecoder(in *nn.Init, c Config) (*decoder, error) {
	n := c.levels()
	ch := c.channels(n - 1)
	d := &decoder{ConvIn: nn.NewConv2d(in, c.CVae, ch, 3, 1, 1, true)}
	for j := range midBlocks {
		b, err := nn.NewResBlock(in, ch, ch, 0, normEps)
		if err != nil {
			return nil, fmt.Errorf("decoder middle block %d: %w", j, err)
		}
		d.Mid = append(d.Mid, b)
	}
	for i := n - 1; i >= 0; i-- {
		st := &stage{}
		out := c.channels(i)
		for j := range c.ResBlocks + 1 {
			b, err := nn.NewResBlock(in, ch, out, 0, normEps)
			if err != nil {
				return nil, fmt.Errorf("decoder level %d block %d: %w", i, j, err)
			}
			st.Blocks = append(st.Blocks, b)
			ch = out
		}
		if i != 0 {
			st.Upsample = nn.NewUpsample(in, ch)
		}
		d.Up = append(d.Up, st)
	}
	norm, err := nn.NewGroupNorm(in, groupsFor(ch), ch, normEps)
	if err != nil {
		return nil, fmt.Errorf("decoder norm_out: %w", err)
	}
	d.NormOut = norm
	d.ConvOut = nn.NewConv2d(in, ch, c.ImageChannels, 3, 1, 1, true)
	return d, nil
}

func (d *decoder) forward(g *autograd.Graph, z *autograd.Var) *autograd.Var {
	ls := []layer{d.ConvIn.Forward}
	for _, b := range d.Mid {
		ls = append(ls, b.Forward)
	}
	for _, st := range d.Up {
		for _, b := range st.Blocks {
			ls = append(ls, b.Forward)
		}
		if st.Upsample != nil {
			ls = append(ls, st.Upsample.Forward)
		}
	}
	ls = append(ls, func(g *autograd.Graph, h *autograd.Var) *autograd.Var {
		return d.ConvOut.Forward(g, g.Silu(d.NormOut.Forward(g, h)))
	})
	return runLayers(g, z, ls...)
}

func (d *decoder) Parameters() []nn.NamedParam {
	var p nn.Params
	p.Sub("conv_in", d.ConvIn)
	for j, b := range d.Mid {
		p.SubIndex("mid", j, b)
	}
	for i, st := range d.Up {
		p.SubIndex("up", i, st)
	}
	p.Sub("norm_out", d.NormOut)
	p.Sub("conv_out", d.ConvOut)
	return p
}
