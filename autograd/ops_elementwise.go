package autograd

import (
	"math"

	"sargo/tensor"
)

// Elementwise operations. Binary operations broadcast as NumPy does; the
// gradient flowing into a broadcast operand is summed back to its shape.

// gradTo is the gradient of an operand x that was broadcast to gy's
// shape: gy itself when no broadcast happened (its ownership passes to the
// engine), else gy summed to x's shape.
func gradTo(gy, x *tensor.Tensor) *tensor.Tensor {
	if tensor.SameShape(gy, x) {
		return gy
	}
	return tensor.SumToLike(gy, x)
}

// sumTo reduces g to x's shape (the adjoint of broadcasting), or returns
// g itself when it already has that shape.
func sumTo(g, x *tensor.Tensor) *tensor.Tensor {
	if tensor.SameShape(g, x) {
		return g
	}
	return tensor.SumToLike(g, x)
}

// leafGrad is the gradient of operand v from t, a term of the broadcast
// shape (gy, or a product with gy): t summed to v's shape, except that when
// v is a leaf whose gradient already holds a value and t must be summed,
// the sum is added into that gradient in the reduction's own launch
// (tensor.SumToAddInto) and leafGrad returns nil (nothing left to
// accumulate). A product is summed in the same launch as it is formed.
func leafGrad(t tensor.SumTerm, v *Var) *tensor.Tensor {
	if !tensor.SameShape(t.G, v.Value) {
		if v.accumulating() {
			tensor.SumToAddInto(v.Grad, t)
			return nil
		}
		return tensor.SumTermToLike(t, v.Value)
	}
	if t.M != nil {
		return tensor.Mul(t.G, t.M)
	}
	return t.G
}

// scalarLike makes a zero-rank tensor holding v on x's device.
func scalarLike(x *tensor.Tensor, v float32) *tensor.Tensor {
	return tensor.Scalar(x.Backend(), v)
}

// Add is a + b with broadcasting.
func (g *Graph) Add(a, b *Var) *Var {
	y := tensor.Add(a.Value, b.Value)
	return g.recordStep("Add", y, addBack, nil, a, b)
}

// addBack is Add's backward.
func addBack(g *Graph, n *node, gy *tensor.Tensor) []*tensor.Tensor {
	a, b := n.inputs[0], n.inputs[1]
	var ga, gb *tensor.Tensor
	if a.requiresGrad {
		ga = leafGrad(tensor.SumTerm{G: gy}, a)
	}
	if b.requiresGrad {
		gb = leafGrad(tensor.SumTerm{G: gy}, b)
	}
	return g.grads(ga, gb)
}

// Sub is a - b with broadcasting.
func (g *Graph) Sub(a, b *Var) *Var {
	y := tensor.Sub(a.Value, b.Value)
	return g.recordStep("Sub", y, subBack, nil, a, b)
}

// subBack is Sub's backward.
func subBack(g *Graph, n *node, gy *tensor.Tensor) []*tensor.Tensor {
	a, b := n.inputs[0], n.inputs[1]
	var ga, gb *tensor.Tensor
	if b.requiresGrad {
		gb = sumTo(tensor.Neg(gy), b.Value)
	}
	if a.requiresGrad {
		ga = gradTo(gy, a.Value)
	}
	return g.grads(ga, gb)
}

// MulAdd is a·(b + alpha) + c with broadcasting, one launch forward (see
// tensor.MulAdd): AdaLN's modulation x·(1+scale) + shift, or a residual
// x + h·gate.
func (g *Graph) MulAdd(a, b, c *Var, alpha float32) *Var {
	y := tensor.MulAdd(a.Value, b.Value, c.Value, alpha)
	return g.recordStep("MulAdd", y, mulAddBack, &saved{f: [2]float32{alpha}}, a, b, c)
}

// mulAddBack is MulAdd's backward; n.saved.f[0] is alpha.
func mulAddBack(g *Graph, n *node, gy *tensor.Tensor) []*tensor.Tensor {
	a, b, c := n.inputs[0], n.inputs[1], n.inputs[2]
	alpha := n.saved.f[0]
	var ga, gb, gc *tensor.Tensor
	if a.requiresGrad {
		if alpha == 0 {
			ga = sumTo(tensor.Mul(gy, b.Value), a.Value)
		} else { // gy·(b + alpha) in one launch
			ga = sumTo(tensor.MulAdd(gy, b.Value, scalarLike(gy, 0), alpha), a.Value)
		}
	}
	switch {
	case b.requiresGrad && c.requiresGrad && tensor.SameShape(b.Value, c.Value) && !tensor.SameShape(gy, b.Value) &&
		!b.accumulating() && !c.accumulating():
		// operands broadcast alike (AdaLN's scale and shift): both
		// sums in one launch
		gs := tensor.SumToEachLike(b.Value, tensor.SumTerm{G: gy, M: a.Value}, tensor.SumTerm{G: gy})
		gb, gc = gs[0], gs[1]
	default:
		if b.requiresGrad {
			gb = leafGrad(tensor.SumTerm{G: gy, M: a.Value}, b)
		}
		if c.requiresGrad {
			gc = leafGrad(tensor.SumTerm{G: gy}, c)
		}
	}
	return g.grads(ga, gb, gc)
}

// Mul is a · b elementwise with broadcasting.
func (g *Graph) Mul(a, b *Var) *Var {
	y := tensor.Mul(a.Value, b.Value)
	return g.recordStep("Mul", y, mulBack, nil, a, b)
}

// mulBack is Mul's backward.
func mulBack(g *Graph, n *node, gy *tensor.Tensor) []*tensor.Tensor {
	a, b := n.inputs[0], n.inputs[1]
	var ga, gb *tensor.Tensor
	if a.requiresGrad {
		ga = leafGrad(tensor.SumTerm{G: gy, M: b.Value}, a)
	}
	if b.requiresGrad {
		gb = leafGrad(tensor.SumTerm{G: gy, M: a.Value}, b)
	}
	return g.grads(ga, gb)
}

// Div is a / b elementwise with broadcasting.
func (g *Graph) Div(a, b *Var) *Var {
	y := tensor.Div(a.Value, b.Value)
	return g.recordStep("Div", y, divBack, nil, a, b)
}

// divBack is Div's backward.
func divBack(g *Graph, n *node, gy *tensor.Tensor) []*tensor.Tensor {
	a, b, y := n.inputs[0], n.inputs[1], n.out.Value
	var ga, gb *tensor.Tensor
	q := tensor.Div(gy, b.Value) // gy / b
	if b.requiresGrad {
		// d(a/b)/db = -a/b² = -y/b, so gb = -(gy/b)·y.
		gb = sumTo(tensor.Neg(tensor.Mul(q, y)), b.Value)
	}
	if a.requiresGrad {
		ga = sumTo(q, a.Value)
	}
	return g.grads(ga, gb)
}

// unary applies a tensor.UnaryOp whose backward is tensor.UnaryBackward.
func (g *Graph) unary(name string, op tensor.UnaryOp, x *Var, alpha, beta float32) *Var {
	y := tensor.Unary(op, x.Value, alpha, beta)
	return g.recordStep(name, y, unaryBack, &saved{i: [6]int{int(op)}, f: [2]float32{alpha, beta}}, x)
}

// unaryBack is the backward of unary: n.saved holds the operation and its
// alpha and beta.
func unaryBack(g *Graph, n *node, gy *tensor.Tensor) []*tensor.Tensor {
	s := &n.saved
	return g.grads(tensor.UnaryBackward(tensor.UnaryOp(s.i[0]), n.inputs[0].Value, gy, s.f[0], s.f[1]))
}

// Neg is -x.
func (g *Graph) Neg(x *Var) *Var { return g.unary("Neg", tensor.OpNeg, x, 0, 0) }

// Exp is e^x.
func (g *Graph) Exp(x *Var) *Var { return g.unary("Exp", tensor.OpExp, x, 0, 0) }

// Log is ln x.
func (g *Graph) Log(x *Var) *Var { return g.unary("Log", tensor.OpLog, x, 0, 0) }

// Sqrt is √x.
func (g *Graph) Sqrt(x *Var) *Var { return g.unary("Sqrt", tensor.OpSqrt, x, 0, 0) }

// Rsqrt is 1/√x.
func (g *Graph) Rsqrt(x *Var) *Var { return g.unary("Rsqrt", tensor.OpRsqrt, x, 0, 0) }

// Square is x².
func (g *Graph) Square(x *Var) *Var { return g.unary("Square", tensor.OpSquare, x, 0, 0) }

// Pow is x^p.
func (g *Graph) Pow(x *Var, p float32) *Var { return g.unary("Pow", tensor.OpPow, x, p, 0) }

// Abs is |x|; its gradient is sign(x), 0 at 0 as in PyTorch.
func (g *Graph) Abs(x *Var) *Var { return g.unary("Abs", tensor.OpAbs, x, 0, 0) }

// Tanh is tanh x.
func (g *Graph) Tanh(x *Var) *Var { return g.unary("Tanh", tensor.OpTanh, x, 0, 0) }

// Sigmoid is 1/(1+e^-x).
func (g *Graph) Sigmoid(x *Var) *Var { return g.unary("Sigmoid", tensor.OpSigmoid, x, 0, 0) }

// Relu is max(x, 0); its gradient at 0 is 0 as in PyTorch.
func (g *Graph) Relu(x *Var) *Var { return g.unary("Relu", tensor.OpRelu, x, 0, 0) }

// Silu is x·sigmoid(x).
func (g *Graph) Silu(x *Var) *Var { return g.unary("Silu", tensor.OpSilu, x, 0, 0) }

// Gelu is the GELU, with the tanh approximation when approx is true (as
// PyTorch's approximate="tanh") and the exact erf form otherwise.
func (g *Graph) Gelu(x *Var, approx bool) *Var {
	if approx {
		return g.unary("Gelu", tensor.OpGeluTanh, x, 0, 0)
	}
	return g.unary("Gelu", tensor.OpGeluErf, x, 0, 0)
}

// Clamp limits x to [lo, hi]; the gradient passes where lo <= x <= hi
// (bounds included, as in PyTorch) and is 0 elsewhere.
// Use ±math.MaxFloat32 for a one-sided clamp.
func (g *Graph) Clamp(x *Var, lo, hi float32) *Var {
	return g.unary("Clamp", tensor.OpClamp, x, lo, hi)
}

// ExpClamp is e^Clamp(x, lo, hi) in one launch; the gradient is e^x where
// lo <= x <= hi and 0 elsewhere, as for Exp of Clamp.
func (g *Graph) ExpClamp(x *Var, lo, hi float32) *Var {
	return g.unary("ExpClamp", tensor.OpExpClamp, x, lo, hi)
}

// Scale is s·x.
func (g *Graph) Scale(x *Var, s float32) *Var { return g.unary("Scale", tensor.OpAffine, x, s, 0) }

// AddScalar is x + s.
func (g *Graph) AddScalar(x *Var, s float32) *Var {
	return g.unary("AddScalar", tensor.OpAffine, x, 1, s)
}

// Where picks a where cond != 0 and b elsewhere, broadcasting cond, a and
// b. cond is not differentiated.
func (g *Graph) Where(cond *tensor.Tensor, a, b *Var) *Var {
	y := tensor.Where(cond, a.Value, b.Value)
	return g.record("Where", y, func(gy *tensor.Tensor) []*tensor.Tensor {
		var ga, gb *tensor.Tensor
		zero := scalarLike(gy, 0)
		if a.requiresGrad {
			ga = sumTo(tensor.Where(cond, gy, zero), a.Value)
		}
		if b.requiresGrad {
			gb = sumTo(tensor.Where(cond, zero, gy), b.Value)
		}
		return g.grads(ga, gb)
	}, a, b)
}

// maxFloat32 is the bound used for one-sided clamps.
const maxFloat32 = math.MaxFloat32
