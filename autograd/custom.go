package autograd

import "sargo/tensor"

// Custom records an operation defined outside this package, the way every
// method of Graph records its own: value is the forward result, already
// computed from the inputs' values, and backward receives the gradient gy
// of value and returns one gradient per input, in input order, each with
// that input's shape or nil where the input needs none. The returned
// tensors are handed over to the engine (one may be gy itself). On a nil
// graph, or when no input requires a gradient, nothing is recorded and
// value is simply wrapped. examples/softplus adds an op this way.
func (g *Graph) Custom(op string, value *tensor.Tensor, backward func(gy *tensor.Tensor) []*tensor.Tensor, inputs ...*Var) *Var {
	return g.record(op, value, backward, inputs...)
}
