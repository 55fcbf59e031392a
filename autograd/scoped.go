package autograd

import "sargo/tensor"

// Scoped runs f on x without a graph, in a scope of x's device that keeps
// only f's result: every temporary f makes is freed when it returns.
// Inference code that runs a model block by block uses it so that it holds
// one block's activations at a time instead of every block's until its
// caller's scope closes.
func Scoped(x *Var, f func(x *Var) *Var) *Var {
	s := tensor.NewScope(x.Value.Backend())
	defer s.Close()
	y := f(x)
	s.Keep(y.Value)
	return y
}
