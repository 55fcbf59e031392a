// Package autograd is reverse-mode automatic differentiation over
// sargo/tensor.
//
// A Var wraps a tensor value and, for leaves that require a gradient, the
// gradient accumulated into it. Operations are methods on a *Graph: each
// computes its forward result with the tensor package and, when some input
// requires a gradient, appends a node holding its backward to the graph's
// tape. The backward of every operation sits next to its forward, so the
// two are read together: a plain function of the node (a stepFunc, reading
// the node's inputs, output and the tensors and numbers the forward saved
// in it), which recording allocates nothing for, or, for Custom and the
// rarer operations, a closure.
//
//	g := autograd.NewGraph()
//	w := autograd.Param(wt)
//	y := g.Linear(autograd.Const(x), w, nil)
//	loss := g.Mean(g.Square(g.Sub(y, autograd.Const(target))), false)
//	if err := g.Backward(loss); err != nil { ... }
//	// w.Grad now holds dloss/dw.
//
// Nodes are appended in creation order, which is a topological order, so
// Backward walks the tape in reverse without sorting. Backward accumulates
// into the Grad of leaves (adding to what is there, for gradient
// accumulation), releases intermediate gradients as soon as they are
// consumed and then clears the tape: a Graph is used for one backward pass.
//
// A nil *Graph is the no-grad mode: every method works on a nil receiver,
// computes the forward result and records nothing. NoGrad returns such a
// graph for readability.
//
// Shape errors are programming errors and panic, as in the tensor package;
// Backward returns an error for misuse that a caller can meaningfully check
// (no graph, a spent graph, a non-scalar loss, a loss that does not depend
// on any parameter).
//
// CheckGrad compares the analytic gradient of any function built from these
// operations with central finite differences; it is meant for tests in any
// package.
//
// Layering: autograd sits on package tensor alone. It never imports a
// backend (kernels/...) or anything above it (nn, sar, bench, cmd).
package autograd
