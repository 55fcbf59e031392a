package nn

import (
	"sargo/autograd"
	"sargo/tensor"
)

// DropPath (stochastic depth) zeroes a whole residual branch per sample
// with probability P in train mode and scales kept samples by 1/(1-P), as
// VAR's DropPath does. In eval mode, or with P = 0, it is the identity.
type DropPath struct {
	P     float32
	Train bool
	// Seed keys the Philox stream of the keep decisions; the caller passes
	// a fresh offset per call.
	Seed uint64
}

// Active reports whether Forward changes its input (train mode with
// P > 0); otherwise it is the identity.
func (d *DropPath) Active() bool { return d != nil && d.Train && d.P > 0 }

// Forward applies drop-path to x [B, ...]; offset selects the random
// numbers (the caller advances it by at least B per call).
func (d *DropPath) Forward(g *autograd.Graph, x *autograd.Var, offset uint64) *autograd.Var {
	if !d.Active() {
		return x
	}
	shape := x.Shape()
	maskShape := make([]int, len(shape))
	for i := range maskShape {
		maskShape[i] = 1
	}
	maskShape[0] = shape[0]
	keep := 1 - d.P
	if keep <= 0 {
		return g.Scale(x, 0)
	}
	be := x.Value.Backend()
	// mask = (keep > u) / keep: 1/keep with probability keep, else 0.
	mask := tensor.Greater(tensor.Full(be, keep, maskShape...), tensor.Rand(be, d.Seed, offset, maskShape...))
	tensor.ScaleInPlace(mask, 1/keep)
	return g.Mul(x, autograd.Const(mask))
}

// Dropout zeroes each element with probability P in train mode and scales
// the rest by 1/(1-P); in eval mode it is the identity.
type Dropout struct {
	P     float32
	Train bool
	// Seed keys the Philox stream of the mask; the caller passes a fresh
	// offset per call (advanced by at least the element count).
	Seed uint64
}

// Forward applies dropout to x with the random numbers at offset.
func (d *Dropout) Forward(g *autograd.Graph, x *autograd.Var, offset uint64) *autograd.Var {
	if d == nil || !d.Train || d.P <= 0 {
		return x
	}
	return g.Dropout(x, d.P, d.Seed, offset)
}
