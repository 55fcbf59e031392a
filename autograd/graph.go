package autograd

import (
	"errors"
	"fmt"
	"slices"

	"sargo/tensor"
)

// backwardFunc receives the gradient gy of a node's output and returns one
// gradient per input, in input order, each with that input's shape or nil
// where the input needs none. The returned tensors are handed over to the
// engine; one of them may be gy itself (its ownership then passes on too).
type backwardFunc func(gy *tensor.Tensor) []*tensor.Tensor

// backwardIntoFunc is the in-place form of backwardFunc, for operations
// whose input gradient is nonzero only in a region (Narrow, and so Split
// and Chunk): it adds its contribution into the gradient buffer of input
// j, which acc(j) returns (zero-filled when new), instead of materialising
// a full-size gradient.
type backwardIntoFunc func(gy *tensor.Tensor, acc func(j int) *tensor.Tensor)

// node is one recorded operation on the tape; exactly one of backward and
// into is set.
type node struct {
	op       string
	out      *Var
	inputs   []*Var
	backward backwardFunc
	into     backwardIntoFunc
}

// Graph records operations for one backward pass. NewGraph returns an
// empty one (as is the zero value). A nil *Graph is the no-grad mode: its
// methods compute forward results and record nothing. A Graph is not safe
// for concurrent use.
type Graph struct {
	tape  []node
	spent bool
	// gradReady, when set, is told of each Param whose gradient is final
	// during Backward (OnGradReady).
	gradReady func(*Var)
}

// NewGraph returns an empty graph.
func NewGraph() *Graph { return &Graph{} }

// NoGrad returns the nil graph, under which operations record nothing.
// It only names the idiom `var g *autograd.Graph`.
func NoGrad() *Graph { return nil }

// Nodes is the number of operations on the tape: 0 for a nil graph and
// after Backward.
func (g *Graph) Nodes() int {
	if g == nil {
		return 0
	}
	return len(g.tape)
}

// record wraps the forward result value in a Var and, when g is not nil and
// some input requires a gradient, appends a node with its backward to the
// tape. Nil inputs (optional operands) are allowed and ignored.
func (g *Graph) record(op string, value *tensor.Tensor, backward backwardFunc, inputs ...*Var) *Var {
	return g.push(node{op: op, backward: backward, inputs: inputs}, value)
}

// recordInto is record for an operation with an in-place backward.
func (g *Graph) recordInto(op string, value *tensor.Tensor, into backwardIntoFunc, inputs ...*Var) *Var {
	return g.push(node{op: op, into: into, inputs: inputs}, value)
}

// push makes the output Var of n and appends n to the tape when needed.
func (g *Graph) push(n node, value *tensor.Tensor) *Var {
	out := &Var{Value: value}
	if g == nil {
		return out
	}
	need := false
	for _, in := range n.inputs {
		if in == nil || !in.requiresGrad {
			continue
		}
		if !in.leaf && in.graph != g {
			panic(fmt.Sprintf("autograd: %s: input %v was recorded on another graph", n.op, in))
		}
		need = true
	}
	if !need {
		return out
	}
	if g.spent {
		panic(fmt.Sprintf("autograd: %s: graph already used by Backward; make a new Graph", n.op))
	}
	out.requiresGrad = true
	out.graph = g
	n.out = out
	g.tape = append(g.tape, n)
	return out
}

// OnGradReady makes the next Backward call f once for every Param the tape
// uses, as soon as that Param's Grad holds its final value for the pass:
// after the last recorded operation that reads it (the first on the tape)
// has been differentiated. Data-parallel training starts sending a
// gradient there, while the rest of the backward pass runs. f runs on
// Backward's goroutine.
func (g *Graph) OnGradReady(f func(v *Var)) { g.gradReady = f }

// Backward computes the gradient of loss, which must have exactly one
// element, with respect to every Param it depends on, adding it to their
// Grad. It then clears the tape; a graph supports one Backward.
func (g *Graph) Backward(loss *Var) error {
	if loss == nil {
		return errors.New("autograd: Backward: nil loss")
	}
	if n := loss.Value.Size(); n != 1 {
		return fmt.Errorf("autograd: Backward: loss %v has %d elements, want 1 (use BackwardWith for a non-scalar output)", loss, n)
	}
	seed := tensor.Ones(loss.Value.Backend(), loss.Value.Shape()...)
	defer seed.Release()
	return g.BackwardWith(loss, seed)
}

// BackwardWith propagates grad, the gradient of some scalar with respect to
// v (same shape as v), back through the tape, adding the results to the
// Grad of every Param reached. grad is not modified. It then clears the
// tape; a graph supports one backward pass.
func (g *Graph) BackwardWith(v *Var, grad *tensor.Tensor) error {
	switch {
	case g == nil:
		return errors.New("autograd: Backward on a nil (no-grad) graph")
	case g.spent:
		return errors.New("autograd: Backward called twice on the same graph; make a new Graph for each pass")
	case v == nil || grad == nil:
		return errors.New("autograd: Backward: nil output or gradient")
	case !v.requiresGrad:
		return fmt.Errorf("autograd: Backward: %v does not require a gradient (no Param reaches it, or it was computed without a graph)", v)
	case !v.leaf && v.graph != g:
		return fmt.Errorf("autograd: Backward: %v was recorded on another graph", v)
	case !slices.Equal(grad.Shape(), v.Value.Shape()):
		return fmt.Errorf("autograd: Backward: gradient shape %v does not match %v", grad.Shape(), v)
	}
	g.spent = true
	tape := g.tape
	g.tape = nil

	seed := grad.Clone()
	if v.leaf {
		v.accumulate(seed)
		return nil
	}
	grads := map[*Var]*tensor.Tensor{v: seed}
	ready := g.readySchedule(tape)
	for i := len(tape) - 1; i >= 0; i-- {
		ready(i + 1)
		n := tape[i]
		tape[i] = node{} // drop the closure and what it holds
		gy, ok := grads[n.out]
		if !ok {
			continue
		}
		delete(grads, n.out)
		if n.into != nil {
			n.into(gy, func(j int) *tensor.Tensor { return buffer(&n, j, grads) })
			gy.Release()
			continue
		}
		gin := n.backward(gy)
		if len(gin) != len(n.inputs) {
			panic(fmt.Sprintf("autograd: %s: backward returned %d gradients for %d inputs", n.op, len(gin), len(n.inputs)))
		}
		gyTaken := false
		for j, gx := range gin {
			if gx == nil {
				continue
			}
			// Each gradient must be owned by exactly one consumer.
			switch {
			case gx == gy && !gyTaken:
				gyTaken = true
			case gx == gy || slices.Contains(gin[:j], gx):
				gx = gx.Clone()
			}
			gin[j] = gx
		}
		if !gyTaken {
			gy.Release()
		}
		for j, gx := range gin {
			if gx != nil {
				deliver(&n, j, gx, grads)
			}
		}
	}
	ready(0)
	for _, t := range grads { // gradients of outputs no node consumed
		t.Release()
	}
	return nil
}

// readySchedule returns the function the backward loop calls with i
// once tape nodes i and above have been differentiated: it reports to
// gradReady every Param whose first reader on the tape is node i. It does
// nothing without gradReady.
func (g *Graph) readySchedule(tape []node) func(i int) {
	if g.gradReady == nil {
		return func(int) {}
	}
	first := map[*Var]int{}
	var order []*Var
	for i, n := range tape {
		for _, in := range n.inputs {
			if in == nil || !in.leaf || !in.requiresGrad {
				continue
			}
			if _, seen := first[in]; !seen {
				first[in] = i
				order = append(order, in)
			}
		}
	}
	at := map[int][]*Var{}
	for _, p := range order {
		at[first[p]] = append(at[first[p]], p)
	}
	return func(i int) {
		for _, p := range at[i] {
			g.gradReady(p)
		}
	}
}

// deliver hands gx, the gradient for input j of n, to that input: a leaf
// accumulates it into Grad, an intermediate result into grads.
func deliver(n *node, j int, gx *tensor.Tensor, grads map[*Var]*tensor.Tensor) {
	in := n.inputs[j]
	if in == nil || !in.requiresGrad {
		gx.Release()
		return
	}
	if !slices.Equal(gx.Shape(), in.Value.Shape()) {
		panic(fmt.Sprintf("autograd: %s: gradient %v for input %d of shape %v", n.op, gx.Shape(), j, in.Value.Shape()))
	}
	if !gx.IsContiguous() {
		c := gx.Clone()
		gx.Release()
		gx = c
	}
	switch prev, ok := grads[in]; {
	case in.leaf:
		in.accumulate(gx)
	case ok:
		tensor.AddInto(prev, gx)
		gx.Release()
	default:
		grads[in] = gx
	}
}

// buffer returns the gradient accumulator of input j of n, creating a zero
// one when there is none yet: the leaf's Grad, or the entry in grads. It
// returns nil for an input that needs no gradient.
func buffer(n *node, j int, grads map[*Var]*tensor.Tensor) *tensor.Tensor {
	in := n.inputs[j]
	if in == nil || !in.requiresGrad {
		return nil
	}
	if in.leaf {
		if in.Grad == nil {
			in.Grad = tensor.Zeros(in.Value.Backend(), in.Value.Shape()...)
		}
		return in.Grad
	}
	b, ok := grads[in]
	if !ok {
		b = tensor.Zeros(in.Value.Backend(), in.Value.Shape()...)
		grads[in] = b
	}
	return b
}
