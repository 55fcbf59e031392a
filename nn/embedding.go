package nn

import (
	"sargo/autograd"
	"sargo/tensor"
)

// Embedding maps integer ids to rows of a [Num, Dim] table.
type Embedding struct {
	Num, Dim int
	Weight   *autograd.Var
}

// NewEmbedding makes a table initialised trunc-normal with std (VAR uses
// DefaultInitStd through init_weights).
func NewEmbedding(in *Init, num, dim int, std float64) *Embedding {
	return &Embedding{Num: num, Dim: dim, Weight: autograd.Param(in.TruncNormal(std, num, dim))}
}

// Forward gathers the rows of ids (float32 holding exact integers, any
// shape); the result has shape ids.shape + [Dim].
func (e *Embedding) Forward(g *autograd.Graph, ids *tensor.Tensor) *autograd.Var {
	return g.Embedding(e.Weight, ids)
}

// Parameters is "weight".
func (e *Embedding) Parameters() []NamedParam {
	var p Params
	p.Add("weight", e.Weight, false)
	return p
}
