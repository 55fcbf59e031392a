package cpu

import (
	"math"

	"sargo/tensor"
)

// AdamW applies one PyTorch AdamW step in place:
//
//	p -= lr·wd·p
//	m = β1·m + (1−β1)·g
//	v = β2·v + (1−β2)·g²
//	p -= lr · (m/(1−β1^t)) / (sqrt(v/(1−β2^t)) + eps)
func (b *Backend) AdamW(a tensor.AdamWArgs, param, grad, m, v tensor.Span) {
	p, g, ms, vs := span(param, a.N), span(grad, a.N), span(m, a.N), span(v, a.N)
	t := float64(a.Step)
	bc1 := float32(1 - math.Pow(float64(a.Beta1), t))
	rbc2 := float32(1 / (1 - math.Pow(float64(a.Beta2), t)))
	decay := 1 - a.LR*a.WeightDecay
	b1, b2 := a.Beta1, a.Beta2
	step := a.LR / bc1
	b.parallelFor(a.N, elemGrain, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			gi := g[i]
			mi := b1*ms[i] + (1-b1)*gi
			vi := b2*vs[i] + (1-b2)*gi*gi
			ms[i], vs[i] = mi, vi
			denom := float32(math.Sqrt(float64(vi*rbc2))) + a.Eps
			p[i] = p[i]*decay - step*mi/denom
		}
	})
}
