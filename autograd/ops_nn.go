package autograd

import (
	"fmt"

	"sargo/tensor"
)

// Neural-network operations built on the fused kernels of the tensor
// package: softmax, cross-entropy, normalisation, embedding and dropout.

// Softmax is the softmax over the last axis.
func (g *Graph) Softmax(x *Var) *Var {
	y := tensor.Softmax(x.Value, false)
	return g.record("Softmax", y, func(gy *tensor.Tensor) []*tensor.Tensor {
		return g.grads(tensor.SoftmaxBackward(y, gy, false))
	}, x)
}

// LogSoftmax is the log of the softmax over the last axis, computed stably.
func (g *Graph) LogSoftmax(x *Var) *Var {
	y := tensor.Softmax(x.Value, true)
	return g.record("LogSoftmax", y, func(gy *tensor.Tensor) []*tensor.Tensor {
		return g.grads(tensor.SoftmaxBackward(y, gy, true))
	}, x)
}

// IgnoreIndex is PyTorch's default ignore_index for cross-entropy.
const IgnoreIndex = -100

// CEOptions configures CrossEntropy and CrossEntropyRows.
type CEOptions struct {
	// Ignore is a target class whose rows get loss 0 and no gradient and
	// are left out of the mean. The zero value ignores class 0, so callers
	// set it, usually to IgnoreIndex (see DefaultCEOptions).
	Ignore int
	// Smoothing is PyTorch's label_smoothing: the target distribution is
	// (1-Smoothing)·onehot + Smoothing/n.
	Smoothing float32
}

// DefaultCEOptions returns PyTorch's defaults: ignore class -100, no
// smoothing.
func DefaultCEOptions() CEOptions { return CEOptions{Ignore: IgnoreIndex} }

// CrossEntropyRows returns the per-row cross-entropy of logits [..., n]
// against targets (class indices as float32) with logits' leading shape;
// the result has that leading shape.
func (g *Graph) CrossEntropyRows(logits *Var, targets *tensor.Tensor, opt CEOptions) *Var {
	var sd [8]int
	ls := logits.Value.AppendShape(sd[:0])
	if len(ls) < 1 || targets.Size()*ls[len(ls)-1] != logits.Value.Size() {
		panic(fmt.Sprintf("autograd: CrossEntropy: logits %v and targets %v do not fit", logits.Value.Shape(), targets.Shape()))
	}
	n := ls[len(ls)-1]
	l2 := logits.Value.Reshape(-1, n)
	t1 := targets.Reshape(-1)
	rows, lse := tensor.CrossEntropy(l2, t1, opt.Ignore, opt.Smoothing)
	s := saved{t: [4]*tensor.Tensor{l2, lse, t1}, i: [6]int{opt.Ignore}, f: [2]float32{opt.Smoothing}}
	return g.recordStep("CrossEntropy", rows.Reshape(ls[:len(ls)-1]...), crossEntropyBack, &s, logits)
}

// crossEntropyBack is CrossEntropyRows' backward: n.saved holds the
// logits as [rows, n], the log-sum-exps, the targets as [rows], the
// ignored class and the smoothing.
func crossEntropyBack(g *Graph, n *node, gy *tensor.Tensor) []*tensor.Tensor {
	s := &n.saved
	d := tensor.CrossEntropyBackward(s.t[0], s.t[1], s.t[2], gy.Reshape(-1), s.i[0], s.f[0])
	return g.grads(d.ReshapeLike(n.inputs[0].Value))
}

// CrossEntropy is the mean cross-entropy over the rows whose target is not
// opt.Ignore, a scalar, as PyTorch's reduction="mean" (NaN when every row
// is ignored, as in PyTorch). logits are [..., n] and targets hold class
// indices as float32 with logits' leading shape.
func (g *Graph) CrossEntropy(logits *Var, targets *tensor.Tensor, opt CEOptions) *Var {
	rows := g.CrossEntropyRows(logits, targets, opt)
	ignored := tensor.Sum(tensor.Equal(targets, scalarLike(targets, float32(opt.Ignore))), false)
	count := tensor.Affine(ignored, -1, float32(targets.Size())) // rows not ignored
	return g.Div(g.Sum(rows, false), Const(count))
}

// LayerNorm normalises x over its last axis and applies the optional
// per-feature weight w and bias b ([n], either may be nil).
func (g *Graph) LayerNorm(x, w, b *Var, eps float32) *Var {
	wv, bv := valueOf(w), valueOf(b)
	y, mean, rstd := tensor.LayerNorm(x.Value, wv, bv, eps)
	return g.recordStep("LayerNorm", y, normBack, &saved{t: [4]*tensor.Tensor{mean, rstd}, f: [2]float32{eps}}, x, w, b)
}

// normBack is the backward of LayerNorm and GroupNorm: n.saved holds the
// mean and reciprocal standard deviation, the group count (0 for a layer
// norm) and eps.
func normBack(g *Graph, n *node, gy *tensor.Tensor) []*tensor.Tensor {
	s := &n.saved
	dx, dw, db := tensor.NormBackward(n.inputs[0].Value, valueOf(n.inputs[1]), valueOf(n.inputs[2]),
		s.t[0], s.t[1], gy, s.i[0], s.f[0])
	return g.grads(dx, dw, db)
}

// GroupNorm normalises x [N, C, ...] over groups of C/groups channels and
// the remaining axes, and applies the optional per-channel weight w and
// bias b ([C], either may be nil).
func (g *Graph) GroupNorm(x, w, b *Var, groups int, eps float32) *Var {
	wv, bv := valueOf(w), valueOf(b)
	y, mean, rstd := tensor.GroupNorm(x.Value, wv, bv, groups, eps)
	return g.recordStep("GroupNorm", y, normBack, &saved{t: [4]*tensor.Tensor{mean, rstd}, i: [6]int{groups}, f: [2]float32{eps}}, x, w, b)
}

// valueOf is v.Value, or nil for a nil Var.
func valueOf(v *Var) *tensor.Tensor {
	if v == nil {
		return nil
	}
	return v.Value
}

// L2Normalize divides x by its Euclidean norm along axis, or by eps where
// the norm is smaller: x / max(‖x‖, eps), as PyTorch's F.normalize.
func (g *Graph) L2Normalize(x *Var, axis int, eps float32) *Var {
	axis = normAxis("L2Normalize", axis, x.Value.Rank())
	if axis == x.Value.Rank()-1 { // one launch each way
		y, norm := tensor.L2NormalizeLast(x.Value, eps)
		return g.recordStep("L2Normalize", y, l2NormalizeLastBack, &saved{t: [4]*tensor.Tensor{norm}, f: [2]float32{eps}}, x)
	}
	sq := tensor.Square(x.Value)
	norm := tensor.Sqrt(tensor.Sum(sq, true, axis))
	// sq is as large as x: freed now, not kept for the graph's lifetime.
	sq.Release()
	d := tensor.Clamp(norm, eps, maxFloat32) // max(‖x‖, eps)
	y := tensor.Div(x.Value, d)
	return g.record("L2Normalize", y, func(gy *tensor.Tensor) []*tensor.Tensor {
		// Where ‖x‖ > eps: dx = (gy - y·Σ(gy·y)) / ‖x‖; elsewhere dx = gy/eps.
		dot := tensor.Sum(tensor.Mul(gy, y), true, axis)
		live := tensor.Greater(norm, scalarLike(norm, eps))
		u := tensor.Sub(gy, tensor.Mul(y, tensor.Mul(dot, live)))
		return g.grads(tensor.Div(u, d))
	}, x)
}

// l2NormalizeLastBack is the backward of L2Normalize over the last axis:
// n.saved holds the norms and eps.
func l2NormalizeLastBack(g *Graph, n *node, gy *tensor.Tensor) []*tensor.Tensor {
	return g.grads(tensor.L2NormalizeLastBackward(n.out.Value, n.saved.t[0], gy, n.saved.f[0]))
}

// Embedding looks up rows ids (indices as float32) of table [V, dim]; the
// result has shape ids.shape + [dim]. Gradients of repeated ids add up.
func (g *Graph) Embedding(table *Var, ids *tensor.Tensor) *Var {
	y := tensor.Gather(table.Value, ids)
	return g.recordStep("Embedding", y, embeddingBack, &saved{t: [4]*tensor.Tensor{ids}}, table)
}

// embeddingBack is Embedding's backward: n.saved.t[0] holds the ids.
func embeddingBack(g *Graph, n *node, gy *tensor.Tensor) []*tensor.Tensor {
	table := n.inputs[0].Value
	return g.grads(tensor.ScatterAdd(gy, n.saved.t[0], table.Dim(0)))
}

// Dropout zeroes each element of x with probability p and scales the rest
// by 1/(1-p). The mask comes from tensor.Rand(seed, offset): element i is
// kept when its uniform is at least p, so a given (seed, offset) gives the
// same mask on every backend. p == 0 returns x itself; p >= 1 gives zeros.
func (g *Graph) Dropout(x *Var, p float32, seed, offset uint64) *Var {
	if p == 0 {
		return x
	}
	if p < 0 {
		panic(fmt.Sprintf("autograd: Dropout: negative probability %g", p))
	}
	be := x.Value.Backend()
	var mask *tensor.Tensor
	if p >= 1 {
		mask = tensor.Zeros(be, x.Value.Shape()...)
	} else {
		u := tensor.Rand(be, seed, offset, x.Value.Shape()...)
		drop := tensor.Greater(tensor.Scalar(be, p), u) // 1 where u < p
		mask = tensor.Affine(drop, -1/(1-p), 1/(1-p))   // (1 - drop)/(1-p)
		u.Release()                                     // as large as x: not kept for the graph's lifetime
		drop.Release()
	}
	y := tensor.Mul(x.Value, mask)
	return g.record("Dropout", y, func(gy *tensor.Tensor) []*tensor.Tensor {
		return g.grads(tensor.Mul(gy, mask))
	}, x)
}
