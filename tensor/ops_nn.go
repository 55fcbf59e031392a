package tensor

import "fmt"

// Fused neural-network kernels: softmax, cross-entropy, normalisation,
// embedding, attention, interpolation, convolution, sampling and the AdamW
// update. Each forward returns what its backward needs.

// Softmax over the last axis (log-softmax when log is true).
func Softmax(x *Tensor, log bool) *Tensor {
	c := x.Contiguous()
	n := x.Dim(-1)
	out := Empty(x.buf.b, x.shape...)
	if out.Size() > 0 {
		x.buf.b.Softmax(out.Span(), c.Span(), x.Size()/n, n, log)
	}
	releaseIfCopy(c, x)
	return out
}

// SoftmaxBackward returns dx from the forward output y and its gradient gy.
func SoftmaxBackward(y, gy *Tensor, log bool) *Tensor {
	mustSameShape("SoftmaxBackward", y, gy)
	g := gy.Contiguous()
	n := y.Dim(-1)
	out := Empty(y.buf.b, y.shape...)
	if out.Size() > 0 {
		y.buf.b.SoftmaxBackward(out.Span(), y.Span(), g.Span(), y.Size()/n, n, log)
	}
	releaseIfCopy(g, gy)
	return out
}

// CrossEntropy returns per-row losses [rows] and log-sum-exps [rows] of
// logits [rows, n] against targets [rows]: class indices in [0, n), or
// ignore for a row that counts for nothing (the id contract, ids.go).
func CrossEntropy(logits, targets *Tensor, ignore int, smoothing float32) (loss, lse *Tensor) {
	mustRank("CrossEntropy", logits, 2, "logits")
	rows, n := logits.shape[0], logits.shape[1]
	if targets.Size() != rows {
		panic(fmt.Sprintf("tensor: CrossEntropy: %d targets for logits %v", targets.Size(), logits.shape))
	}
	lc, tc := logits.Contiguous(), targets.Contiguous()
	loss, lse = Empty(logits.buf.b, rows), Empty(logits.buf.b, rows)
	if rows > 0 {
		logits.buf.b.CrossEntropy(loss.Span(), lse.Span(), lc.Span(), tc.Span(), rows, n, ignore, smoothing)
	}
	releaseIfCopy(lc, logits)
	releaseIfCopy(tc, targets)
	return loss, lse
}

// CrossEntropyBackward returns dlogits from the per-row loss gradient.
func CrossEntropyBackward(logits, lse, targets, gloss *Tensor, ignore int, smoothing float32) *Tensor {
	rows, n := logits.shape[0], logits.shape[1]
	lc, tc, gc := logits.Contiguous(), targets.Contiguous(), gloss.Contiguous()
	out := Empty(logits.buf.b, rows, n)
	if rows > 0 {
		logits.buf.b.CrossEntropyBackward(out.Span(), lc.Span(), lse.Span(), tc.Span(), gc.Span(), rows, n, ignore, smoothing)
	}
	releaseIfCopy(lc, logits)
	releaseIfCopy(tc, targets)
	releaseIfCopy(gc, gloss)
	return out
}

// L2NormalizeLast divides x by its L2 norm over the last axis, clamped to
// [eps, MaxFloat32]: y = x / min(max(‖x‖, eps), MaxFloat32), one launch.
// It also returns the norms, of shape x's without the last axis, for
// L2NormalizeLastBackward.
func L2NormalizeLast(x *Tensor, eps float32) (y, norm *Tensor) {
	if len(x.shape) == 0 {
		panic("tensor: L2NormalizeLast of a scalar")
	}
	n := x.shape[len(x.shape)-1]
	rows := x.Size() / max(n, 1)
	if n == 0 {
		rows = numel(x.shape[:len(x.shape)-1])
	}
	xc := x
	layout, ok := x.rowLayout()
	if !ok {
		xc = x.Contiguous()
		layout = ContiguousRows(rows, n)
	}
	y = Empty(x.buf.b, x.shape...)
	norm = Empty(x.buf.b, x.shape[:len(x.shape)-1]...)
	if rows > 0 {
		x.buf.b.L2Normalize(y.Span(), norm.Span(), Span{Buf: xc.buf.s, Offset: xc.offset}, layout, rows, n, eps)
	}
	releaseIfCopy(xc, x)
	return y, norm
}

// rowLayout is the RowLayout of t's rows (along its last axis), when that
// axis is contiguous and the others merge into at most three.
func (t *Tensor) rowLayout() (RowLayout, bool) {
	r := len(t.shape) - 1
	if r < 0 || (t.shape[r] > 1 && t.strides[r] != 1) {
		return RowLayout{}, false
	}
	// Outer axes from the innermost out, size-1 axes dropped and an axis
	// merged into the next inner one when it steps over it exactly.
	var dims, strides [3]int
	k := 0
	for i := r - 1; i >= 0; i-- {
		n, s := t.shape[i], t.strides[i]
		switch {
		case n == 1:
		case k > 0 && s == strides[k-1]*dims[k-1]:
			dims[k-1] *= n
		case k == 3:
			return RowLayout{}, false
		default:
			dims[k], strides[k] = n, s
			k++
		}
	}
	l := RowLayout{Dims: [3]int{1, 1, 1}}
	for j := range k { // innermost outer axis last
		l.Dims[2-j], l.Strides[2-j] = dims[j], strides[j]
	}
	return l, true
}

// L2NormalizeLastBackward is the gradient of L2NormalizeLast's input from
// its output y, its norms and the output's gradient gy: per row,
// (gy − y·Σ(gy·y)) / ‖x‖ where ‖x‖ > eps, and gy / d elsewhere.
func L2NormalizeLastBackward(y, norm, gy *Tensor, eps float32) *Tensor {
	mustSameShape("L2NormalizeBackward", y, gy)
	mustSameDevice("L2NormalizeBackward", y, norm, gy)
	n := y.shape[len(y.shape)-1]
	rows := numel(y.shape[:len(y.shape)-1])
	if norm.Size() != rows {
		panic(fmt.Sprintf("tensor: L2NormalizeBackward: %d norms for %d rows", norm.Size(), rows))
	}
	yc, nc, gc := y.Contiguous(), norm.Contiguous(), gy.Contiguous()
	dx := Empty(y.buf.b, y.shape...)
	if rows > 0 && n > 0 {
		y.buf.b.L2NormalizeBackward(dx.Span(), yc.Span(), nc.Span(), gc.Span(), rows, n, eps)
	}
	releaseIfCopy(yc, y)
	releaseIfCopy(nc, norm)
	releaseIfCopy(gc, gy)
	return dx
}

// LayerNorm normalises over the last axis; w and b ([n]) may be nil.
// It returns y and the per-row mean and reciprocal std.
func LayerNorm(x, w, b *Tensor, eps float32) (y, mean, rstd *Tensor) {
	n := x.Dim(-1)
	a := NormArgs{Rows: x.Size() / max(n, 1), N: n, Eps: eps, HasWeight: w != nil, HasBias: b != nil}
	return norm(a, x, w, b)
}

// GroupNorm normalises x [N, C, ...] over groups of C/groups channels and
// the spatial axes; w and b ([C]) may be nil.
func GroupNorm(x, w, b *Tensor, groups int, eps float32) (y, mean, rstd *Tensor) {
	if len(x.shape) < 2 || groups <= 0 || x.shape[1]%groups != 0 {
		panic(fmt.Sprintf("tensor: GroupNorm: %d groups for shape %v", groups, x.shape))
	}
	a := NormArgs{Batch: x.shape[0], C: x.shape[1], HW: numel(x.shape[2:]), Groups: groups, Eps: eps, HasWeight: w != nil, HasBias: b != nil}
	return norm(a, x, w, b)
}

func norm(a NormArgs, x, w, b *Tensor) (y, mean, rstd *Tensor) {
	xc := x.Contiguous()
	stats := a.Rows
	if a.Groups > 0 {
		stats = a.Batch * a.Groups
	}
	y = Empty(x.buf.b, x.shape...)
	mean, rstd = Empty(x.buf.b, stats), Empty(x.buf.b, stats)
	if x.Size() > 0 {
		x.buf.b.Norm(a, y.Span(), mean.Span(), rstd.Span(), xc.Span(), optSpan(w), optSpan(b))
	}
	releaseIfCopy(xc, x)
	return y, mean, rstd
}

// NormBackward returns dx, dw and db (nil when w or b is nil) for
// LayerNorm (groups == 0) or GroupNorm.
func NormBackward(x, w, b, mean, rstd, gy *Tensor, groups int, eps float32) (dx, dw, db *Tensor) {
	var a NormArgs
	if groups == 0 {
		n := x.Dim(-1)
		a = NormArgs{Rows: x.Size() / max(n, 1), N: n, Eps: eps}
	} else {
		a = NormArgs{Batch: x.shape[0], C: x.shape[1], HW: numel(x.shape[2:]), Groups: groups, Eps: eps}
	}
	a.HasWeight, a.HasBias = w != nil, b != nil
	xc, gc := x.Contiguous(), gy.Contiguous()
	be := x.buf.b
	dx = Empty(be, x.shape...)
	if w != nil {
		dw = Zeros(be, w.shape...)
	}
	if b != nil {
		db = Zeros(be, b.shape...)
	}
	if x.Size() > 0 {
		be.NormBackward(a, dx.Span(), optSpan(dw), optSpan(db), xc.Span(), mean.Span(), rstd.Span(), optSpan(w), gc.Span())
	}
	releaseIfCopy(xc, x)
	releaseIfCopy(gc, gy)
	return dx, dw, db
}

// Gather returns rows ids of table [V, dim], shaped ids.shape + [dim].
// Every id must be an integer in [0, V) (the id contract, ids.go); the
// backend's sticky error reports the first that is not.
func Gather(table, ids *Tensor) *Tensor {
	mustRank("Gather", table, 2, "table")
	ic := ids.Contiguous()
	n, rows, dim := ids.Size(), table.shape[0], table.shape[1]
	out := Empty(table.buf.b, append(ids.Shape(), dim)...)
	if n > 0 { // ids are checked even when rows are empty
		tc := table.Contiguous()
		table.buf.b.Gather(out.Span(), tc.Span(), ic.Span(), n, rows, dim)
		releaseIfCopy(tc, table)
	}
	releaseIfCopy(ic, ids)
	return out
}

// ScatterAdd returns a [rows, dim] tensor with row i of src added into row
// ids[i]: the backward of Gather. Every id must be an integer in [0, rows)
// (the id contract, ids.go).
func ScatterAdd(src, ids *Tensor, rows int) *Tensor {
	dim := src.Dim(-1)
	n := ids.Size()
	if src.Size() != n*dim {
		panic(fmt.Sprintf("tensor: ScatterAdd: src %v does not match ids %v", src.shape, ids.shape))
	}
	out := Zeros(src.buf.b, rows, dim)
	if n > 0 {
		sc, ic := src.Contiguous(), ids.Contiguous()
		src.buf.b.ScatterAdd(out.Span(), sc.Span(), ic.Span(), n, rows, dim)
		releaseIfCopy(sc, src)
		releaseIfCopy(ic, ids)
	}
	return out
}

// AttentionMask is the mask of scaled dot-product attention: none, an
// additive [Lq, Lk] tensor, or the block-causal mask given by per-token
// scale ids.
type AttentionMask struct {
	Kind           MaskKind
	Values         *Tensor // MaskAdditive
	ScaleQ, ScaleK *Tensor // MaskScale
}

// Attention computes softmax(scale·QKᵀ + mask)·V for q [B,H,Lq,D], k and v
// [B,H,Lk,D]. It returns the output and the log-sum-exp saved for the
// backward.
func Attention(q, k, v *Tensor, scale float32, mask AttentionMask) (out, lse *Tensor) {
	mustRank("Attention", q, 4, "q")
	mustRank("Attention", k, 4, "k")
	mustRank("Attention", v, 4, "v")
	B, H, Lq, D := q.shape[0], q.shape[1], q.shape[2], q.shape[3]
	Lk := k.shape[2]
	if k.shape[0] != B || k.shape[1] != H || k.shape[3] != D || v.shape[0] != B || v.shape[1] != H || v.shape[2] != Lk || v.shape[3] != D {
		panic(fmt.Sprintf("tensor: Attention: q %v, k %v, v %v do not fit", q.shape, k.shape, v.shape))
	}
	be := q.buf.b
	qc, kc, vc := q.Contiguous(), k.Contiguous(), v.Contiguous()
	out, lse = Empty(be, B, H, Lq, D), Empty(be, B, H, Lq)
	a := attentionArgs(qc, kc, vc, scale, mask)
	a.Out, a.Lse = out.Span(), lse.Span()
	if out.Size() > 0 {
		be.Attention(a)
	}
	releaseIfCopy(qc, q)
	releaseIfCopy(kc, k)
	releaseIfCopy(vc, v)
	return out, lse
}

// AttentionBackward returns dq, dk, dv from the forward's inputs, output,
// log-sum-exp and the output gradient.
func AttentionBackward(q, k, v, out, lse, gout *Tensor, scale float32, mask AttentionMask) (dq, dk, dv *Tensor) {
	be := q.buf.b
	qc, kc, vc, gc := q.Contiguous(), k.Contiguous(), v.Contiguous(), gout.Contiguous()
	a := attentionArgs(qc, kc, vc, scale, mask)
	a.Out, a.Lse = out.Span(), lse.Span()
	dq, dk, dv = Empty(be, q.shape...), Empty(be, k.shape...), Empty(be, v.shape...)
	if q.Size() > 0 && k.Size() > 0 {
		be.AttentionBackward(a, AttentionGrads{GradOut: gc.Span(), GradQ: dq.Span(), GradK: dk.Span(), GradV: dv.Span()})
	}
	releaseIfCopy(qc, q)
	releaseIfCopy(kc, k)
	releaseIfCopy(vc, v)
	releaseIfCopy(gc, gout)
	return dq, dk, dv
}

func attentionArgs(q, k, v *Tensor, scale float32, mask AttentionMask) AttentionArgs {
	a := AttentionArgs{B: q.shape[0], H: q.shape[1], Lq: q.shape[2], Lk: k.shape[2], D: q.shape[3],
		Scale: scale, Mask: mask.Kind, Q: q.Span(), K: k.Span(), V: v.Span()}
	switch mask.Kind {
	case MaskAdditive:
		if mask.Values == nil || mask.Values.Size() != a.Lq*a.Lk || !mask.Values.IsContiguous() {
			panic(fmt.Sprintf("tensor: Attention: additive mask must be a contiguous [%d, %d] tensor", a.Lq, a.Lk))
		}
		a.MaskValues = mask.Values.Span()
	case MaskScale:
		if mask.ScaleQ == nil || mask.ScaleK == nil || mask.ScaleQ.Size() != a.Lq || mask.ScaleK.Size() != a.Lk {
			panic(fmt.Sprintf("tensor: Attention: scale mask needs %d query and %d key scale ids", a.Lq, a.Lk))
		}
		a.ScaleQ, a.ScaleK = mask.ScaleQ.Span(), mask.ScaleK.Span()
	}
	return a
}

// Interpolate resizes the last two axes of x [..., H, W] to [h, w].
func Interpolate(x *Tensor, h, w int, mode InterpMode) *Tensor {
	if len(x.shape) < 2 || h <= 0 || w <= 0 {
		panic(fmt.Sprintf("tensor: Interpolate: shape %v to %dx%d", x.shape, h, w))
	}
	r := len(x.shape)
	a := InterpArgs{Mode: mode, Planes: numel(x.shape[:r-2]), Hin: x.shape[r-2], Win: x.shape[r-1], Hout: h, Wout: w}
	xc := x.Contiguous()
	var sd [inlineRank]int
	out := Empty(x.buf.b, append(append(sd[:0], x.shape[:r-2]...), h, w)...)
	if out.Size() > 0 {
		x.buf.b.Interpolate(a, out.Span(), xc.Span())
	}
	releaseIfCopy(xc, x)
	return out
}

// InterpolateBackward returns the gradient of the input [..., H, W] from
// the output gradient g [..., h, w].
func InterpolateBackward(g *Tensor, hin, win int, mode InterpMode) *Tensor {
	r := len(g.shape)
	a := InterpArgs{Mode: mode, Planes: numel(g.shape[:r-2]), Hin: hin, Win: win, Hout: g.shape[r-2], Wout: g.shape[r-1]}
	gc := g.Contiguous()
	var sd [inlineRank]int
	out := Empty(g.buf.b, append(append(sd[:0], g.shape[:r-2]...), hin, win)...)
	if out.Size() > 0 {
		g.buf.b.InterpolateBackward(a, out.Span(), gc.Span())
	}
	releaseIfCopy(gc, g)
	return out
}

// ConvShape returns the arguments of a convolution of x [N,Cin,H,W] with
// w [Cout,Cin,KH,KW].
func ConvShape(x, w *Tensor, stride, pad int, bias bool) ConvArgs {
	mustRank("Conv2d", x, 4, "input")
	mustRank("Conv2d", w, 4, "weight")
	if x.shape[1] != w.shape[1] || stride <= 0 || pad < 0 {
		panic(fmt.Sprintf("tensor: Conv2d: input %v, weight %v, stride %d, pad %d do not fit", x.shape, w.shape, stride, pad))
	}
	a := ConvArgs{N: x.shape[0], Cin: x.shape[1], H: x.shape[2], W: x.shape[3], Cout: w.shape[0], KH: w.shape[2], KW: w.shape[3], Stride: stride, Pad: pad, HasBias: bias}
	a.Hout = (a.H+2*pad-a.KH)/stride + 1
	a.Wout = (a.W+2*pad-a.KW)/stride + 1
	if a.Hout <= 0 || a.Wout <= 0 {
		panic(fmt.Sprintf("tensor: Conv2d: kernel %dx%d larger than padded input %v", a.KH, a.KW, x.shape))
	}
	return a
}

// Conv2d convolves x [N,Cin,H,W] with w [Cout,Cin,KH,KW] and adds b [Cout] (may be nil).
func Conv2d(x, w, b *Tensor, stride, pad int) *Tensor {
	a := ConvShape(x, w, stride, pad, b != nil)
	xc, wc := x.Contiguous(), w.Contiguous()
	out := Empty(x.buf.b, a.N, a.Cout, a.Hout, a.Wout)
	if out.Size() > 0 {
		x.buf.b.Conv2d(a, out.Span(), xc.Span(), wc.Span(), optSpan(b))
	}
	releaseIfCopy(xc, x)
	releaseIfCopy(wc, w)
	return out
}

// Conv2dBackward returns dx, dw and db (nil without bias) from gy.
func Conv2dBackward(x, w *Tensor, hasBias bool, gy *Tensor, stride, pad int) (dx, dw, db *Tensor) {
	a := ConvShape(x, w, stride, pad, hasBias)
	be := x.buf.b
	xc, wc, gc := x.Contiguous(), w.Contiguous(), gy.Contiguous()
	dx, dw = Empty(be, x.shape...), Empty(be, w.shape...)
	if hasBias {
		db = Empty(be, a.Cout)
	}
	be.Conv2dBackwardInput(a, dx.Span(), gc.Span(), wc.Span())
	be.Conv2dBackwardWeight(a, dw.Span(), optSpan(db), xc.Span(), gc.Span())
	releaseIfCopy(xc, x)
	releaseIfCopy(wc, w)
	releaseIfCopy(gc, gy)
	return dx, dw, db
}

// TopK returns the k largest values along the last axis (descending) and
// their indices.
func TopK(x *Tensor, k int) (vals, idx *Tensor) {
	n := x.Dim(-1)
	if k <= 0 || k > n {
		panic(fmt.Sprintf("tensor: TopK: k=%d for last axis of %v", k, x.shape))
	}
	xc := x.Contiguous()
	shape := x.Shape()
	shape[len(shape)-1] = k
	vals, idx = Empty(x.buf.b, shape...), Empty(x.buf.b, shape...)
	if vals.Size() > 0 {
		x.buf.b.TopK(vals.Span(), idx.Span(), xc.Span(), x.Size()/n, n, k)
	}
	releaseIfCopy(xc, x)
	return vals, idx
}

// Sample draws one index per row of logits [..., n] with top-k / top-p
// filtering and temperature; the result has the leading shape.
func Sample(logits *Tensor, topK int, topP, temperature float32, seed, offset uint64) *Tensor {
	n := logits.Dim(-1)
	lc := logits.Contiguous()
	out := Empty(logits.buf.b, logits.shape[:len(logits.shape)-1]...)
	rows := logits.Size() / max(n, 1)
	if rows > 0 {
		logits.buf.b.Sample(SampleArgs{Rows: rows, N: n, TopK: topK, TopP: topP, Temperature: temperature, Seed: seed, Offset: offset}, out.Span(), lc.Span())
	}
	releaseIfCopy(lc, logits)
	return out
}

// AdamWStep updates param, m and v in place (all contiguous, same size).
func AdamWStep(a AdamWArgs, param, grad, m, v *Tensor) {
	mustSameShape("AdamW", param, grad)
	mustSameShape("AdamW", param, m)
	mustSameShape("AdamW", param, v)
	gc := grad.Contiguous()
	a.N = param.Size()
	if a.N > 0 {
		param.buf.b.AdamW(a, param.Span(), gc.Span(), m.Span(), v.Span())
	}
	releaseIfCopy(gc, grad)
}

// AdamWTensors is one tensor of AdamWSteps: the parameter, its gradient
// and moments (all the same shape; parameter and moments contiguous), and
// whether the update's weight decay applies to it.
type AdamWTensors struct {
	Param, Grad, M, V *Tensor
	Decay             bool
}

// AdamWSteps applies one AdamW update (a.N is unused) to every entry, as
// AdamWStep does to each but in as few launches as the backend can: the
// GPU backends update several tensors per dispatch.
func AdamWSteps(a AdamWArgs, ts []AdamWTensors) {
	if len(ts) == 0 {
		return
	}
	parts := make([]AdamWPart, 0, len(ts))
	var copies []*Tensor
	for _, t := range ts {
		mustSameDevice("AdamW", ts[0].Param, t.Param, t.Grad, t.M, t.V)
		mustSameShape("AdamW", t.Param, t.Grad)
		mustSameShape("AdamW", t.Param, t.M)
		mustSameShape("AdamW", t.Param, t.V)
		gc := t.Grad.Contiguous()
		if gc != t.Grad {
			copies = append(copies, gc)
		}
		parts = append(parts, AdamWPart{Param: t.Param.Span(), Grad: gc.Span(), M: t.M.Span(), V: t.V.Span(),
			N: t.Param.Size(), Decay: t.Decay})
	}
	ts[0].Param.buf.b.AdamWMulti(a, parts)
	for _, c := range copies {
		c.Release()
	}
}

// SquaredNorm is Σx² over the elements of every tensor of ts, a scalar
// (rank 0, as Sum over all axes gives) on their device, in as few
// launches as the backend can. ts must not be empty.
func SquaredNorm(ts ...*Tensor) *Tensor {
	if len(ts) == 0 {
		panic("tensor: SquaredNorm of no tensors")
	}
	mustSameDevice("SquaredNorm", ts...)
	parts, ns := make([]Span, len(ts)), make([]int, len(ts))
	var copies []*Tensor
	for i, t := range ts {
		c := t.Contiguous()
		if c != t {
			copies = append(copies, c)
		}
		parts[i], ns[i] = c.Span(), c.Size()
	}
	out := Empty(ts[0].buf.b)
	ts[0].buf.b.SquaredNorm(out.Span(), parts, ns)
	for _, c := range copies {
		c.Release()
	}
	return out
}

func optSpan(t *Tensor) Span {
	if t == nil {
		return Span{}
	}
	return t.Span()
}

func releaseIfCopy(c, orig *Tensor) {
	if c != orig {
		c.Release()
	}
}
