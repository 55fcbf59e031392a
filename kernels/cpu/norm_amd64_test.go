package cpu

import (
	"math/rand/v2"
	"testing"

	"sargo/tensor"
)

// TestGroupNormVectorScalar checks the AVX2 group-norm kernels against the
// scalar loops: the stored values agree up to the order of the sums.
func TestGroupNormVectorScalar(t *testing.T) {
	if !normVector() {
		t.Skip("no AVX2 and FMA: the group norm runs the scalar loops only")
	}
	defer func(v vectorISA) { vectorLevel = v }(vectorLevel)
	for _, a := range []tensor.NormArgs{
		{Batch: 3, C: 64, HW: 64, Groups: 32, Eps: 1e-6, HasWeight: true, HasBias: true},
		{Batch: 2, C: 6, HW: 13, Groups: 3, Eps: 1e-6, HasWeight: true},
		{Batch: 2, C: 16, HW: 9, Groups: 16, Eps: 1e-6, HasBias: true},
	} {
		s := shapeOf(a)
		total := s.rows * s.rowLen
		rng := rand.New(rand.NewPCG(uint64(total), 9))
		x, gy := kernRand(rng, total, 9, 11), kernRand(rng, total, -1, 1)
		w, bias := kernRand(rng, s.params, 0.5, 1.5), kernRand(rng, s.params, -1, 1)
		if !a.HasWeight {
			w = nil
		}
		if !a.HasBias {
			bias = nil
		}
		run := func(level vectorISA) [6][]float32 {
			vectorLevel = level
			be := &Backend{workers: 2}
			y, dx := make([]float32, total), make([]float32, total)
			mean, rstd := make([]float32, s.rows), make([]float32, s.rows)
			dw, db := make([]float32, s.params), make([]float32, s.params)
			be.groupNorm(s, a.Eps, y, mean, rstd, x, w, bias)
			be.groupNormBackward(s, dx, dw, db, x, mean, rstd, w, gy)
			return [6][]float32{y, mean, rstd, dx, dw, db}
		}
		vec, scalar := run(bestVectorISA()), run(vecNone)
		for i, name := range []string{"y", "mean", "rstd", "dx", "dw", "db"} {
			kernClose(t, kernF64(scalar[i]), vec[i], 1e-5, 1e-6, name)
		}
	}
}
