package cpu

import (
	"math/rand/v2"
	"testing"
)

func TestGatherScatterAdd(t *testing.T) {
	be := kernBackend()
	for _, tc := range []struct{ v, n, dim int }{{1, 1, 1}, {7, 13, 5}, {5, 31, 131}, {3, 400, 64}} {
		rng := rand.New(rand.NewPCG(uint64(tc.v), uint64(tc.dim)))
		table := kernRand(rng, tc.v*tc.dim, -1, 1)
		ids := make([]float32, tc.n)
		for i := range ids {
			ids[i] = float32(rng.IntN(tc.v))
		}
		want := make([]float64, tc.n*tc.dim)
		for i, id := range ids {
			copy(want[i*tc.dim:], kernF64(table[int(id)*tc.dim:(int(id)+1)*tc.dim]))
		}
		dst := make([]float32, tc.n*tc.dim)
		be.Gather(kernSpan(dst), kernSpan(table), kernSpan(ids), tc.n, tc.dim)
		kernClose(t, want, dst, 0, 0, "gather")

		src := kernRand(rng, tc.n*tc.dim, -1, 1)
		acc := kernRand(rng, tc.v*tc.dim, -1, 1)
		wantAcc := kernF64(acc)
		for i, id := range ids {
			for j := range tc.dim {
				wantAcc[int(id)*tc.dim+j] += float64(src[i*tc.dim+j])
			}
		}
		be.ScatterAdd(kernSpan(acc), kernSpan(src), kernSpan(ids), tc.n, tc.dim)
		kernClose(t, wantAcc, acc, 1e-5, 1e-5, "scatter add")
	}
}

func TestScatterAddDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n, dim = 300, 70
	src := kernRand(rng, n*dim, -1, 1)
	ids := make([]float32, n)
	for i := range ids {
		ids[i] = float32(rng.IntN(3))
	}
	var first []float32
	for workers := 1; workers <= 4; workers++ {
		dst := make([]float32, 3*dim)
		(&Backend{workers: workers}).ScatterAdd(kernSpan(dst), kernSpan(src), kernSpan(ids), n, dim)
		if first == nil {
			first = dst
			continue
		}
		kernClose(t, kernF64(first), dst, 0, 0, "worker count changes the result")
	}
}
