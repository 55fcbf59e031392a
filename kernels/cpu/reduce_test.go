package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"sargo/tensor"
)

func TestReduce(t *testing.T) {
	be := kernBackend()
	shapes := [][3]int{{1, 1, 1}, {1, 7, 1}, {13, 31, 1}, {3, 7, 13}, {2, 5, 300}, {1, 20000, 1}, {4, 1, 5}}
	for op := tensor.ReduceOp(0); op < tensor.NumReduceOps; op++ {
		for _, sh := range shapes {
			outer, n, inner := sh[0], sh[1], sh[2]
			rng := rand.New(rand.NewPCG(uint64(op), uint64(n)))
			src := kernRand(rng, outer*n*inner, -1, 1)
			// Repeat values so ties occur for argmax.
			for i := 0; i+inner < len(src); i += 5 {
				src[i+inner] = src[i]
			}
			want := make([]float64, outer*inner)
			for o := range outer {
				for i := range inner {
					acc, arg := float64(src[o*n*inner+i]), 0
					if op == tensor.ReduceSum {
						acc = 0
					}
					for j := range n {
						v := float64(src[(o*n+j)*inner+i])
						switch op {
						case tensor.ReduceSum:
							acc += v
						case tensor.ReduceMax, tensor.ReduceArgmax:
							if v > acc {
								acc, arg = v, j
							}
						case tensor.ReduceMin:
							acc = math.Min(acc, v)
						}
					}
					if op == tensor.ReduceArgmax {
						acc = float64(arg)
					}
					want[o*inner+i] = acc
				}
			}
			dst := make([]float32, outer*inner)
			be.Reduce(op, kernSpan(dst), kernSpan(src), outer, n, inner)
			kernClose(t, want, dst, 1e-6, 1e-6, op.String())
		}
	}
}

func TestReduceNaN(t *testing.T) {
	be := kernBackend()
	nan := float32(math.NaN())
	src := []float32{1, nan, 3, 2}
	for _, op := range []tensor.ReduceOp{tensor.ReduceMax, tensor.ReduceMin} {
		dst := make([]float32, 1)
		be.Reduce(op, kernSpan(dst), kernSpan(src), 1, 4, 1)
		kernClose(t, []float64{math.NaN()}, dst, 0, 0, op.String())
	}
	dst := make([]float32, 1)
	be.Reduce(tensor.ReduceArgmax, kernSpan(dst), kernSpan(src), 1, 4, 1)
	kernClose(t, []float64{1}, dst, 0, 0, "argmax")
}
