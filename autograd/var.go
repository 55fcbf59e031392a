package autograd

import (
	"fmt"

	"sargo/tensor"
)

// Var is a node of the computation: a tensor value and, for a leaf that
// requires a gradient, the gradient accumulated into it by Backward.
type Var struct {
	// Value is the forward result. Operations never modify it.
	Value *tensor.Tensor
	// Grad is the accumulated gradient of a leaf that requires one, with
	// Value's shape; nil until the first Backward that reaches it and after
	// ZeroGrad. Intermediate results never hold a Grad. The Var owns it
	// beyond every scope: ZeroGrad frees it.
	Grad *tensor.Tensor
	// Name is an optional label used in error messages.
	Name string

	requiresGrad bool
	leaf         bool
	graph        *Graph // the graph whose tape produced this Var; nil for leaves
}

// Param makes a leaf that requires a gradient, such as a trainable weight.
// Its Grad accumulates across Backward calls until ZeroGrad.
func Param(t *tensor.Tensor) *Var {
	return &Var{Value: t, requiresGrad: true, leaf: true}
}

// Const makes a leaf that does not require a gradient, such as an input or
// a target.
func Const(t *tensor.Tensor) *Var {
	return &Var{Value: t, leaf: true}
}

// Const is the package's Const with the Var taken from the graph's slab,
// for the constants a step makes as it goes (a nil graph allocates it).
// The Var does not belong to the graph otherwise: its value is borrowed,
// as with Const.
func (g *Graph) Const(t *tensor.Tensor) *Var {
	if g == nil {
		return Const(t)
	}
	v := g.newVar(t)
	v.leaf = true
	return v
}

// RequiresGrad reports whether gradients flow into v: v is a Param, or the
// result of an operation recorded on a graph with such an input.
func (v *Var) RequiresGrad() bool { return v != nil && v.requiresGrad }

// IsLeaf reports whether v was made by Param, Const or Detach rather than
// recorded by an operation.
func (v *Var) IsLeaf() bool { return v.leaf }

// Detach returns a leaf sharing v's Value that does not require a gradient,
// so that nothing computed from it sends gradients back to v.
func (v *Var) Detach() *Var {
	return &Var{Value: v.Value, Name: v.Name, leaf: true}
}

// Shape returns a copy of the value's shape.
func (v *Var) Shape() []int { return v.Value.Shape() }

// SetName sets Name and returns v, for chaining.
func (v *Var) SetName(name string) *Var {
	v.Name = name
	return v
}

// ZeroGrad frees the accumulated gradient and sets Grad to nil, so that
// the next Backward starts from zero.
func (v *Var) ZeroGrad() {
	if v.Grad != nil {
		v.Grad.Release()
		v.Grad = nil
	}
}

// String describes v briefly: its name, shape and whether it requires a
// gradient.
func (v *Var) String() string {
	name := v.Name
	if name == "" {
		name = "var"
	}
	return fmt.Sprintf("%s%v(grad=%v)", name, v.Value.Shape(), v.requiresGrad)
}

// accumulating reports whether v is a leaf that requires a gradient and
// already holds one, whole and contiguous, that a backward may add its
// contribution into directly instead of delivering it.
func (v *Var) accumulating() bool {
	return v != nil && v.leaf && v.requiresGrad && v.Grad != nil && v.Grad.IsContiguous() && v.Grad.IsWhole()
}

// accumulate adds g, which the caller hands over, into the leaf's Grad,
// which the leaf owns beyond any scope.
func (v *Var) accumulate(g *tensor.Tensor) {
	if v.Grad == nil {
		tensor.Escape(g)
		v.Grad = g
		return
	}
	tensor.AddInto(v.Grad, g)
	g.Release()
}
