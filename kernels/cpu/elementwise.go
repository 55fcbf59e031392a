package cpu

import (
	"fmt"
	"math"

	"sargo/tensor"
)

// Elementwise kernels over arbitrary-rank strided views. Views are first
// coalesced (size-1 axes dropped, adjacent axes merged where every view's
// strides allow); when every view is then a single unit-stride run the
// kernel runs on plain slices, otherwise each row of the innermost axis is
// gathered into scratch, computed as a slice and scattered back. A
// destination may alias a source exactly (in-place update).

var _ tensor.Backend = (*Backend)(nil)

// elemGrain is the smallest number of elements worth a goroutine.
const elemGrain = 1 << 14

// elemChunk is the scratch length used by the strided path.
const elemChunk = 512

// maxViews is the most views an elementwise kernel takes (Where's four).
const maxViews = 4

// inlineRank is the highest rank a layout holds; elementwise splits views
// of a higher rank along their first axis.
const inlineRank = 8

// layout is a coalesced iteration space shared by up to maxViews views,
// in arrays, so that a layout on the stack costs the Go heap nothing.
type layout struct {
	rank, nv int
	shape    [inlineRank]int
	strides  [maxViews][inlineRank]int // strides[v][axis]
	offsets  [maxViews]int
}

// coalesce makes l the common iteration space of views sharing one shape
// of rank at most inlineRank.
func (l *layout) coalesce(views []tensor.View) {
	nv := len(views)
	if nv > maxViews {
		panic(fmt.Sprintf("cpu: elementwise kernel of %d views (at most %d)", nv, maxViews))
	}
	l.nv, l.rank = nv, 0
	for v, vw := range views {
		l.offsets[v] = vw.Offset
	}
	for ax, n := range views[0].Shape {
		if n == 1 {
			continue
		}
		last := l.rank - 1
		merge := last >= 0
		for v := 0; merge && v < nv; v++ {
			if l.strides[v][last] != views[v].Strides[ax]*n {
				merge = false
			}
		}
		if merge {
			l.shape[last] *= n
			for v := range nv {
				l.strides[v][last] = views[v].Strides[ax]
			}
			continue
		}
		l.shape[l.rank] = n
		for v := range nv {
			l.strides[v][l.rank] = views[v].Strides[ax]
		}
		l.rank++
	}
	if l.rank == 0 {
		l.shape[0] = 1
		for v := range nv {
			l.strides[v][0] = 1
		}
		l.rank = 1
	}
}

// contiguous reports whether every view is one unit-stride run.
func (l *layout) contiguous() bool {
	if l.rank != 1 {
		return false
	}
	for v := range l.nv {
		if l.strides[v][0] != 1 {
			return false
		}
	}
	return true
}

func (l *layout) size() int {
	n := 1
	for _, d := range l.shape[:l.rank] {
		n *= d
	}
	return n
}

// elemKind names the computation of an elementwise kernel.
type elemKind uint8

const (
	elemCopy elemKind = iota
	elemFill
	elemUnary
	elemUnaryBackward
	elemBinary
	elemWhere
	elemMulAdd
)

// elemOp is an elementwise kernel as a value, so that launching one
// allocates nothing: a closure handed to the workers would escape to the
// heap on every call.
type elemOp struct {
	kind        elemKind
	unary       tensor.UnaryOp
	binary      tensor.BinaryOp
	alpha, beta float32 // the unary op's parameters, or the fill value
}

// run computes the kernel over bufs, which hold n consecutive elements of
// each view, the output first.
func (k *elemOp) run(bufs [][]float32) {
	switch k.kind {
	case elemCopy:
		copy(bufs[0], bufs[1])
	case elemFill:
		if k.alpha == 0 {
			clear(bufs[0])
			return
		}
		for i := range bufs[0] {
			bufs[0][i] = k.alpha
		}
	case elemUnary:
		unarySlice(k.unary, bufs[0], bufs[1], k.alpha, k.beta)
	case elemUnaryBackward:
		unaryBackwardSlice(k.unary, bufs[0], bufs[1], bufs[2], k.alpha, k.beta)
	case elemBinary:
		binarySlice(k.binary, bufs[0], bufs[1], bufs[2])
	case elemWhere:
		d, c, p, q := bufs[0], bufs[1], bufs[2], bufs[3]
		for i := range d {
			if c[i] != 0 {
				d[i] = p[i]
			} else {
				d[i] = q[i]
			}
		}
	case elemMulAdd:
		// The product is rounded before the addition: the explicit
		// conversion keeps Go from fusing them.
		d, p, q, r := bufs[0], bufs[1], bufs[2], bufs[3]
		for i := range d {
			d[i] = float32(p[i]*(q[i]+k.alpha)) + r[i]
		}
	}
}

// elementwise runs k over the views. The first view is the output and is
// written back; the others are inputs. A kernel too small to split runs on
// the calling goroutine and allocates nothing.
func (b *Backend) elementwise(k elemOp, views ...tensor.View) {
	if rank := len(views[0].Shape); rank > inlineRank {
		b.elementwiseSplit(k, views)
		return
	}
	var e elemRun
	e.init(b, k, views)
	units, grain := e.units()
	if units == 0 {
		return
	}
	if b.chunks(units, grain) > 1 {
		b.elementwiseParallel(k, views)
		return
	}
	if e.l.contiguous() {
		e.contiguous(0, units)
	} else {
		e.strided(0, units)
	}
}

// elementwiseParallel is elementwise split across the workers, with its
// launch in a frame of the backend.
func (b *Backend) elementwiseParallel(k elemOp, views []tensor.View) {
	e := b.frames.elem.get()
	e.init(b, k, views)
	units, grain := e.units()
	b.parallelRun(units, grain, e)
	b.frames.elem.put(e)
}

// elementwiseSplit is elementwise over views of a rank above inlineRank:
// one launch per index of their first axis.
func (b *Backend) elementwiseSplit(k elemOp, views []tensor.View) {
	sub := make([]tensor.View, len(views))
	for i := range views[0].Shape[0] {
		for v, vw := range views {
			sub[v] = tensor.View{Buf: vw.Buf, Offset: vw.Offset + i*vw.Strides[0], Shape: vw.Shape[1:], Strides: vw.Strides[1:]}
		}
		b.elementwise(k, sub...)
	}
}

// elemRun is one launch of an elementwise kernel: the kernel, the views'
// data and their coalesced layout.
type elemRun struct {
	k     elemOp
	datas [maxViews][]float32
	l     layout
	be    *Backend // owner of the strided path's gather buffers
}

func (e *elemRun) init(b *Backend, k elemOp, views []tensor.View) {
	e.k, e.be = k, b
	for v, vw := range views {
		e.datas[v] = data(vw.Buf)
	}
	e.l.coalesce(views)
}

// units is the number of units of work (elements when the views are
// contiguous, else chunks of at most elemChunk elements of an innermost
// row) and the smallest number of them worth a goroutine.
func (e *elemRun) units() (units, grain int) {
	if e.l.contiguous() {
		return e.l.size(), elemGrain
	}
	inner := e.l.shape[e.l.rank-1]
	if inner == 0 {
		return 0, 1
	}
	chunks := (inner + elemChunk - 1) / elemChunk
	return e.l.size() / inner * chunks, max(1, elemGrain/min(inner, elemChunk))
}

// run runs the kernel over units [lo, hi).
func (e *elemRun) run(lo, hi int) {
	if e.l.contiguous() {
		e.contiguous(lo, hi)
	} else {
		e.strided(lo, hi)
	}
}

// contiguous runs the kernel over elements [lo, hi) of unit-stride views.
func (e *elemRun) contiguous(lo, hi int) {
	var bufs [maxViews][]float32
	for v := range e.l.nv {
		o := e.l.offsets[v]
		bufs[v] = e.datas[v][o+lo : o+hi]
	}
	e.k.run(bufs[:e.l.nv])
}

// strided runs the kernel over units [lo, hi) of strided views: each row
// chunk of the innermost axis is gathered into scratch, computed as a
// slice and scattered back; unit-stride views are used in place.
func (e *elemRun) strided(lo, hi int) {
	l := &e.l
	nv := l.nv
	r := l.rank - 1
	inner := l.shape[r]
	chunks := (inner + elemChunk - 1) / elemChunk
	cs := min(inner, elemChunk)
	var bufs [maxViews][]float32
	var base [maxViews]int
	sb := e.be.scratch(scratchElem, nv*cs)
	defer e.be.putScratch(sb)
	scratch := sb.data
	for u := lo; u < hi; u++ {
		row, c := u/chunks, u%chunks
		copy(base[:nv], l.offsets[:nv])
		for ax := r - 1; ax >= 0; ax-- {
			i := row % l.shape[ax]
			row /= l.shape[ax]
			for v := range nv {
				base[v] += i * l.strides[v][ax]
			}
		}
		start := c * elemChunk
		n := min(elemChunk, inner-start)
		for v := range nv {
			src, s := e.datas[v], l.strides[v][r]
			p := base[v] + start*s
			if s == 1 {
				// Unit stride: the view's elements are used in place.
				bufs[v] = src[p : p+n]
				continue
			}
			buf := scratch[v*cs : v*cs+n]
			bufs[v] = buf
			switch {
			case v == 0:
			case s == 0:
				x := src[p]
				for k := range buf {
					buf[k] = x
				}
			default:
				for k := range buf {
					buf[k] = src[p]
					p += s
				}
			}
		}
		e.k.run(bufs[:nv])
		dst, s := e.datas[0], l.strides[0][r]
		if s == 1 {
			continue
		}
		p := base[0] + start*s
		for _, x := range bufs[0] {
			dst[p] = x
			p += s
		}
	}
}

// Copy writes src into dst elementwise.
func (b *Backend) Copy(dst, src tensor.View) {
	b.elementwise(elemOp{kind: elemCopy}, dst, src)
}

// Fill sets every element of dst to v.
func (b *Backend) Fill(dst tensor.View, v float32) {
	if v == 0 {
		n := int64(4)
		for _, d := range dst.Shape {
			n *= int64(d)
		}
		b.mem.counter.ZeroFill(n)
	}
	b.elementwise(elemOp{kind: elemFill, alpha: v}, dst)
}

// Unary computes dst = op(src).
func (b *Backend) Unary(op tensor.UnaryOp, dst, src tensor.View, alpha, beta float32) {
	b.elementwise(elemOp{kind: elemUnary, unary: op, alpha: alpha, beta: beta}, dst, src)
}

// UnaryBackward computes dx = gy · op'(x).
func (b *Backend) UnaryBackward(op tensor.UnaryOp, dx, x, gy tensor.View, alpha, beta float32) {
	b.elementwise(elemOp{kind: elemUnaryBackward, unary: op, alpha: alpha, beta: beta}, dx, x, gy)
}

// Binary computes dst = op(a, b).
func (b *Backend) Binary(op tensor.BinaryOp, dst, x, y tensor.View) {
	b.elementwise(elemOp{kind: elemBinary, binary: op}, dst, x, y)
}

// Where computes dst = cond != 0 ? a : b.
func (b *Backend) Where(dst, cond, x, y tensor.View) {
	b.elementwise(elemOp{kind: elemWhere}, dst, cond, x, y)
}

// MulAdd computes dst = a·(b + alpha) + c, rounding the product before
// the addition.
func (b *Backend) MulAdd(dst, x, y, z tensor.View, alpha float32) {
	b.elementwise(elemOp{kind: elemMulAdd, alpha: alpha}, dst, x, y, z)
}

// binarySlice computes d = op(x, y) over equal-length slices, with the
// vector kernels where there are some (same bits as the scalar loops).
func binarySlice(op tensor.BinaryOp, d, x, y []float32) {
	if !binaryVector(op, d, x, y) {
		binaryScalar(op, d, x, y)
	}
}

// binaryScalar computes d = op(x, y) over equal-length slices one value at
// a time. It is the fallback of binaryVector (other architectures,
// processors without AVX-512F, OpGreater and OpEqual) and the reference
// its results are tested against.
func binaryScalar(op tensor.BinaryOp, d, x, y []float32) {
	x, y = x[:len(d)], y[:len(d)]
	switch op {
	case tensor.OpAdd:
		for i := range d {
			d[i] = x[i] + y[i]
		}
	case tensor.OpSub:
		for i := range d {
			d[i] = x[i] - y[i]
		}
	case tensor.OpMul:
		for i := range d {
			d[i] = x[i] * y[i]
		}
	case tensor.OpDiv:
		for i := range d {
			d[i] = x[i] / y[i]
		}
	case tensor.OpMax:
		for i := range d {
			d[i] = max(x[i], y[i])
		}
	case tensor.OpMin:
		for i := range d {
			d[i] = min(x[i], y[i])
		}
	case tensor.OpGreater:
		for i := range d {
			d[i] = b2f(x[i] > y[i])
		}
	case tensor.OpEqual:
		for i := range d {
			d[i] = b2f(x[i] == y[i])
		}
	}
}

func b2f(c bool) float32 {
	if c {
		return 1
	}
	return 0
}

// sigmoid is a numerically stable logistic function; e^−|x| is taken in
// float32 (exp32), which the float32 results of its callers tolerate.
func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + float64(exp32(float32(-x))))
	}
	e := float64(exp32(float32(x)))
	return e / (1 + e)
}

const (
	geluK = 0.7978845608028654 // sqrt(2/pi)
	geluC = 0.044715
)

// geluTanh is the tanh-approximated GELU 0.5·x·(1+tanh y) with
// y = √(2/π)·(x+0.044715·x³), evaluated as x·σ(2y).
func geluTanh(x float64) float64 { return x * sigmoid(2*geluK*(x+geluC*x*x*x)) }

// geluTanhDeriv is the derivative of geluTanh. With s = σ(2y),
// 0.5·(1+tanh y) = s and 1−tanh²y = 4s(1−s).
func geluTanhDeriv(x float64) float64 {
	if math.IsInf(x, 0) { // the limits 1 and 0, where 2x·s(1−s) would be ∞·0
		if x > 0 {
			return 1
		}
		return 0
	}
	s := sigmoid(2 * geluK * (x + geluC*x*x*x))
	return s + 2*x*s*(1-s)*geluK*(1+3*geluC*x*x)
}

// unarySlice computes d = op(x) over equal-length slices.
func unarySlice(op tensor.UnaryOp, d, x []float32, alpha, beta float32) {
	x = x[:len(d)]
	switch op {
	case tensor.OpNeg:
		for i := range d {
			d[i] = -x[i]
		}
	case tensor.OpAffine:
		for i := range d {
			d[i] = alpha*x[i] + beta
		}
	case tensor.OpSquare:
		for i := range d {
			d[i] = x[i] * x[i]
		}
	case tensor.OpRecip:
		for i := range d {
			d[i] = 1 / x[i]
		}
	case tensor.OpRelu:
		for i := range d {
			if x[i] > 0 {
				d[i] = x[i]
			} else {
				d[i] = 0
			}
		}
	case tensor.OpClamp:
		for i := range d {
			d[i] = min(max(x[i], alpha), beta)
		}
	case tensor.OpAbs:
		for i := range d {
			d[i] = float32(math.Abs(float64(x[i])))
		}
	case tensor.OpSqrt:
		for i := range d {
			d[i] = float32(math.Sqrt(float64(x[i])))
		}
	case tensor.OpSign:
		for i := range d {
			d[i] = sign32(x[i])
		}
	case tensor.OpExp:
		for i := range d {
			d[i] = float32(math.Exp(float64(x[i])))
		}
	case tensor.OpExpClamp:
		for i := range d {
			d[i] = float32(math.Exp(float64(min(max(x[i], alpha), beta))))
		}
	case tensor.OpSigmoid, tensor.OpSilu, tensor.OpGeluTanh:
		if !activationVector(op, d, x) {
			activationScalar(op, d, x)
		}
	default:
		f := unaryFunc(op, float64(alpha))
		for i := range d {
			d[i] = float32(f(float64(x[i])))
		}
	}
}

func sign32(x float32) float32 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}

// unaryFunc returns the scalar form of the transcendental unary ops.
func unaryFunc(op tensor.UnaryOp, alpha float64) func(float64) float64 {
	switch op {
	case tensor.OpExp:
		return math.Exp
	case tensor.OpLog:
		return math.Log
	case tensor.OpRsqrt:
		return func(x float64) float64 { return 1 / math.Sqrt(x) }
	case tensor.OpTanh:
		return math.Tanh
	case tensor.OpSigmoid:
		return sigmoid
	case tensor.OpSilu:
		return func(x float64) float64 { return x * sigmoid(x) }
	case tensor.OpGeluTanh:
		return geluTanh
	case tensor.OpGeluErf:
		return func(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) }
	case tensor.OpPow:
		return func(x float64) float64 { return math.Pow(x, alpha) }
	}
	return func(float64) float64 { return math.NaN() }
}

// unaryDeriv returns op'(x) as a scalar function.
func unaryDeriv(op tensor.UnaryOp, alpha, beta float64) func(float64) float64 {
	switch op {
	case tensor.OpNeg:
		return func(float64) float64 { return -1 }
	case tensor.OpExp:
		return math.Exp
	case tensor.OpLog:
		return func(x float64) float64 { return 1 / x }
	case tensor.OpSqrt:
		return func(x float64) float64 { return 0.5 / math.Sqrt(x) }
	case tensor.OpRsqrt:
		return func(x float64) float64 { return -0.5 / (x * math.Sqrt(x)) }
	case tensor.OpAbs:
		return func(x float64) float64 { return float64(sign32(float32(x))) }
	case tensor.OpSign:
		return func(float64) float64 { return 0 }
	case tensor.OpTanh:
		return func(x float64) float64 { t := math.Tanh(x); return 1 - t*t }
	case tensor.OpSigmoid:
		return func(x float64) float64 { s := sigmoid(x); return s * (1 - s) }
	case tensor.OpRelu:
		return func(x float64) float64 { return float64(b2f(x > 0)) }
	case tensor.OpSilu:
		return func(x float64) float64 { s := sigmoid(x); return s * (1 + x*(1-s)) }
	case tensor.OpGeluTanh:
		return geluTanhDeriv
	case tensor.OpGeluErf:
		return func(x float64) float64 {
			return 0.5*(1+math.Erf(x/math.Sqrt2)) + x*math.Exp(-0.5*x*x)/math.Sqrt(2*math.Pi)
		}
	case tensor.OpPow:
		return func(x float64) float64 { return alpha * math.Pow(x, alpha-1) }
	case tensor.OpClamp:
		return func(x float64) float64 { return float64(b2f(alpha <= x && x <= beta)) }
	case tensor.OpExpClamp:
		return func(x float64) float64 {
			if alpha <= x && x <= beta {
				return math.Exp(x)
			}
			return 0
		}
	case tensor.OpAffine:
		return func(float64) float64 { return alpha }
	case tensor.OpSquare:
		return func(x float64) float64 { return 2 * x }
	case tensor.OpRecip:
		return func(x float64) float64 { return -1 / (x * x) }
	}
	return func(float64) float64 { return math.NaN() }
}

// unaryBackwardSlice computes dx = gy · op'(x) over equal-length slices.
func unaryBackwardSlice(op tensor.UnaryOp, dx, x, gy []float32, alpha, beta float32) {
	x, gy = x[:len(dx)], gy[:len(dx)]
	switch op {
	case tensor.OpNeg:
		for i := range dx {
			dx[i] = -gy[i]
		}
	case tensor.OpAffine:
		for i := range dx {
			dx[i] = alpha * gy[i]
		}
	case tensor.OpSquare:
		for i := range dx {
			dx[i] = 2 * x[i] * gy[i]
		}
	case tensor.OpRelu:
		for i := range dx {
			if x[i] > 0 {
				dx[i] = gy[i]
			} else {
				dx[i] = 0
			}
		}
	case tensor.OpClamp:
		for i := range dx {
			if alpha <= x[i] && x[i] <= beta {
				dx[i] = gy[i]
			} else {
				dx[i] = 0
			}
		}
	case tensor.OpSign:
		for i := range dx {
			dx[i] = 0
		}
	case tensor.OpSigmoid, tensor.OpSilu, tensor.OpGeluTanh:
		if !activationBackwardVector(op, dx, x, gy) {
			activationBackwardScalar(op, dx, x, gy)
		}
	case tensor.OpExpClamp: // unaryDeriv's, without its closure on the heap
		lo, hi := float64(alpha), float64(beta)
		for i := range dx {
			d, v := 0.0, float64(x[i])
			if lo <= v && v <= hi {
				d = math.Exp(v)
			}
			dx[i] = float32(float64(gy[i]) * d)
		}
	default:
		f := unaryDeriv(op, float64(alpha), float64(beta))
		for i := range dx {
			dx[i] = float32(float64(gy[i]) * f(float64(x[i])))
		}
	}
}

// activationScalar computes d = op(x) over equal-length slices for
// OpSigmoid, OpSilu and OpGeluTanh one value at a time in float64. It is
// the fallback of activationVector (other architectures, processors
// without AVX-512F) and the reference its results are tested against.
func activationScalar(op tensor.UnaryOp, d, x []float32) {
	x = x[:len(d)]
	switch op {
	case tensor.OpSigmoid:
		for i := range d {
			d[i] = float32(sigmoid(float64(x[i])))
		}
	case tensor.OpSilu:
		for i := range d {
			v := float64(x[i])
			d[i] = float32(v * sigmoid(v))
		}
	case tensor.OpGeluTanh:
		for i := range d {
			d[i] = float32(geluTanh(float64(x[i])))
		}
	}
}

// activationBackwardScalar computes dx = gy · op'(x) over equal-length
// slices for OpSigmoid, OpSilu and OpGeluTanh one value at a time in
// float64; it is the fallback of activationBackwardVector.
func activationBackwardScalar(op tensor.UnaryOp, dx, x, gy []float32) {
	x, gy = x[:len(dx)], gy[:len(dx)]
	switch op {
	case tensor.OpSigmoid:
		// σ(x)·(1−σ(x)) = e/(1+e)² with e = e^−|x|, without the
		// cancellation of 1−σ(x) for large x.
		for i := range dx {
			e := float64(exp32(-float32(math.Abs(float64(x[i])))))
			dx[i] = float32(float64(gy[i]) * (e / ((1 + e) * (1 + e))))
		}
	case tensor.OpSilu:
		for i := range dx {
			v := float64(x[i])
			s := sigmoid(v)
			dx[i] = float32(float64(gy[i]) * (s * (1 + v*(1-s))))
		}
	case tensor.OpGeluTanh:
		for i := range dx {
			dx[i] = float32(float64(gy[i]) * geluTanhDeriv(float64(x[i])))
		}
	}
}
