package autograd

import (
	"fmt"

	"sargo/tensor"
)

// MatMul multiplies the last two axes of a and b, broadcasting the leading
// (batch) axes; transA and transB transpose the last two axes of a and b
// first. With op(A) = Aᵀ when transA (and likewise for B), y = op(A)·op(B),
// dop(A) = gy·op(B)ᵀ and dop(B) = op(A)ᵀ·gy; the gradient of a broadcast
// operand is summed over the batch axes it was broadcast along.
func (g *Graph) MatMul(a, b *Var, transA, transB bool) *Var {
	y := tensor.MatMul(a.Value, b.Value, transA, transB)
	return g.record("MatMul", y, func(gy *tensor.Tensor) []*tensor.Tensor {
		var ga, gb *tensor.Tensor
		if a.requiresGrad {
			if transA { // dA = dop(A)ᵀ = op(B)·gyᵀ
				ga = tensor.MatMul(b.Value, gy, transB, true)
			} else { // dA = gy·op(B)ᵀ
				ga = tensor.MatMul(gy, b.Value, false, !transB)
			}
			ga = sumTo(ga, a.Value)
		}
		if b.requiresGrad {
			if transB { // dB = dop(B)ᵀ = gyᵀ·op(A)
				gb = tensor.MatMul(gy, a.Value, true, transA)
			} else { // dB = op(A)ᵀ·gy
				gb = tensor.MatMul(a.Value, gy, !transA, false)
			}
			gb = sumTo(gb, b.Value)
		}
		return g.grads(ga, gb)
	}, a, b)
}

// Linear is x·wᵀ + b with w [out, in] (PyTorch's layout), b [out] or nil,
// and x [..., in] of rank >= 2; the result is [..., out]. The leading axes
// of x are flattened into one GEMM, so the weight gradient is a single
// [out, in] product rather than a batch summed afterwards; the bias is
// added in that GEMM's epilogue (tensor.MatMulBias). When w already holds
// a gradient (a weight read again, as by SAR's second pass), the weight
// gradient is added into it by its product (tensor.MatMulAddInto) rather
// than computed and then added. The bias gradient (gy's column sums) is
// summed in the weight gradient's launch (tensor.MatMulRowSums), added
// into the bias's gradient when that already holds one.
func (g *Graph) Linear(x, w, b *Var) *Var {
	var xd, wd [6]int
	xs, ws := x.Value.AppendShape(xd[:0]), w.Value.AppendShape(wd[:0])
	if len(ws) != 2 || len(xs) < 2 || xs[len(xs)-1] != ws[1] || (b != nil && (b.Value.Rank() != 1 || b.Value.Dim(0) != ws[0])) {
		var bs []int
		if b != nil {
			bs = b.Value.Shape()
		}
		panic(fmt.Sprintf("autograd: Linear: x %v, w %v, b %v do not fit (want x [..., in], w [out, in], b [out])", x.Value.Shape(), w.Value.Shape(), bs))
	}
	in, out := ws[1], ws[0]
	x2 := x.Value.Reshape(-1, in)
	var bias *tensor.Tensor
	if b != nil {
		bias = b.Value
	}
	y2 := tensor.MatMulBias(x2, w.Value, bias, false, true, tensor.ActNone) // the bias in the product's epilogue
	// xs is a copy of x's shape: it becomes y's.
	xs[len(xs)-1] = out
	y := y2.Reshape(xs...)
	return g.recordStep("Linear", y, linearBack, &saved{t: [4]*tensor.Tensor{x2}, i: [6]int{out}}, x, w, b)
}

// linearBack is Linear's backward; n.saved holds x as [rows, in] and the
// output width.
func linearBack(g *Graph, n *node, gy *tensor.Tensor) []*tensor.Tensor {
	x, w, b := n.inputs[0], n.inputs[1], n.inputs[2]
	x2, out := n.saved.t[0], n.saved.i[0]
	var gx, gw, gb *tensor.Tensor
	gy2 := gy.Reshape(-1, out)
	if x.requiresGrad {
		gx = tensor.MatMul(gy2, w.Value, false, false).ReshapeLike(x.Value)
	}
	if !w.requiresGrad { // the bias gradient alone: gy's column sums
		switch {
		case b.accumulating():
			tensor.SumToAddInto(b.Grad, tensor.SumTerm{G: gy2})
		case b.RequiresGrad():
			gb = tensor.Sum(gy2, false, 0)
		}
		return g.grads(gx, nil, gb)
	}
	// The weight gradient's product sums the bias gradient too.
	var sums *tensor.Tensor
	addSums := b.accumulating()
	switch {
	case addSums:
		sums = b.Grad
	case b.RequiresGrad():
		gb = tensor.Empty(gy.Backend(), out)
		sums = gb
	}
	if w.accumulating() {
		tensor.MatMulRowSums(w.Grad, gy2, x2, true, false, sums, addSums)
	} else {
		gw = tensor.MatMulRowSums(nil, gy2, x2, true, false, sums, addSums)
	}
	return g.grads(gx, gw, gb)
}
