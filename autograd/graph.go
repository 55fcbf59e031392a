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

// stepFunc is a backward function written as a plain function of its
// node: it reads the node's inputs, its output n.out and what the forward
// saved in n.saved, and returns what a backwardFunc returns. Recording an
// operation with a stepFunc allocates nothing (a closure would be
// allocated at every call); the operations of a training step use it, and
// backwardFunc remains for Custom and the rarer operations.
type stepFunc func(g *Graph, n *node, gy *tensor.Tensor) []*tensor.Tensor

// saved is what an operation keeps for its stepFunc besides its inputs
// and output: tensors, small integers (sizes, axes, an operation code) and
// scalars.
type saved struct {
	t [4]*tensor.Tensor
	i [6]int
	f [2]float32
}

// window is the backward of an operation whose output is a window of its
// input (Narrow, and so Split and Chunk): the input's gradient is the
// output gradient in [start, start+length) along axis and zero elsewhere.
// The engine writes it into the input's gradient buffer in place, so the
// pieces of a Split share one buffer, and zero-fills only what no piece
// covers.
type window struct {
	axis, start, length int
}

// node is one recorded operation on the tape: step (with saved) or
// backward is set, or, for a window, windowed.
type node struct {
	op       string
	out      *Var
	inputs   []*Var
	step     stepFunc
	saved    saved
	backward backwardFunc
	window   window
	windowed bool
}

// Graph records operations for one backward pass and owns every tensor
// made while it is open: forward values, what backward closures keep, and
// the gradients of intermediate results. Close frees them all; leaves
// (Param, Const) are only borrowed. NewGraph opens it as a tensor scope on
// its device, so operations need no bookkeeping of their own; results to
// keep past Close are kept with the graph's Scope().Keep, or copied.
//
// A nil *Graph is the no-grad mode: its methods compute forward results
// (owned by the device's innermost scope) and record nothing. A Graph is
// not safe for concurrent use.
type Graph struct {
	dev   tensor.Backend
	scope *tensor.Scope
	tape  []node
	spent bool
	// gradReady, when set, is told of each Param whose gradient is final
	// during Backward (OnGradReady).
	gradReady func(*Var)
	// vars and inputs hold the Vars of recorded results and the inputs of
	// tape nodes not yet handed out: they are allocated a slab at a time,
	// so that recording an operation does not allocate them one by one.
	vars   []Var
	inputs []*Var
	// gin holds the gradients a backward function returns (grads).
	gin []*tensor.Tensor
}

// graphSlab is the number of Vars, and of input pointers, in one slab of a
// graph's storage.
const graphSlab = 256

// grads returns a backward function's input gradients in a buffer of the
// graph that the engine reads before it calls the next backward function.
func (g *Graph) grads(gin ...*tensor.Tensor) []*tensor.Tensor {
	g.gin = append(g.gin[:0], gin...)
	return g.gin
}

// gradSlots returns the graph's gradient buffer (see grads) as n nil
// gradients, for a backward function to fill.
func (g *Graph) gradSlots(n int) []*tensor.Tensor {
	g.gin = slices.Grow(g.gin[:0], n)[:n]
	clear(g.gin)
	return g.gin
}

// newVar returns a Var for a recorded result, from the graph's slab.
func (g *Graph) newVar(value *tensor.Tensor) *Var {
	if len(g.vars) == 0 {
		g.vars = make([]Var, graphSlab)
	}
	v := &g.vars[0]
	g.vars = g.vars[1:]
	v.Value = value
	return v
}

// varSlice returns n nil Var pointers from the graph's slab of input
// pointers (new ones for a nil graph): the results of Split.
func (g *Graph) varSlice(n int) []*Var {
	if g == nil {
		return make([]*Var, n)
	}
	if cap(g.inputs)-len(g.inputs) < n {
		g.inputs = make([]*Var, 0, max(graphSlab, n))
	}
	at := len(g.inputs)
	g.inputs = g.inputs[:at+n]
	return g.inputs[at : at+n : at+n]
}

// keepInputs copies a node's inputs into the graph's slab.
func (g *Graph) keepInputs(in []*Var) []*Var {
	if cap(g.inputs)-len(g.inputs) < len(in) {
		g.inputs = make([]*Var, 0, max(graphSlab, len(in)))
	}
	at := len(g.inputs)
	g.inputs = append(g.inputs, in...)
	return g.inputs[at:len(g.inputs):len(g.inputs)]
}

// NewGraph opens a graph on device dev. Close it (after Backward, or at
// the end of the step) to free what it owns:
//
//	g := autograd.NewGraph(dev)
//	defer g.Close()
func NewGraph(dev tensor.Backend) *Graph {
	return &Graph{dev: dev, scope: tensor.OpenScope(dev, "graph", 1)}
}

// Close frees every tensor the graph owns and drops its tape. Scopes
// opened inside it must be closed first. A nil graph or a second Close
// does nothing.
func (g *Graph) Close() {
	if g == nil {
		return
	}
	g.tape = nil
	g.scope.Close()
}

// Scope is the tensor scope the graph owns its tensors through (nil for a
// nil graph), for keeping a result beyond Close.
func (g *Graph) Scope() *tensor.Scope {
	if g == nil {
		return nil
	}
	return g.scope
}

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
	return g.push(op, value, node{backward: backward}, inputs)
}

// recordStep is record with a stepFunc and what it reads besides the
// inputs and the output; s is copied into the node.
func (g *Graph) recordStep(op string, value *tensor.Tensor, step stepFunc, s *saved, inputs ...*Var) *Var {
	n := node{step: step}
	if s != nil {
		n.saved = *s
	}
	return g.push(op, value, n, inputs)
}

// recordWindow is record for an operation whose output is a window of its
// one input.
func (g *Graph) recordWindow(op string, value *tensor.Tensor, w window, input *Var) *Var {
	return g.push(op, value, node{window: w, windowed: true}, []*Var{input})
}

// push makes the output Var of an operation and appends n, its node (with
// its backward or window set), to the tape when needed. inputs are only
// read (copied into the graph's slabs), so the callers' arguments stay on
// their stacks.
func (g *Graph) push(op string, value *tensor.Tensor, n node, inputs []*Var) *Var {
	if g == nil {
		return &Var{Value: value}
	}
	need := false
	for _, in := range inputs {
		if in == nil || !in.requiresGrad {
			continue
		}
		if !in.leaf && in.graph != g {
			panic(fmt.Sprintf("autograd: %s: input %v was recorded on another graph", op, in))
		}
		need = true
	}
	if !need {
		return &Var{Value: value}
	}
	if g.spent {
		panic(fmt.Sprintf("autograd: %s: graph already used by Backward; make a new Graph", op))
	}
	if !g.scope.Owns(value) {
		panic(fmt.Sprintf("autograd: %s: result %v does not belong to the graph (%s): record operations on the graph's device, with no scope opened inside the graph", op, value, g.scope))
	}
	out := g.newVar(value)
	out.requiresGrad = true
	out.graph = g
	n.op, n.out, n.inputs = op, out, g.keepInputs(inputs)
	if g.tape == nil {
		g.tape = make([]node, 0, graphSlab)
	}
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
	if g == nil {
		return errors.New("autograd: Backward on a nil (no-grad) graph")
	}
	return g.BackwardWith(loss, tensor.Ones(loss.Value.Backend(), loss.Value.Shape()...))
}

// BackwardWith propagates grad, the gradient of some scalar with respect to
// v (same shape as v), back through the tape, adding the results to the
// Grad of every Param reached. grad is not modified. It then clears the
// tape; a graph supports one backward pass. The graph must be its device's
// innermost open scope.
//
// Gradients of intermediate results are freed as soon as they are
// consumed, and what a node's backward makes besides its input gradients
// is freed when that node is done, so a backward pass needs little more
// memory than the forward values.
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
	case !tensor.SameShape(grad, v.Value):
		return fmt.Errorf("autograd: Backward: gradient shape %v does not match %v", grad.Shape(), v)
	case !g.scope.Innermost():
		return fmt.Errorf("autograd: Backward: a scope opened inside the %s is still open", g.scope)
	}
	g.spent = true
	tape := g.tape
	g.tape = nil

	seed := grad.Clone()
	if v.leaf {
		v.accumulate(seed)
		return nil
	}
	grads := newGradients(len(tape) + 1)
	grads.add(v, gradient{t: seed})
	ready := g.readySchedule(tape)
	// ns is the scope of one node's backward, reopened for each node.
	ns := tensor.OpenScope(g.dev, "backward scope", 0)
	ns.Close()
	for i := len(tape) - 1; i >= 0; i-- {
		ready(i + 1)
		g.backwardNode(&tape[i], grads, ns)
		tape[i] = node{} // drop what the node holds
	}
	ready(0)
	for _, gr := range grads.m { // gradients of outputs no node consumed
		gr.t.Release()
		for _, p := range gr.pieces {
			p.t.Release()
		}
	}
	return nil
}

// backwardNode differentiates one tape node: it takes the gradient of the
// node's output, runs its backward in the reused scope ns and delivers
// the input gradients.
func (g *Graph) backwardNode(n *node, grads *gradients, ns *tensor.Scope) {
	gr, ok := grads.m[n.out]
	if !ok {
		return
	}
	delete(grads.m, n.out)
	gy := gr.settle(nil)
	ns.Reopen()
	defer ns.Close()
	if n.windowed {
		if !deliverWindow(n, gy, grads, ns) {
			gy.Release()
		}
		return
	}
	var gin []*tensor.Tensor
	if n.step != nil {
		gin = n.step(g, n, gy)
	} else {
		gin = n.backward(gy)
	}
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
			deliver(n, j, gx, grads, ns)
		}
	}
}

// gradients are the gradients of intermediate results during a backward
// pass, by Var, stored in a slab, and the room for the pieces of partial
// gradients, also taken a slab at a time.
type gradients struct {
	m      map[*Var]*gradient
	slab   []gradient
	pieces []piece
}

// pieceRoom is the number of pieces a partial gradient has room for
// before its list grows on its own.
const pieceRoom = 8

// newPieces returns an empty piece list with room for pieceRoom pieces.
func (gs *gradients) newPieces() []piece {
	if cap(gs.pieces)-len(gs.pieces) < pieceRoom {
		gs.pieces = make([]piece, 0, graphSlab)
	}
	at := len(gs.pieces)
	gs.pieces = gs.pieces[:at+pieceRoom]
	return gs.pieces[at : at : at+pieceRoom]
}

// newGradients makes room for n gradients: one per tape node's output
// and the seed, each added at most once in a pass.
func newGradients(n int) *gradients {
	return &gradients{m: make(map[*Var]*gradient, n), slab: make([]gradient, 0, n)}
}

// add stores gr as v's gradient.
func (gs *gradients) add(v *Var, gr gradient) *gradient {
	if len(gs.slab) == cap(gs.slab) { // a new slab: pointers into the old one stay valid
		gs.slab = make([]gradient, 0, graphSlab)
	}
	gs.slab = append(gs.slab, gr)
	p := &gs.slab[len(gs.slab)-1]
	gs.m[v] = p
	return p
}

// gradient is the gradient accumulated so far for an intermediate result.
// While partial, it is the pieces windowed operations delivered (disjoint
// windows along axis of a result shaped like like) and zeros elsewhere; t
// is nil until settle joins them.
type gradient struct {
	t       *tensor.Tensor
	partial bool
	axis    int
	like    *tensor.Tensor
	pieces  []piece
}

// piece is the gradient of one window [start, start+t.Dim(axis)) of a
// partial gradient.
type piece struct {
	start int
	t     *tensor.Tensor
}

// settle makes t the whole gradient, and returns it: a buffer shaped like
// the result, its uncovered windows zero-filled and the pieces written
// into theirs in one launch per tensor.MaxConcatParts pieces
// (tensor.ConcatInto), the pieces then freed. ns, when not nil, is the
// open scope of a node's backward, which must not own the buffer.
func (gr *gradient) settle(ns *tensor.Scope) *tensor.Tensor {
	if !gr.partial {
		return gr.t
	}
	gr.partial = false
	gr.t = tensor.EmptyLike(gr.like)
	if ns != nil {
		ns.Keep(gr.t)
	}
	slices.SortFunc(gr.pieces, func(a, b piece) int { return a.start - b.start })
	at := 0
	var starts [tensor.MaxConcatParts]int
	var ts [tensor.MaxConcatParts]*tensor.Tensor
	for _, p := range gr.pieces {
		if p.start > at {
			gap := gr.t.Narrow(gr.axis, at, p.start-at)
			gap.Fill(0)
			gap.Release()
		}
		at = p.start + p.t.Dim(gr.axis)
	}
	if n := gr.t.Dim(gr.axis); at < n {
		gap := gr.t.Narrow(gr.axis, at, n-at)
		gap.Fill(0)
		gap.Release()
	}
	for i := 0; i < len(gr.pieces); i += tensor.MaxConcatParts {
		group := gr.pieces[i:min(i+tensor.MaxConcatParts, len(gr.pieces))]
		for j, p := range group {
			starts[j], ts[j] = p.start, p.t
		}
		tensor.ConcatInto(gr.t, gr.axis, starts[:len(group)], ts[:len(group)]...)
	}
	for _, p := range gr.pieces {
		p.t.Release()
	}
	gr.pieces, gr.like = nil, nil
	return gr.t
}

// covers reports whether window [start, end) along axis can be taken as a
// piece: gr is partial along axis and no piece overlaps it.
func (gr *gradient) covers(axis, start, end int) bool {
	if !gr.partial || gr.axis != axis {
		return false
	}
	for _, p := range gr.pieces {
		if start < p.start+p.t.Dim(axis) && p.start < end {
			return false
		}
	}
	return true
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
// accumulates it into Grad, an intermediate result into grads. ns is the
// scope of n's backward, from which what is stored is taken.
func deliver(n *node, j int, gx *tensor.Tensor, grads *gradients, ns *tensor.Scope) {
	in := n.inputs[j]
	if in == nil || !in.requiresGrad {
		gx.Release()
		return
	}
	if !tensor.SameShape(gx, in.Value) {
		panic(fmt.Sprintf("autograd: %s: gradient %v for input %d of shape %v", n.op, gx.Shape(), j, in.Value.Shape()))
	}
	// A leaf keeps its gradient: a view of a larger storage (a piece of a
	// Concat's gradient) would keep all of it.
	if !gx.IsContiguous() || (in.leaf && !gx.IsWhole()) {
		c := gx.Clone()
		gx.Release()
		gx = c
	}
	switch prev, ok := grads.m[in]; {
	case in.leaf:
		in.accumulate(gx)
	case ok:
		tensor.AddInto(prev.settle(ns), gx)
		gx.Release()
	default:
		ns.Keep(gx)
		grads.add(in, gradient{t: gx})
	}
}

// deliverWindow delivers gy, the gradient of n's output, to the window of
// the gradient of n's input that n.window describes: a leaf adds it into
// its Grad; an intermediate result takes gy as a piece while that window
// is still free (the pieces are joined when the gradient is used, see
// settle), else adds it into the settled gradient. It reports whether gy
// was taken.
func deliverWindow(n *node, gy *tensor.Tensor, grads *gradients, ns *tensor.Scope) bool {
	in, w := n.inputs[0], &n.window
	end := w.start + w.length
	if in.leaf {
		if in.Grad == nil {
			in.Grad = tensor.Zeros(in.Value.Backend(), in.Value.Shape()...)
			tensor.Escape(in.Grad)
		}
		dst := in.Grad.Narrow(w.axis, w.start, w.length)
		tensor.AddInto(dst, gy)
		return false
	}
	gr, ok := grads.m[in]
	if !ok {
		gr = grads.add(in, gradient{partial: true, axis: w.axis, like: in.Value, pieces: grads.newPieces()})
	}
	if gr.covers(w.axis, w.start, end) {
		gr.pieces = append(gr.pieces, piece{start: w.start, t: gy})
		return true
	}
	dst := gr.settle(ns).Narrow(w.axis, w.start, w.length)
	tensor.AddInto(dst, gy)
	return false
}
