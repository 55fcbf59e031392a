package nn

import "sargo/autograd"

// Conv2d is a 2-D convolution over NCHW input with an OIHW weight.
type Conv2d struct {
	In, Out, Kernel, Stride, Pad int
	Weight                       *autograd.Var
	Bias                         *autograd.Var // nil without bias
}

// NewConv2d makes a square-kernel convolution initialised as PyTorch does
// by default (the VQ autoencoder of FlexVAR keeps PyTorch's defaults):
// weight and bias U(-1/√fanIn, 1/√fanIn) with fanIn = in·k·k.
func NewConv2d(in *Init, inC, outC, kernel, stride, pad int, bias bool) *Conv2d {
	fanIn := inC * kernel * kernel
	c := &Conv2d{In: inC, Out: outC, Kernel: kernel, Stride: stride, Pad: pad,
		Weight: autograd.Param(in.KaimingUniform(fanIn, outC, inC, kernel, kernel))}
	if bias {
		c.Bias = autograd.Param(in.KaimingUniform(fanIn, outC))
	}
	return c
}

// Forward convolves x [N, In, H, W].
func (c *Conv2d) Forward(g *autograd.Graph, x *autograd.Var) *autograd.Var {
	return g.Conv2d(x, c.Weight, c.Bias, c.Stride, c.Pad)
}

// Parameters are "weight" and, when present, "bias" (no decay).
func (c *Conv2d) Parameters() []NamedParam {
	var p Params
	p.Add("weight", c.Weight, false)
	p.Add("bias", c.Bias, true)
	return p
}
