package tensor

import (
	"fmt"
	"slices"
)

// MatMul multiplies the last two axes of a and b, broadcasting the leading
// (batch) axes. transA and transB transpose the last two axes of a and b
// first. A transposed view (for example x.Transpose(-1, -2)) is passed to
// the kernel as a transpose flag rather than copied.
func MatMul(a, b *Tensor, transA, transB bool) *Tensor {
	return MatMulBias(a, b, nil, transA, transB, ActNone)
}

// MatMulBias is MatMul with bias (nil for none: a vector of the product's
// last size, added to every row) and then act applied to each element, in
// the product's epilogue: one launch instead of three. The float32 result
// is that of MatMul followed by Add and the activation.
func MatMulBias(a, b, bias *Tensor, transA, transB bool, act Activation) *Tensor {
	mustSameDevice("MatMul", a, b)
	if act < ActNone || act >= NumActivations {
		panic(fmt.Sprintf("tensor: MatMul: unknown activation %d", int(act)))
	}
	if len(a.shape) < 2 || len(b.shape) < 2 {
		panic(fmt.Sprintf("tensor: MatMul: operands need rank >= 2, got %v and %v", a.shape, b.shape))
	}
	m, ka := a.shape[len(a.shape)-2], a.shape[len(a.shape)-1]
	if transA {
		m, ka = ka, m
	}
	kb, n := b.shape[len(b.shape)-2], b.shape[len(b.shape)-1]
	if transB {
		kb, n = n, kb
	}
	if ka != kb {
		panic(fmt.Sprintf("tensor: MatMul: inner sizes differ: %v (transA=%v) × %v (transB=%v)", a.shape, transA, b.shape, transB))
	}
	var biasSpan Span
	if bias != nil {
		mustSameDevice("MatMul", a, bias)
		if len(bias.shape) != 1 || bias.shape[0] != n {
			panic(fmt.Sprintf("tensor: MatMul: bias of shape %v for a product with %d columns (want [%d])", bias.shape, n, n))
		}
	}
	batchShape := BroadcastShapes("MatMul", a.shape[:len(a.shape)-2], b.shape[:len(b.shape)-2])
	batch := numel(batchShape)
	out := Empty(a.buf.b, append(cloneInts(batchShape), m, n)...)
	if out.Size() == 0 {
		return out
	}
	if ka == 0 && bias == nil && act == ActNone {
		a.buf.b.Fill(out.View(), 0) // a product over an empty inner axis
		return out
	}
	var biasC *Tensor
	if bias != nil {
		biasC = bias.Contiguous()
		biasSpan = biasC.Span()
		defer releaseIfCopy(biasC, bias)
	}
	if ka == 0 { // an empty inner axis: the epilogue of a zero product
		a.buf.b.Fill(out.View(), 0)
		if bias != nil {
			AddInto(out, bias)
		}
		if op, ok := act.UnaryOp(); ok {
			UnaryInPlace(op, out, 0, 0)
		}
		return out
	}
	sa, ta, stA, relA := matOperand(a, batchShape, transA)
	sb, tb, stB, relB := matOperand(b, batchShape, transB)
	a.buf.b.MatMul(MatMulArgs{
		Batch: batch, M: m, N: n, K: ka,
		TransA: ta, TransB: tb,
		A: sa, B: sb, C: out.Span(),
		StrideA: stA, StrideB: stB, StrideC: m * n,
		Alpha: 1, Bias: biasSpan, Act: act,
	})
	relA()
	relB()
	return out
}

// matOperand returns a kernel operand for t broadcast to batchShape: its
// span, effective transpose flag, batch stride, and a release function for
// any temporary copy.
func matOperand(t *Tensor, batchShape []int, trans bool) (Span, bool, int, func()) {
	r := len(t.shape)
	rows, cols := t.shape[r-2], t.shape[r-1]
	tb := t.shape[:r-2]
	bcast := numel(tb) == 1 // one matrix for every batch
	same := slices.Equal(tb, batchShape)
	if bcast || same {
		st := t.strides
		inner := rows * cols
		// Batch axes must be packed with stride rows*cols (or be broadcast).
		okBatch := true
		acc := inner
		for i := r - 3; i >= 0; i-- {
			if t.shape[i] != 1 && !bcast && st[i] != acc {
				okBatch = false
			}
			acc *= t.shape[i]
		}
		stride := inner
		if bcast {
			stride = 0
		}
		if okBatch {
			if (cols == 1 || st[r-1] == 1) && (rows == 1 || st[r-2] == cols) {
				return Span{t.buf.s, t.offset}, trans, stride, func() {}
			}
			if (rows == 1 || st[r-2] == 1) && (cols == 1 || st[r-1] == rows) {
				return Span{t.buf.s, t.offset}, !trans, stride, func() {}
			}
		}
	}
	var c *Tensor
	if bcast || same {
		c = t.Clone()
	} else {
		e := t.Expand(append(cloneInts(batchShape), rows, cols)...)
		c = e.Clone()
		e.Release()
	}
	stride := rows * cols
	if bcast {
		stride = 0
	}
	return c.Span(), trans, stride, c.Release
}

// MatMulAddInto adds op(a)·op(b) into c in the product's own launch
// (beta 1 in the GEMM) instead of a product and an add: a and b are
// matrices (rank 2), op transposes them when transA or transB, and c is a
// whole, contiguous [M, N] tensor, such as an accumulated gradient.
func MatMulAddInto(c, a, b *Tensor, transA, transB bool) {
	MatMulRowSums(c, a, b, transA, transB, nil, false)
}

// MatMulRowSums is the product op(a)·op(b) of matrices a and b (rank 2),
// into a new [M, N] tensor when c is nil or added into c (as
// MatMulAddInto) otherwise, and, in the same launch, the row sums of
// op(a) into sums when it is not nil (a whole, contiguous [M] tensor):
// written, or added to its values when addSums. With a = gy ([rows, out],
// transA) and b = x ([rows, in]), that is Linear's weight and bias
// gradients in one launch. It returns the product (c when given).
func MatMulRowSums(c, a, b *Tensor, transA, transB bool, sums *Tensor, addSums bool) *Tensor {
	op := "MatMulRowSums"
	if sums == nil {
		op = "MatMulAddInto"
	}
	mustSameDevice(op, a, b)
	if len(a.shape) != 2 || len(b.shape) != 2 || (c != nil && len(c.shape) != 2) {
		var cs []int
		if c != nil {
			cs = c.shape
		}
		panic(fmt.Sprintf("tensor: %s: want matrices, got a %v, b %v, c %v", op, a.shape, b.shape, cs))
	}
	m, k := a.shape[0], a.shape[1]
	if transA {
		m, k = k, m
	}
	kb, n := b.shape[0], b.shape[1]
	if transB {
		kb, n = n, kb
	}
	if c == nil {
		if k != kb {
			panic(fmt.Sprintf("tensor: %s: a %v (transA=%v) × b %v (transB=%v) do not fit", op, a.shape, transA, b.shape, transB))
		}
	} else {
		mustSameDevice(op, c, a)
		if k != kb || c.shape[0] != m || c.shape[1] != n {
			panic(fmt.Sprintf("tensor: %s: a %v (transA=%v) × b %v (transB=%v) does not fit c %v", op, a.shape, transA, b.shape, transB, c.shape))
		}
		if !c.IsContiguous() {
			panic(fmt.Sprintf("tensor: %s: c %v is not contiguous", op, c.shape))
		}
	}
	if sums != nil {
		mustSameDevice(op, sums, a)
		if len(sums.shape) != 1 || sums.shape[0] != m || !sums.IsContiguous() || !sums.IsWhole() {
			panic(fmt.Sprintf("tensor: %s: sums %v is not a whole, contiguous [%d] tensor", op, sums.shape, m))
		}
	}
	beta := float32(1)
	if c == nil {
		c, beta = Empty(a.buf.b, m, n), 0
	}
	switch {
	case m == 0:
		return c
	case k == 0: // an empty product: zeros, nothing to add
		if beta == 0 {
			a.buf.b.Fill(c.View(), 0)
		}
		if sums != nil && !addSums {
			a.buf.b.Fill(sums.View(), 0)
		}
		return c
	case n == 0 && sums != nil: // no product, only the sums
		axis := 1
		if transA {
			axis = 0
		}
		r := Sum(a, false, axis)
		if addSums {
			AddInto(sums, r)
		} else {
			a.buf.b.Copy(sums.View(), r.View())
		}
		r.Release()
		return c
	case n == 0:
		return c
	}
	sa, ta, _, relA := matOperand(a, nil, transA)
	sb, tb, _, relB := matOperand(b, nil, transB)
	args := MatMulArgs{
		Batch: 1, M: m, N: n, K: k,
		TransA: ta, TransB: tb,
		A: sa, B: sb, C: c.Span(),
		StrideA: m * k, StrideB: k * n, StrideC: m * n,
		Alpha: 1, Beta: beta,
	}
	if sums != nil {
		args.RowSums, args.RowSumsAdd = sums.Span(), addSums
	}
	c.buf.b.MatMul(args)
	relA()
	relB()
	return c
}
