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
//
// with g the gradient times a.GradScale (0 standing for 1).
func (b *Backend) AdamW(a tensor.AdamWArgs, param, grad, m, v tensor.Span) {
	p, g, ms, vs := span(param, a.N), span(grad, a.N), span(m, a.N), span(v, a.N)
	t := float64(a.Step)
	bc1 := float32(1 - math.Pow(float64(a.Beta1), t))
	rbc2 := float32(1 / (1 - math.Pow(float64(a.Beta2), t)))
	decay := 1 - a.LR*a.WeightDecay
	b1, b2 := a.Beta1, a.Beta2
	step := a.LR / bc1
	scale := a.GradScale
	if scale == 0 {
		scale = 1
	}
	l := adamWLoop{p: p, g: g, m: ms, v: vs,
		scale: scale, b1: b1, b2: b2, rbc2: rbc2, eps: a.Eps, decay: decay, step: step}
	if b.chunks(a.N, elemGrain) <= 1 {
		l.run(0, a.N)
		return
	}
	launch(b, &b.frames.adamW, a.N, elemGrain, &l)
}

// adamWLoop is AdamW's loop body over elements.
type adamWLoop struct {
	p, g, m, v                            []float32
	scale, b1, b2, rbc2, eps, decay, step float32
}

func (l *adamWLoop) run(lo, hi int) {
	p, g, ms, vs := l.p, l.g, l.m, l.v
	scale, b1, b2, rbc2, eps, decay, step := l.scale, l.b1, l.b2, l.rbc2, l.eps, l.decay, l.step
	for i := lo; i < hi; i++ {
		gi := g[i] * scale
		mi := b1*ms[i] + (1-b1)*gi
		vi := b2*vs[i] + (1-b2)*gi*gi
		ms[i], vs[i] = mi, vi
		denom := float32(math.Sqrt(float64(vi*rbc2))) + eps
		p[i] = p[i]*decay - step*mi/denom
	}
}

// AdamWMulti applies AdamW to each part in turn, without weight decay
// where the part is not decayed.
func (b *Backend) AdamWMulti(a tensor.AdamWArgs, parts []tensor.AdamWPart) {
	wd := a.WeightDecay
	for _, pt := range parts {
		a.N, a.WeightDecay = pt.N, 0
		if pt.Decay {
			a.WeightDecay = wd
		}
		b.AdamW(a, pt.Param, pt.Grad, pt.M, pt.V)
	}
}

// SquaredNorm writes Σx² over every part into dst[0]: each part's sum of
// squares accumulated in float64, the parts added in order in float32.
func (b *Backend) SquaredNorm(dst tensor.Span, parts []tensor.Span, ns []int) {
	var total float32
	for i, s := range parts {
		var sum float64
		for _, x := range span(s, ns[i]) {
			sum += float64(x) * float64(x)
		}
		total += float32(sum)
	}
	span(dst, 1)[0] = total
}
