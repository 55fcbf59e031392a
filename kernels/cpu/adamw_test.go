package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"sargo/tensor"
)

func TestAdamW(t *testing.T) {
	be := kernBackend()
	for _, n := range []int{1, 13, 20011} {
		rng := rand.New(rand.NewPCG(uint64(n), 3))
		p, m, v := kernRand(rng, n, -1, 1), make([]float32, n), make([]float32, n)
		wp, wm, wv := kernF64(p), make([]float64, n), make([]float64, n)
		a := tensor.AdamWArgs{N: n, LR: 1e-2, Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, WeightDecay: 0.05}
		for step := 1; step <= 3; step++ {
			g := kernRand(rng, n, -1, 1)
			a.Step = step
			be.AdamW(a, kernSpan(p), kernSpan(g), kernSpan(m), kernSpan(v))
			b1, b2 := float64(a.Beta1), float64(a.Beta2)
			for i := range n {
				gi := float64(g[i])
				wp[i] -= float64(a.LR) * float64(a.WeightDecay) * wp[i]
				wm[i] = b1*wm[i] + (1-b1)*gi
				wv[i] = b2*wv[i] + (1-b2)*gi*gi
				mh := wm[i] / (1 - math.Pow(b1, float64(step)))
				vh := wv[i] / (1 - math.Pow(b2, float64(step)))
				wp[i] -= float64(a.LR) * mh / (math.Sqrt(vh) + float64(a.Eps))
			}
			kernClose(t, wp, p, 1e-5, 1e-6, "param")
			kernClose(t, wm, m, 1e-5, 1e-7, "m")
			kernClose(t, wv, v, 1e-5, 1e-8, "v")
		}
	}
}
