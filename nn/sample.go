package nn

import (
	"sargo/autograd"
	"sargo/tensor"
)

// Downsample halves the resolution with a stride-2 3×3 convolution after
// padding one row and column at the bottom and right (the asymmetric
// padding of the reference autoencoders).
type Downsample struct {
	Conv *Conv2d
}

// NewDownsample makes a channel-preserving downsampler.
func NewDownsample(in *Init, channels int) *Downsample {
	return &Downsample{Conv: NewConv2d(in, channels, channels, 3, 2, 0, true)}
}

// Forward maps x [N, C, H, W] to [N, C, H/2, W/2].
func (d *Downsample) Forward(g *autograd.Graph, x *autograd.Var) *autograd.Var {
	x = g.Pad(x, []int{0, 0, 0, 0}, []int{0, 0, 1, 1}, 0)
	return d.Conv.Forward(g, x)
}

// Parameters are conv.*.
func (d *Downsample) Parameters() []NamedParam {
	var p Params
	p.Sub("conv", d.Conv)
	return p
}

// Upsample doubles the resolution by nearest-neighbour interpolation and
// then applies a 3×3 convolution.
type Upsample struct {
	Conv *Conv2d
}

// NewUpsample makes a channel-preserving upsampler.
func NewUpsample(in *Init, channels int) *Upsample {
	return &Upsample{Conv: NewConv2d(in, channels, channels, 3, 1, 1, true)}
}

// Forward maps x [N, C, H, W] to [N, C, 2H, 2W].
func (u *Upsample) Forward(g *autograd.Graph, x *autograd.Var) *autograd.Var {
	s := x.Shape()
	x = g.Interpolate(x, 2*s[2], 2*s[3], tensor.InterpNearest)
	return u.Conv.Forward(g, x)
}

// Parameters are conv.*.
func (u *Upsample) Parameters() []NamedParam {
	var p Params
	p.Sub("conv", u.Conv)
	return p
}
