package tokenizer

import (
	"fmt"

	"sargo/autograd"
	"sargo/nn"
)

// normEps is the GroupNorm epsilon of the reference autoencoders.
const normEps = 1e-6

// midBlocks is the number of ResBlocks at the lowest resolution, between
// the resolution stages and the output (the reference's res-attn-res
// middle, without the attention).
const midBlocks = 2

// stage is one resolution level: ResBlocks, then an optional resampler.
type stage struct {
	Blocks     []*nn.ResBlock
	Downsample *nn.Downsample // encoder stages except the last
	Upsample   *nn.Upsample   // decoder stages except the last
}

func (s *stage) Parameters() []nn.NamedParam {
	var p nn.Params
	for j, b := range s.Blocks {
		p.SubIndex("block", j, b)
	}
	if s.Downsample != nil {
		p.Sub("downsample", s.Downsample)
	}
	if s.Upsample != nil {
		p.Sub("upsample", s.Upsample)
	}
	return p
}

// encoder maps an image [B, C, H, W] to the latent [B, CVae, H/D, W/D]:
// conv_in, per resolution ResBlocks and a stride-2 Downsample (none after
// the last), middle ResBlocks, GroupNorm → SiLU → conv_out.
type encoder struct {
	ConvIn  *nn.Conv2d
	Down    []*stage
	Mid     []*nn.ResBlock
	NormOut *nn.GroupNorm
	ConvOut *nn.Conv2d
}

func newEncoder(in *nn.Init, c Config) (*encoder, error) {
	e := &encoder{ConvIn: nn.NewConv2d(in, c.ImageChannels, c.channels(0), 3, 1, 1, true)}
	ch := c.channels(0)
	n := c.levels()
	for i := range n {
		st := &stage{}
		out := c.channels(i)
		for j := range c.ResBlocks {
			b, err := nn.NewResBlock(in, ch, out, 0, normEps)
			if err != nil {
				return nil, fmt.Errorf("encoder level %d block %d: %w", i, j, err)
			}
			st.Blocks = append(st.Blocks, b)
			ch = out
		}
		if i != n-1 {
			st.Downsample = nn.NewDownsample(in, ch)
		}
		e.Down = append(e.Down, st)
	}
	for j := range midBlocks {
		b, err := nn.NewResBlock(in, ch, ch, 0, normEps)
		if err != nil {
			return nil, fmt.Errorf("encoder middle block %d: %w", j, err)
		}
		e.Mid = append(e.Mid, b)
	}
	norm, err := nn.NewGroupNorm(in, groupsFor(ch), ch, normEps)
	if err != nil {
		return nil, fmt.Errorf("encoder norm_out: %w", err)
	}
	e.NormOut = norm
	e.ConvOut = nn.NewConv2d(in, ch, c.CVae, 3, 1, 1, true)
	return e, nil
}

func (e *encoder) forward(g *autograd.Graph, x *autograd.Var) *autograd.Var {
	h := e.ConvIn.Forward(g, x)
	for _, st := range e.Down {
		for _, b := range st.Blocks {
			h = b.Forward(g, h)
		}
		if st.Downsample != nil {
			h = st.Downsample.Forward(g, h)
		}
	}
	for _, b := range e.Mid {
		h = b.Forward(g, h)
	}
	return e.ConvOut.Forward(g, g.Silu(e.NormOut.Forward(g, h)))
}

func (e *encoder) Parameters() []nn.NamedParam {
	var p nn.Params
	p.Sub("conv_in", e.ConvIn)
	for i, st := range e.Down {
		p.SubIndex("down", i, st)
	}
	for j, b := range e.Mid {
		p.SubIndex("mid", j, b)
	}
	p.Sub("norm_out", e.NormOut)
	p.Sub("conv_out", e.ConvOut)
	return p
}

// groupsFor is the GroupNorm group count ResBlocks use (nn picks it the
// same way): 32 when the channels allow it, else the largest divisor of
// the channels below 32.
func groupsFor(channels int) int {
	for g := min(32, channels); g > 1; g-- {
		if channels%g == 0 {
			return g
		}
	}
	return 1
}
