package vulkan

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"sargo/tensor"
)

func TestReduce(t *testing.T) {
	testReduce(t, sharedBackend(t))
}

// TestReduceSharedMemory runs the reductions without subgroup operations.
func TestReduceSharedMemory(t *testing.T) {
	b, err := Open(0, Options{Validation: true, NoSubgroups: true})
	skipOrFail(t, err)
	testReduce(t, b)
	require.NoError(t, b.Close())
	require.Empty(t, b.ValidationMessages())
}

func testReduce(t *testing.T, vb *Backend) {
	cb := cpuBackend()
	shapes := [][3]int{{1, 1, 1}, {3, 7, 1}, {2, 1000, 1}, {5, 300, 1}, {4, 9, 13}, {1, 517, 3}, {2, 0, 3}, {70000, 3, 1}}
	for op := tensor.ReduceOp(0); op < tensor.NumReduceOps; op++ {
		for _, sh := range shapes {
			outer, n, inner := sh[0], sh[1], sh[2]
			for _, withNaN := range []bool{false, true} {
				if withNaN && (op == tensor.ReduceSum || n < 2) {
					continue
				}
				t.Run(fmt.Sprintf("%s/%dx%dx%d/nan=%v", op, outer, n, inner, withNaN), func(t *testing.T) {
					data := randData(outer*n*inner+3, uint64(outer*n+inner))
					for i := range data {
						if i%5 == 0 {
							data[i] = float32(int(data[i])) // ties
						}
						if withNaN && i%37 == 11 {
							data[i] = float32(math.NaN())
						}
					}
					var outs [2][]float32
					for i, b := range []tensor.Backend{vb, cb} {
						src := upload(b, data)
						dst := poisoned(b, outer*inner+1)
						b.Reduce(op, tensor.Span{Buf: dst, Offset: 1}, tensor.Span{Buf: src, Offset: 3}, outer, n, inner)
						outs[i] = download(t, b, dst)[1:]
					}
					requireClose(t, outs[1], outs[0], 1e-5, op.String())
				})
			}
		}
	}
}

func TestMatMul(t *testing.T) {
	testMatMul(t, sharedBackend(t))
}

// TestMatMulScalarLoads runs the matmul cases without vec4 loads.
func TestMatMulScalarLoads(t *testing.T) {
	b, err := Open(0, Options{Validation: true, NoVec4: true})
	skipOrFail(t, err)
	testMatMul(t, b)
	require.NoError(t, b.Close())
	require.Empty(t, b.ValidationMessages())
}

func testMatMul(t *testing.T, vb *Backend) {
	cb := cpuBackend()
	type mm struct {
		batch, m, n, k int
		ta, tb         bool
		sa, sb         int // -1: contiguous batch stride, 0: broadcast
		alpha, beta    float32
	}
	cases := []mm{
		{1, 1, 1, 1, false, false, -1, -1, 1, 0},
		{1, 5, 7, 3, false, false, -1, -1, 1, 0},
		{1, 70, 65, 33, false, false, -1, -1, 1, 0},
		{1, 70, 65, 33, true, false, -1, -1, 0.5, 0},
		{1, 70, 65, 33, false, true, -1, -1, 1, 1},
		{1, 67, 129, 17, true, true, -1, -1, 2, 1},
		{3, 13, 9, 20, false, false, -1, 0, 1, 0},
		{3, 13, 9, 20, true, false, 0, -1, 1, 1},
		{2, 1, 100, 64, false, true, -1, -1, 1, 0},
		{2, 100, 1, 64, false, false, -1, -1, 1, 0},
		{1, 8, 8, 0, false, false, -1, -1, 1, 1},
		// Shapes aligned for vec4 loads, in every transpose combination.
		{2, 68, 72, 36, false, false, -1, -1, 1, 0},
		{2, 68, 72, 36, true, false, -1, -1, 1, 1},
		{2, 68, 72, 36, false, true, -1, 0, 1, 0},
		{1, 64, 64, 64, true, true, -1, -1, 1, 0},
		{3, 12, 8, 4, false, false, 0, -1, 1, 0},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%+v", c), func(t *testing.T) {
			sa, sb := c.sa, c.sb
			if sa < 0 {
				sa = c.m * c.k
			}
			if sb < 0 {
				sb = c.k * c.n
			}
			// Aligned shapes get aligned offsets so that they take the vec4 path.
			offA, offB := 2, 1
			if c.k%4 == 0 {
				offA, offB = 4, 8
			}
			lenA := (c.batch-1)*sa + c.m*c.k + offA
			lenB := (c.batch-1)*sb + c.k*c.n + offB
			lenC := c.batch*c.m*c.n + 4
			da, db, dc := randData(lenA, 1), randData(lenB, 2), randData(lenC, 3)
			var outs [2][]float32
			for i, b := range []tensor.Backend{vb, cb} {
				A, B := upload(b, da), upload(b, db)
				var C tensor.Storage
				if c.beta == 0 {
					C = poisoned(b, lenC)
				} else {
					C = upload(b, dc)
				}
				b.MatMul(tensor.MatMulArgs{
					Batch: c.batch, M: c.m, N: c.n, K: c.k, TransA: c.ta, TransB: c.tb,
					A: tensor.Span{Buf: A, Offset: offA}, B: tensor.Span{Buf: B, Offset: offB}, C: tensor.Span{Buf: C, Offset: 4},
					StrideA: sa, StrideB: sb, StrideC: c.m * c.n, Alpha: c.alpha, Beta: c.beta,
				})
				outs[i] = download(t, b, C)[4:]
			}
			requireClose(t, outs[1], outs[0], 1e-5, "matmul")
		})
	}
}
