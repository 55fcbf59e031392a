package cpu

import (
	"fmt"

	"sargo/tensor"
)

//go:generate go run ./internal/asmgen -out gemm_amd64.s -stubs gemm_stub_amd64.go

// bestGemmKernel is the fastest micro-kernel this processor supports,
// chosen once from the detected CPU features.
var bestGemmKernel = gemmKernels()[0]

// gemmKernelName names the GEMM micro-kernel in use.
func gemmKernelName() string { return bestGemmKernel.name }

// MatMul computes C[b] = act(alpha·op(A[b])·op(B[b]) + beta·C[b] + bias) for
// every batch entry, as tensor.MatMulArgs describes. Products of fewer than
// smallGemmWork multiply-adds take a direct loop, matrix-vector products a
// row-streaming loop (gemv), and the rest are packed and blocked for the
// caches (gemmBlocked). The kernels overwrite or add to C; a beta other than
// 0 and 1 scales C first, and the bias and activation follow as a pass over
// each row of C.
func (b *Backend) MatMul(a tensor.MatMulArgs) {
	if a.Batch <= 0 || a.M <= 0 || a.N <= 0 {
		return
	}
	if a.Beta != 0 && a.Beta != 1 {
		b.matmulScaleC(a)
		a.Beta = 1
	}
	b.matmulWith(a, bestGemmKernel)
	if _, act := a.Act.UnaryOp(); a.Bias.Buf != nil || act {
		b.matmulEpilogue(a)
	}
	if a.RowSums.Buf != nil {
		matmulRowSums(a)
	}
}

// matmulRowSums writes (or adds) the row sums of op(A) of batch entry 0
// into a.RowSums, accumulated in float64 in k order as Reduce sums.
func matmulRowSums(a tensor.MatMulArgs) {
	if a.Batch != 1 {
		panic(fmt.Sprintf("cpu: MatMul: row sums of a batch of %d products", a.Batch))
	}
	src := data(a.A.Buf)[a.A.Offset : a.A.Offset+a.M*a.K]
	dst := data(a.RowSums.Buf)[a.RowSums.Offset : a.RowSums.Offset+a.M]
	var acc [reduceTile]float64
	for m0 := 0; m0 < a.M; m0 += reduceTile {
		w := min(reduceTile, a.M-m0)
		if a.TransA { // A is K x M: op(A)'s rows are A's columns
			reduceTileInto(tensor.ReduceSum, dst[m0:m0+w], src[m0:], a.K, a.M, acc[:w], nil, a.RowSumsAdd)
			continue
		}
		for i := m0; i < m0+w; i++ {
			var s float64
			for _, x := range src[i*a.K : (i+1)*a.K] {
				s += float64(x)
			}
			if a.RowSumsAdd {
				dst[i] += float32(s)
			} else {
				dst[i] = float32(s)
			}
		}
	}
}

// matmulScaleC scales every batch entry's C by a.Beta.
func (b *Backend) matmulScaleC(a tensor.MatMulArgs) {
	b.matmulRows(a, matRowsLoop{scale: true, beta: a.Beta})
}

// matmulEpilogue adds the bias to every row of C and applies the
// activation.
func (b *Backend) matmulEpilogue(a tensor.MatMulArgs) {
	l := matRowsLoop{}
	l.op, l.act = a.Act.UnaryOp()
	if a.Bias.Buf != nil {
		l.bias = data(a.Bias.Buf)[a.Bias.Offset : a.Bias.Offset+a.N]
	}
	b.matmulRows(a, l)
}

// matmulRows runs l on every row of every batch entry's C in parallel (a
// C broadcast over the batch once).
func (b *Backend) matmulRows(a tensor.MatMulArgs, l matRowsLoop) {
	l.c, l.off, l.m, l.n, l.stride = data(a.C.Buf), a.C.Offset, a.M, a.N, a.StrideC
	rows := a.Batch * a.M
	if a.StrideC == 0 {
		rows = a.M
	}
	grain := max(1, elemGrain/a.N)
	if b.chunks(rows, grain) <= 1 {
		l.run(0, rows)
		return
	}
	launch(b, &b.frames.matRows, rows, grain, &l)
}

// matRowsLoop is the parallel loop body of matmulRows over the rows of C:
// it scales each row by beta, or adds bias and applies the activation op.
type matRowsLoop struct {
	c                 []float32
	off, m, n, stride int
	scale             bool
	beta              float32
	bias              []float32
	op                tensor.UnaryOp
	act               bool
}

func (l *matRowsLoop) run(lo, hi int) {
	for r := lo; r < hi; r++ {
		off := l.off + (r/l.m)*l.stride + (r%l.m)*l.n
		row := l.c[off : off+l.n]
		if l.scale {
			for j := range row {
				row[j] *= l.beta
			}
			continue
		}
		for j, v := range l.bias {
			row[j] += v
		}
		if l.act {
			unarySlice(l.op, row, row, 0, 0)
		}
	}
}

// Thresholds of the batch strategy, in multiply-adds per matrix.
const (
	// smallGemmWork is the size below which packing costs more than it
	// saves; measured with the AVX-512 kernel, the packed path is already
	// ahead at 16×16×16.
	smallGemmWork = 2 << 10
	// batchParallelWork is the size below which a batch of at least as many
	// matrices as workers runs one matrix per worker rather than splitting
	// each matrix across all workers.
	batchParallelWork = 1 << 24
)

// matmulWith is MatMul with a given micro-kernel.
func (b *Backend) matmulWith(a tensor.MatMulArgs, kern *gemmKernel) {
	if a.Batch <= 0 || a.M <= 0 || a.N <= 0 {
		return
	}
	// A weight shared over a batch of row-major A matrices stacked back to
	// back is one taller product.
	if a.Batch > 1 && a.StrideB == 0 && !a.TransA && a.StrideA == a.M*a.K && a.StrideC == a.M*a.N {
		a.M *= a.Batch
		a.Batch = 1
	}
	work := a.M * a.N * a.K
	// Batch entries write disjoint outputs unless C itself is broadcast.
	perMatrix := a.Batch > 1 && a.StrideC != 0 && b.workers > 1 &&
		(a.Batch >= 4*b.workers || (a.Batch >= b.workers && work < batchParallelWork))
	switch {
	case work < smallGemmWork && (perMatrix || a.Batch == 1):
		grain := max(1, smallGemmWork/max(work, 1))
		if b.chunks(a.Batch, grain) <= 1 {
			for bt := range a.Batch {
				gemmSmall(matOperands(&a, bt))
			}
			return
		}
		b.matmulPerMatrix(a, grain, nil)
	case perMatrix:
		b.matmulPerMatrix(a, 1, kern)
	default:
		for bt := 0; bt < a.Batch; bt++ {
			if work < smallGemmWork {
				gemmSmall(matOperands(&a, bt))
			} else {
				gemmOne(b, b.workers, matOperands(&a, bt), kern)
			}
		}
	}
}

// matmulPerMatrix computes the batch entries in parallel, each on one
// worker: with gemmSmall when kern is nil, else with gemmOne.
func (b *Backend) matmulPerMatrix(a tensor.MatMulArgs, grain int, kern *gemmKernel) {
	l := perMatrixLoop{be: b, a: a, kern: kern}
	if b.chunks(a.Batch, grain) <= 1 {
		l.run(0, a.Batch)
	} else {
		launch(b, &b.frames.perMatrix, a.Batch, grain, &l)
	}
}

// matOperands is batch entry bt of the product a describes.
func matOperands(a *tensor.MatMulArgs, bt int) gemmOperands {
	oa, ob, oc := a.A.Offset+bt*a.StrideA, a.B.Offset+bt*a.StrideB, a.C.Offset+bt*a.StrideC
	return gemmOperands{
		m: a.M, n: a.N, k: a.K,
		transA: a.TransA, transB: a.TransB,
		a: data(a.A.Buf)[oa : oa+a.M*a.K], b: data(a.B.Buf)[ob : ob+a.K*a.N], c: data(a.C.Buf)[oc : oc+a.M*a.N],
		alpha: a.Alpha, acc: a.Beta != 0,
	}
}

// gemmOne computes one product of at least smallGemmWork multiply-adds:
// matrix-vector shapes directly, the rest packed and blocked into be's
// scratch. With workers 1 it runs on the calling goroutine.
func gemmOne(be *Backend, workers int, g gemmOperands, kern *gemmKernel) {
	if g.m == 1 || g.n == 1 {
		if workers <= 1 {
			be = nil
		}
		gemv(be, g)
		return
	}
	gemmBlocked(be, workers, g, kern)
}

// perMatrixLoop is the parallel loop body of matmulPerMatrix.
type perMatrixLoop struct {
	be   *Backend
	a    tensor.MatMulArgs
	kern *gemmKernel
}

func (l *perMatrixLoop) run(lo, hi int) {
	a, kern := l.a, l.kern
	for bt := lo; bt < hi; bt++ {
		if kern == nil {
			gemmSmall(matOperands(&a, bt))
		} else {
			gemmOne(l.be, 1, matOperands(&a, bt), kern)
		}
	}
}
