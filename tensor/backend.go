package tensor

import "fmt"

// This file defines the contract between the tensor layer and a compute
// backend. Every kernel works on float32 storage. The tensor layer does all
// shape checking, broadcasting and allocation; a backend only computes. Index
// tensors (token ids, argmax results, top-k indices) are float32 holding exact
// integers, which is exact below 2^24.
//
// Kernels never return errors: a backend that hits a device fault, or ids
// outside their table (IDError), records it, may turn later kernels into
// no-ops, and reports it from Sync, Read and Err (a "sticky" error, as
// OpenGL and CUDA do). Callers check at a sync point.

// Storage is a backend-owned buffer of float32 elements.
type Storage interface {
	// Len is the number of float32 elements.
	Len() int
}

// View addresses a strided window of a storage: element i0,i1,... lives at
// Offset + sum(ik * Strides[k]). A stride of 0 broadcasts.
type View struct {
	Buf     Storage
	Offset  int
	Shape   []int
	Strides []int
}

// Span is a contiguous run of elements starting at Offset.
type Span struct {
	Buf    Storage
	Offset int
}

// UnaryOp names an elementwise function y = f(x; alpha, beta).
type UnaryOp int

// The unary operations. Alpha and Beta are used where noted.
const (
	OpNeg      UnaryOp = iota // -x
	OpExp                     // e^x
	OpLog                     // ln x
	OpSqrt                    // sqrt x
	OpRsqrt                   // 1/sqrt x
	OpAbs                     // |x|
	OpTanh                    // tanh x
	OpSigmoid                 // 1/(1+e^-x)
	OpRelu                    // max(x,0)
	OpSilu                    // x*sigmoid(x)
	OpGeluTanh                // 0.5x(1+tanh(sqrt(2/pi)(x+0.044715x^3)))
	OpGeluErf                 // 0.5x(1+erf(x/sqrt2))
	OpPow                     // x^Alpha
	OpClamp                   // min(max(x,Alpha),Beta)
	OpAffine                  // Alpha*x + Beta
	OpSquare                  // x*x
	OpRecip                   // 1/x
	OpSign                    // -1, 0 or 1
	OpExpClamp                // e^min(max(x,Alpha),Beta)
	NumUnaryOps
)

var unaryNames = [...]string{"neg", "exp", "log", "sqrt", "rsqrt", "abs", "tanh", "sigmoid", "relu", "silu", "gelu_tanh", "gelu_erf", "pow", "clamp", "affine", "square", "recip", "sign", "exp_clamp"}

func (op UnaryOp) String() string { return unaryNames[op] }

// BinaryOp names an elementwise function z = f(x, y).
type BinaryOp int

// The binary operations. Comparisons give 1 for true and 0 for false.
const (
	OpAdd BinaryOp = iota
	OpSub
	OpMul
	OpDiv
	OpMax
	OpMin
	OpGreater // x > y
	OpEqual   // x == y
	NumBinaryOps
)

var binaryNames = [...]string{"add", "sub", "mul", "div", "max", "min", "greater", "equal"}

func (op BinaryOp) String() string { return binaryNames[op] }

// ReduceOp names a reduction over the middle axis of an [Outer, N, Inner] block.
type ReduceOp int

// The reductions. Argmax returns the first index of the maximum, as float32.
const (
	ReduceSum ReduceOp = iota
	ReduceMax
	ReduceMin
	ReduceArgmax
	NumReduceOps
)

var reduceNames = [...]string{"sum", "max", "min", "argmax"}

func (op ReduceOp) String() string { return reduceNames[op] }

// MatMulArgs describes C[b] = act(alpha*op(A[b])·op(B[b]) + beta*C[b] + bias)
// for b in [0,Batch), where op(A) is M×K and op(B) is K×N, all row-major and
// contiguous within a batch. A stride of 0 broadcasts one matrix over the
// batch. TransA means A is stored K×M; TransB means B is stored N×K.
// With Beta 0, C is only written (never read, so NaNs in it do not
// propagate). Bias, when its Buf is set, holds N values, bias[j] added to
// column j of every row; Act is applied to each element last.
type MatMulArgs struct {
	Batch, M, N, K            int
	TransA, TransB            bool
	A, B, C                   Span
	StrideA, StrideB, StrideC int
	Alpha, Beta               float32
	Bias                      Span
	Act                       Activation
	// RowSums, when its Buf is set (Batch 1 only), receives the row sums
	// of op(A), Σ_k op(A)[m][k] for each of its M rows (before Alpha),
	// computed in the product's launch as Reduce's ReduceSum would: written,
	// or with RowSumsAdd added to its values in float32. With A = gyᵀ it
	// is Linear's bias gradient beside the weight gradient op(A)·op(B).
	RowSums    Span
	RowSumsAdd bool
}

// Activation names the function a fused epilogue applies to each element
// (MatMulArgs.Act).
type Activation int

// The activations: each computes the UnaryOp of the same name.
const (
	ActNone Activation = iota
	ActRelu
	ActSilu
	ActGeluTanh
	ActGeluErf
	NumActivations
)

var activationOps = [...]UnaryOp{ActRelu: OpRelu, ActSilu: OpSilu, ActGeluTanh: OpGeluTanh, ActGeluErf: OpGeluErf}

// UnaryOp is the op the activation computes; ok is false for ActNone and
// values out of range.
func (a Activation) UnaryOp() (op UnaryOp, ok bool) {
	if a <= ActNone || a >= NumActivations {
		return 0, false
	}
	return activationOps[a], true
}

func (a Activation) String() string {
	if op, ok := a.UnaryOp(); ok {
		return op.String()
	}
	if a == ActNone {
		return "none"
	}
	return fmt.Sprintf("Activation(%d)", int(a))
}

// MaskKind selects the attention mask.
type MaskKind int

// Attention masks.
const (
	MaskNone     MaskKind = iota
	MaskAdditive          // Mask holds [Lq, Lk] values added to the scores
	MaskScale             // block-causal: query i sees key j iff ScaleK[j] <= ScaleQ[i]
)

// AttentionArgs describes softmax(scale·Q·Kᵀ + mask)·V over [B, H, L, D]
// contiguous tensors. Lse holds the [B, H, Lq] log-sum-exp of the scaled,
// masked scores, saved by the forward for the backward. With MaskScale,
// ScaleQ holds Lq and ScaleK holds Lk scale ids (non-decreasing integers as
// float32); a query with no visible key produces zeros.
type AttentionArgs struct {
	B, H, Lq, Lk, D int
	Scale           float32
	Mask            MaskKind
	Q, K, V, Out    Span
	Lse             Span
	MaskValues      Span // MaskAdditive: [Lq, Lk]
	ScaleQ, ScaleK  Span // MaskScale
}

// AttentionGrads are the outputs of the attention backward: gradients with
// respect to Q, K and V, overwritten. GradOut is the gradient of Out.
type AttentionGrads struct {
	GradOut, GradQ, GradK, GradV Span
}

// InterpMode names an interpolation mode; all follow PyTorch's
// F.interpolate with align_corners=False.
type InterpMode int

// Interpolation modes. Bicubic uses a = -0.75 and clamps source indices at
// the border as PyTorch does. Area is adaptive average pooling.
const (
	InterpNearest InterpMode = iota
	InterpBilinear
	InterpBicubic
	InterpArea
)

var interpNames = [...]string{"nearest", "bilinear", "bicubic", "area"}

func (m InterpMode) String() string { return interpNames[m] }

// InterpArgs describes resizing Planes planes of Hin×Win to Hout×Wout.
type InterpArgs struct {
	Mode                 InterpMode
	Planes               int
	Hin, Win, Hout, Wout int
}

// ConvArgs describes a 2-D convolution, NCHW input [N, Cin, H, W], OIHW
// weight [Cout, Cin, KH, KW], output [N, Cout, Hout, Wout], dilation 1.
type ConvArgs struct {
	N, Cin, H, W int
	Cout, KH, KW int
	Stride, Pad  int
	Hout, Wout   int
	HasBias      bool
}

// NormArgs describes a normalisation over rows: LayerNorm uses Groups=0
// over [Rows, N]; GroupNorm uses [Batch, C, HW] with Groups groups, where
// the affine parameters are per channel.
type NormArgs struct {
	Rows, N   int // LayerNorm
	Batch, C  int // GroupNorm
	HW        int
	Groups    int
	Eps       float32
	HasWeight bool
	HasBias   bool
}

// SampleArgs describes drawing one index per row of Rows×N logits: the
// logits are divided by Temperature (1 when 0), filtered to the TopK largest
// (0 keeps all), then to the smallest set whose probability reaches TopP
// (0 or 1 keeps all), and sampled with a uniform from Philox(Seed, Offset+row).
type SampleArgs struct {
	Rows, N     int
	TopK        int
	TopP        float32
	Temperature float32
	Seed        uint64
	Offset      uint64
}

// AdamWArgs describes one decoupled-weight-decay Adam update of N elements
// at step Step (1-based, for bias correction).
type AdamWArgs struct {
	N                     int
	LR, Beta1, Beta2, Eps float32
	WeightDecay           float32
	Step                  int
	// GradScale multiplies every gradient element before the update (a
	// clipping coefficient), as a float32 product; 0 stands for 1.
	GradScale float32
}

// AdamWPart is one tensor of a multi-tensor AdamW update: N contiguous
// elements of the parameter, its gradient and its two moments, decayed by
// the update's WeightDecay when Decay is set.
type AdamWPart struct {
	Param, Grad, M, V Span
	N                 int
	Decay             bool
}

// RowLayout places the rows of a tensor whose last axis is contiguous
// but whose rows need not be: row r = (i0·Dims[1] + i1)·Dims[2] + i2
// starts Strides[0]·i0 + Strides[1]·i1 + Strides[2]·i2 elements after the
// tensor's offset. Contiguous rows of n elements are ContiguousRows(rows,
// n).
type RowLayout struct {
	Dims, Strides [3]int
}

// ContiguousRows is the RowLayout of rows consecutive rows of n elements.
func ContiguousRows(rows, n int) RowLayout {
	return RowLayout{Dims: [3]int{1, 1, rows}, Strides: [3]int{0, 0, n}}
}

// Row is the element offset of row r from the tensor's offset.
func (l RowLayout) Row(r int) int {
	i2, t := r%l.Dims[2], r/l.Dims[2]
	i1, i0 := t%l.Dims[1], t/l.Dims[1]
	return i0*l.Strides[0] + i1*l.Strides[1] + i2*l.Strides[2]
}

// RowsPart is one part of Backend.ConcatRows and SplitRows: rows·Width
// contiguous elements from Span, whose row r is columns [Col, Col+Width)
// of row r of the joined tensor.
type RowsPart struct {
	Span       Span
	Col, Width int
}

// MaxConcatParts is the most parts one ConcatRows or SplitRows call takes.
const MaxConcatParts = 8

// SumPart is one part of Backend.SumInto: Src viewed as [outer, n, inner]
// summed over n into Dst [outer, inner]. When Mul's Buf is set, the terms
// summed are the products Src·Mul (Mul laid out as Src, each product
// rounded to float32 as Binary's OpMul gives it). With Add the sum is added
// to Dst's values (beta 1) instead of written over them.
type SumPart struct {
	Dst, Src, Mul Span
	Add           bool
}

// MaxSumParts is the most parts one SumInto call takes.
const MaxSumParts = 4

// Backend is a compute device. Kernels take already-allocated outputs.
// All spans are contiguous unless a View is taken. Backends are pointer
// types (the registry keys each device's scopes by its Backend value).
type Backend interface {
	// Name is the registry name, such as "cpu" or "vulkan:0".
	Name() string
	// Describe is a one-line human description of the device.
	Describe() string

	// Alloc returns a storage of n elements whose content is undefined
	// (it may hold what an earlier, freed storage held): every kernel
	// output is allocated this way and written completely, and
	// accumulators are zeroed explicitly with Fill.
	Alloc(n int) Storage
	// Free returns a storage to the backend; it is not used again.
	Free(s Storage)
	// MemStats returns the backend's storage counters.
	MemStats() MemStats
	// ResetPeak restarts MemStats' PeakBytes from the current LiveBytes.
	ResetPeak()
	// Write copies src into s starting at element off.
	Write(s Storage, off int, src []float32)
	// Read copies len(dst) elements of s from off into dst, waiting for
	// every kernel recorded before it.
	Read(s Storage, off int, dst []float32) error
	// Sync waits for all recorded work and returns the first device error.
	Sync() error
	// Err returns the first device error without waiting.
	Err() error

	// Copy writes src into dst elementwise; both have the same shape.
	Copy(dst, src View)
	// Fill sets every element of dst to v. A fill with 0 counts in
	// MemStats' ZeroFilledBytes.
	Fill(dst View, v float32)
	// Unary computes dst = op(src).
	Unary(op UnaryOp, dst, src View, alpha, beta float32)
	// UnaryBackward computes dx = gy · op'(x).
	UnaryBackward(op UnaryOp, dx, x, gy View, alpha, beta float32)
	// Binary computes dst = op(a, b); a and b have dst's shape (broadcast
	// by zero strides).
	Binary(op BinaryOp, dst, a, b View)
	// Where computes dst = cond != 0 ? a : b.
	Where(dst, cond, a, b View)
	// MulAdd computes dst = a·(b + alpha) + c, each operation rounded to
	// float32 (no fused multiply-add); a, b and c have dst's shape
	// (broadcast by zero strides).
	MulAdd(dst, a, b, c View, alpha float32)

	// Reduce reduces src viewed as [outer, n, inner] over n into dst [outer, inner].
	Reduce(op ReduceOp, dst, src Span, outer, n, inner int)
	// SumInto sums up to MaxSumParts parts of one geometry in one launch:
	// each part's Src (or Src·Mul) viewed as [outer, n, inner] over n into
	// its Dst [outer, inner], the sum as Reduce's ReduceSum gives it,
	// written or, with Add, added to Dst's value in float32 (the result of
	// a Mul, a Reduce and an Add). The parts' destinations are distinct and
	// do not overlap their sources.
	SumInto(parts []SumPart, outer, n, inner int)
	// MatMul runs a batched GEMM.
	MatMul(args MatMulArgs)

	// Softmax writes softmax (or log-softmax) of each row of [rows, n].
	Softmax(dst, src Span, rows, n int, log bool)
	// SoftmaxBackward computes dx from y (the forward output) and gy.
	SoftmaxBackward(dx, y, gy Span, rows, n int, log bool)
	// CrossEntropy writes per-row losses of logits [rows, n] against
	// class-index targets, each in [0, n) or equal to ignore (the id
	// contract, ids.go); rows whose target equals ignore get loss 0.
	// With smoothing s the target distribution is (1-s)·onehot + s/n. Lse
	// receives each row's log-sum-exp for the backward.
	CrossEntropy(loss, lse, logits, targets Span, rows, n, ignore int, smoothing float32)
	// CrossEntropyBackward writes dlogits = gloss[row]·(softmax - target dist).
	CrossEntropyBackward(dlogits, logits, lse, targets, gloss Span, rows, n, ignore int, smoothing float32)

	// Norm computes a layer norm (Groups == 0) or a group norm, writing y
	// and the per-row (or per batch×group) mean and reciprocal std.
	Norm(a NormArgs, y, mean, rstd, x, w, b Span)
	// NormBackward writes dx, and accumulates into dw, db when present.
	NormBackward(a NormArgs, dx, dw, db, x, mean, rstd, w, gy Span)

	// L2Normalize writes y = x / min(max(‖x‖, eps), MaxFloat32) for each
	// row of x [rows, n], and each row's ‖x‖ into norm [rows]; y and norm
	// are contiguous, x's rows lie where xRows puts them.
	L2Normalize(y, norm, x Span, xRows RowLayout, rows, n int, eps float32)
	// L2NormalizeBackward writes dx = (gy − y·(Σ gy·y)·[‖x‖ > eps]) / d
	// per row, from the forward's y and norm (d as in L2Normalize).
	L2NormalizeBackward(dx, y, norm, gy Span, rows, n int, eps float32)

	// Gather copies rows ids[i] of table [rows, dim] into dst [n, dim];
	// every id is checked against rows first (the id contract, ids.go).
	Gather(dst, table, ids Span, n, rows, dim int)
	// ScatterAdd adds row i of src [n, dim] into row ids[i] of dst [rows,
	// dim], deterministically (the same result whatever the order of
	// duplicates); every id is checked against rows first.
	ScatterAdd(dst, src, ids Span, n, rows, dim int)

	// Attention runs fused scaled dot-product attention forward.
	Attention(a AttentionArgs)
	// AttentionBackward runs its backward from the saved Lse.
	AttentionBackward(a AttentionArgs, g AttentionGrads)

	// Interpolate resizes src into dst.
	Interpolate(a InterpArgs, dst, src Span)
	// InterpolateBackward writes the gradient of src (overwritten) from the
	// gradient of dst.
	InterpolateBackward(a InterpArgs, dsrc, gdst Span)

	// Conv2d computes y = conv(x, w) + b.
	Conv2d(a ConvArgs, y, x, w, b Span)
	// Conv2dBackwardInput writes dx from gy and w.
	Conv2dBackwardInput(a ConvArgs, dx, gy, w Span)
	// Conv2dBackwardWeight writes dw (and db when HasBias) from x and gy.
	Conv2dBackwardWeight(a ConvArgs, dw, db, x, gy Span)

	// RandUniform fills n elements with U[0,1) from Philox(seed, offset+i).
	RandUniform(dst Span, n int, seed, offset uint64)
	// RandNormal fills n elements with N(0,1) from Philox(seed, offset+i).
	RandNormal(dst Span, n int, seed, offset uint64)
	// TopK writes the k largest values of each row of [rows, n] in
	// descending order, and their indices (ties: lower index first).
	TopK(vals, idx, src Span, rows, n, k int)
	// Sample draws one index per row of logits.
	Sample(a SampleArgs, dst, logits Span)
	// AdamW updates param, m and v in place from grad.
	AdamW(a AdamWArgs, param, grad, m, v Span)
	// AdamWMulti applies AdamW to every part (a.N is unused), with the
	// same arithmetic per element as AdamW.
	AdamWMulti(a AdamWArgs, parts []AdamWPart)
	// SquaredNorm writes Σx² over the elements of every part into
	// dst[0], accumulated in float32 (each part's Buf and Offset, its
	// length in ns).
	SquaredNorm(dst Span, parts []Span, ns []int)
	// ConcatRows writes up to MaxConcatParts parts into dst, rows rows of
	// rowWidth contiguous elements: part p's row r into columns
	// [p.Col, p.Col+p.Width) of row r. The parts' columns are disjoint;
	// columns no part covers keep their values. It is a concatenation
	// along one axis (rows: the elements before it, Width: a part's
	// extent along it times the elements after it) in one launch.
	ConcatRows(dst Span, rows, rowWidth int, parts []RowsPart)
	// SplitRows is the inverse of ConcatRows: it writes columns
	// [p.Col, p.Col+p.Width) of the rows of src into each part p.
	SplitRows(src Span, rows, rowWidth int, parts []RowsPart)
}
