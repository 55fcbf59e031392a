package nn

import "sargo/autograd"

// MLP is VAR's FFN: Linear(C, hidden) → GELU (tanh approximation) →
// Linear(hidden, C), named fc1 and fc2.
type MLP struct {
	FC1, FC2 *Linear
}

// NewMLP makes an MLP with hidden width hidden.
func NewMLP(in *Init, dim, hidden int) *MLP {
	return &MLP{FC1: NewLinear(in, dim, hidden, true), FC2: NewLinear(in, hidden, dim, true)}
}

// Forward applies the MLP to the last axis of x.
func (m *MLP) Forward(g *autograd.Graph, x *autograd.Var) *autograd.Var {
	return m.FC2.Forward(g, g.Gelu(m.FC1.Forward(g, x), true))
}

// Parameters are fc1.* and fc2.*.
func (m *MLP) Parameters() []NamedParam {
	var p Params
	p.Sub("fc1", m.FC1)
	p.Sub("fc2", m.FC2)
	return p
}
