package bench

import (
	"fmt"

	"sargo/tensor"
)

func init() {
	register(Suite{Name: "matmul", Doc: "fp32 GEMM: square sizes and the bench model's linear layers", Cases: matmulCases,
		GPUCases: matmulGPUCases})
}

// gemm is one matrix product C[M,N] = op(A)·op(B) with inner size K; with
// TransA, A is stored K×M, with TransB, B is stored N×K.
type gemm struct {
	label          string
	m, n, k        int
	transA, transB bool
}

// matmulCases are the square sizes 256 to 4096 and the products of the
// bench model (batch 8 × 680 tokens, width 384, MLP 1536, vocabulary 4096):
// the forward of each linear layer (x·Wᵀ) and the two backward products of
// the largest ones (dX = dY·W, dW = dYᵀ·X).
func matmulCases(quick bool) ([]Case, error) {
	squares := []int{256, 512, 1024, 2048, 4096}
	tokens, width, vocab := 8*680, 384, 4096
	if quick {
		squares = []int{64, 128}
		tokens, width, vocab = 2*14, 32, 64
	}
	var gs []gemm
	for _, s := range squares {
		gs = append(gs, gemm{label: "square", m: s, n: s, k: s})
	}
	gs = append(gs,
		gemm{label: "qkv", m: tokens, n: 3 * width, k: width, transB: true},
		gemm{label: "proj", m: tokens, n: width, k: width, transB: true},
		gemm{label: "fc1", m: tokens, n: 4 * width, k: width, transB: true},
		gemm{label: "fc2", m: tokens, n: width, k: 4 * width, transB: true},
		gemm{label: "head", m: tokens, n: vocab, k: width, transB: true},
		gemm{label: "head dX", m: tokens, n: width, k: vocab},
		gemm{label: "head dW", m: vocab, n: width, k: tokens, transA: true},
		gemm{label: "fc1 dW", m: 4 * width, n: width, k: tokens, transA: true},
	)
	cases := make([]Case, len(gs))
	for i, g := range gs {
		cases[i] = g.toCase()
	}
	return cases, nil
}

// matmulGPUCases are the squares 1024, 2048 and 4096 and the products of a
// training step at 3200 tokens, width 384 and MLP 1536: the fused q/k/v
// projection (x·Wᵀ, 3200×1152×384 NT), the MLP's input gradient
// (dY·W, 3200×384×1536 NN) and the weight gradients of the attention
// projection and the MLP's first layer (dYᵀ·X, 384×384×3200 and
// 1536×384×3200 TN). quick divides every size by 32.
func matmulGPUCases(quick bool) ([]Case, error) {
	squares := []int{1024, 2048, 4096}
	tokens, width, mlp := 3200, 384, 1536
	if quick {
		for i := range squares {
			squares[i] /= 32
		}
		tokens, width, mlp = tokens/32, width/32, mlp/32
	}
	var gs []gemm
	for _, s := range squares {
		gs = append(gs, gemm{label: "square", m: s, n: s, k: s})
	}
	gs = append(gs,
		gemm{label: "train qkv", m: tokens, n: 3 * width, k: width, transB: true},
		gemm{label: "train fc1 dX", m: tokens, n: width, k: mlp},
		gemm{label: "train proj dW", m: width, n: width, k: tokens, transA: true},
		gemm{label: "train fc1 dW", m: mlp, n: width, k: tokens, transA: true},
	)
	cases := make([]Case, len(gs))
	for i, g := range gs {
		cases[i] = g.toCase()
	}
	return cases, nil
}

func (g gemm) toCase() Case {
	flags := map[bool]string{false: "N", true: "T"}
	return Case{
		Name:   fmt.Sprintf("%s %dx%dx%d %s%s", g.label, g.m, g.n, g.k, flags[g.transA], flags[g.transB]),
		Kind:   "matmul",
		Unit:   "GFLOP/s",
		Work:   2 * float64(g.m) * float64(g.n) * float64(g.k) / 1e9,
		Params: map[string]any{"m": g.m, "n": g.n, "k": g.k, "trans_a": g.transA, "trans_b": g.transB},
		Setup:  g.setup,
	}
}

func (g gemm) setup(be tensor.Backend) (func() error, func(), error) {
	a := tensor.Rand(be, 1, 0, g.m*g.k)
	b := tensor.Rand(be, 2, 0, g.k*g.n)
	c := tensor.Empty(be, g.m*g.n)
	args := tensor.MatMulArgs{Batch: 1, M: g.m, N: g.n, K: g.k, TransA: g.transA, TransB: g.transB,
		A: a.Span(), B: b.Span(), C: c.Span(), StrideA: g.m * g.k, StrideB: g.k * g.n, StrideC: g.m * g.n, Alpha: 1}
	return syncRun(be, func() { be.MatMul(args) }), nothing, nil
}
