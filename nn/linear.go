package nn

import (
	"sargo/autograd"
)

// Linear is y = x·Wᵀ + b with W of shape [Out, In] (PyTorch's layout).
type Linear struct {
	In, Out int
	Weight  *autograd.Var
	Bias    *autograd.Var // nil without bias
}

// NewLinear makes a Linear initialised as VAR does: weight trunc-normal
// with std DefaultInitStd, bias zero.
func NewLinear(in *Init, inF, outF int, bias bool) *Linear {
	return NewLinearStd(in, inF, outF, bias, DefaultInitStd)
}

// NewLinearStd is NewLinear with a chosen weight std.
func NewLinearStd(in *Init, inF, outF int, bias bool, std float64) *Linear {
	l := &Linear{In: inF, Out: outF, Weight: autograd.Param(in.TruncNormal(std, outF, inF))}
	if bias {
		l.Bias = autograd.Param(in.Zeros(outF))
	}
	return l
}

// Forward applies the layer to the last axis of x.
func (l *Linear) Forward(g *autograd.Graph, x *autograd.Var) *autograd.Var {
	return g.Linear(x, l.Weight, l.Bias)
}

// Parameters are "weight" and, when present, "bias" (no decay).
func (l *Linear) Parameters() []NamedParam {
	var p Params
	p.Add("weight", l.Weight, false)
	p.Add("bias", l.Bias, true)
	return p
}
