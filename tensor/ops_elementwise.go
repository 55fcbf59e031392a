package tensor

// Elementwise operations with NumPy broadcasting. Each returns a new
// contiguous tensor.

// Unary applies op to every element.
func Unary(op UnaryOp, x *Tensor, alpha, beta float32) *Tensor {
	out := Empty(x.buf.b, x.shape...)
	if out.Size() > 0 {
		x.buf.b.Unary(op, out.View(), x.View(), alpha, beta)
	}
	return out
}

// UnaryBackward returns gy · op'(x).
func UnaryBackward(op UnaryOp, x, gy *Tensor, alpha, beta float32) *Tensor {
	if !SameShape(x, gy) {
		mustSameShape("UnaryBackward "+op.String(), x, gy)
	}
	out := Empty(x.buf.b, x.shape...)
	if out.Size() > 0 {
		x.buf.b.UnaryBackward(op, out.View(), x.View(), gy.View(), alpha, beta)
	}
	return out
}

// Neg is -x.
func Neg(x *Tensor) *Tensor { return Unary(OpNeg, x, 0, 0) }

// Exp is e^x.
func Exp(x *Tensor) *Tensor { return Unary(OpExp, x, 0, 0) }

// Log is ln x.
func Log(x *Tensor) *Tensor { return Unary(OpLog, x, 0, 0) }

// Sqrt is √x.
func Sqrt(x *Tensor) *Tensor { return Unary(OpSqrt, x, 0, 0) }

// Rsqrt is 1/√x.
func Rsqrt(x *Tensor) *Tensor { return Unary(OpRsqrt, x, 0, 0) }

// Abs is |x|.
func Abs(x *Tensor) *Tensor { return Unary(OpAbs, x, 0, 0) }

// Tanh is tanh x.
func Tanh(x *Tensor) *Tensor { return Unary(OpTanh, x, 0, 0) }

// Sigmoid is 1/(1+e^-x).
func Sigmoid(x *Tensor) *Tensor { return Unary(OpSigmoid, x, 0, 0) }

// Relu is max(x, 0).
func Relu(x *Tensor) *Tensor { return Unary(OpRelu, x, 0, 0) }

// Silu is x·sigmoid(x).
func Silu(x *Tensor) *Tensor { return Unary(OpSilu, x, 0, 0) }

// Gelu is the GELU with the tanh approximation when approx is true, else
// the exact erf form.
func Gelu(x *Tensor, approx bool) *Tensor {
	if approx {
		return Unary(OpGeluTanh, x, 0, 0)
	}
	return Unary(OpGeluErf, x, 0, 0)
}

// Pow is x^p.
func Pow(x *Tensor, p float32) *Tensor { return Unary(OpPow, x, p, 0) }

// Clamp limits x to [lo, hi].
func Clamp(x *Tensor, lo, hi float32) *Tensor { return Unary(OpClamp, x, lo, hi) }

// Affine is a·x + b.
func Affine(x *Tensor, a, b float32) *Tensor { return Unary(OpAffine, x, a, b) }

// Scale is a·x.
func Scale(x *Tensor, a float32) *Tensor { return Unary(OpAffine, x, a, 0) }

// AddScalar is x + b.
func AddScalar(x *Tensor, b float32) *Tensor { return Unary(OpAffine, x, 1, b) }

// Square is x².
func Square(x *Tensor) *Tensor { return Unary(OpSquare, x, 0, 0) }

// Binary applies op with broadcasting.
func Binary(op BinaryOp, a, b *Tensor) *Tensor {
	mustSameDevice(op.String(), a, b)
	var sd [inlineRank]int
	shape := broadcastInto(op.String(), sd[:0], [][]int{a.shape, b.shape})
	out := Empty(a.buf.b, shape...)
	if out.Size() > 0 {
		a.buf.b.Binary(op, out.View(), a.broadcastView(op.String(), out), b.broadcastView(op.String(), out))
	}
	return out
}

// Add is a + b with broadcasting.
func Add(a, b *Tensor) *Tensor { return Binary(OpAdd, a, b) }

// Sub is a - b with broadcasting.
func Sub(a, b *Tensor) *Tensor { return Binary(OpSub, a, b) }

// Mul is a · b with broadcasting.
func Mul(a, b *Tensor) *Tensor { return Binary(OpMul, a, b) }

// Div is a / b with broadcasting.
func Div(a, b *Tensor) *Tensor { return Binary(OpDiv, a, b) }

// Maximum is max(a, b) with broadcasting.
func Maximum(a, b *Tensor) *Tensor { return Binary(OpMax, a, b) }

// Minimum is min(a, b) with broadcasting.
func Minimum(a, b *Tensor) *Tensor { return Binary(OpMin, a, b) }

// Greater is 1 where a > b, else 0.
func Greater(a, b *Tensor) *Tensor { return Binary(OpGreater, a, b) }

// Equal is 1 where a == b, else 0.
func Equal(a, b *Tensor) *Tensor { return Binary(OpEqual, a, b) }

// Where picks a where cond != 0, else b, with broadcasting.
func Where(cond, a, b *Tensor) *Tensor {
	mustSameDevice("Where", cond, a, b)
	var sd [inlineRank]int
	shape := broadcastInto("Where", sd[:0], [][]int{cond.shape, a.shape, b.shape})
	out := Empty(a.buf.b, shape...)
	if out.Size() > 0 {
		a.buf.b.Where(out.View(), cond.broadcastView("Where", out), a.broadcastView("Where", out), b.broadcastView("Where", out))
	}
	return out
}

// MulAdd is a·(b + alpha) + c with broadcasting, in one launch: the
// float32 result of AddScalar, Mul and Add (AdaLN's x·(1+scale) + shift
// with alpha 1, a residual x + h·gate with alpha 0).
func MulAdd(a, b, c *Tensor, alpha float32) *Tensor {
	mustSameDevice("MulAdd", a, b, c)
	var sd [inlineRank]int
	shape := broadcastInto("MulAdd", sd[:0], [][]int{a.shape, b.shape, c.shape})
	out := Empty(a.buf.b, shape...)
	if out.Size() > 0 {
		a.buf.b.MulAdd(out.View(), a.broadcastView("MulAdd", out), b.broadcastView("MulAdd", out),
			c.broadcastView("MulAdd", out), alpha)
	}
	return out
}

// UnaryInPlace sets t = op(t; alpha, beta) elementwise; t may be a view.
func UnaryInPlace(op UnaryOp, t *Tensor, alpha, beta float32) {
	t.live("UnaryInPlace")
	if t.Size() > 0 {
		t.buf.b.Unary(op, t.View(), t.View(), alpha, beta)
	}
}

// ScaleInPlace multiplies t by s in place; t may be a view.
func ScaleInPlace(t *Tensor, s float32) { UnaryInPlace(OpAffine, t, s, 0) }

// MulInto multiplies dst by src in place (dst *= src, src broadcast to
// dst's shape). dst may be a view.
func MulInto(dst, src *Tensor) {
	mustSameDevice("MulInto", dst, src)
	if dst.Size() == 0 {
		return
	}
	dst.buf.b.Binary(OpMul, dst.View(), dst.View(), src.broadcastView("MulInto", dst))
}

// AddInto accumulates src into dst in place (dst += src, src broadcast to
// dst's shape). dst may be a view.
func AddInto(dst, src *Tensor) {
	mustSameDevice("AddInto", dst, src)
	if dst.Size() == 0 {
		return
	}
	dst.buf.b.Binary(OpAdd, dst.View(), dst.View(), src.broadcastView("AddInto", dst))
}
