package gpu

import (
	"math"

	"sargo/tensor"
)

// The fused AdamW update: shaders/adamw.comp.

// adamwVariants lists the optimizer pipeline.
func adamwVariants() []Variant {
	return []Variant{{Shader: "adamw", Spec: elemSpec, Bindings: 4, Group: "adamw"}}
}

type adamwPush struct {
	offParam, offGrad, offM, offV, n uint32
	beta1, oneMinusBeta1             float32
	beta2, oneMinusBeta2             float32
	eps, decay, step, rbc2           float32
}

// AdamW applies one PyTorch AdamW step in place:
//
//	p -= lr·wd·p
//	m = β1·m + (1−β1)·g
//	v = β2·v + (1−β2)·g²
//	p -= lr · (m/(1−β1^t)) / (sqrt(v/(1−β2^t)) + eps)
//
// The step-dependent bias corrections are computed here, as the CPU
// backend computes them, and sent as push constants.
func (b *Kernels) AdamW(a tensor.AdamWArgs, param, grad, m, v tensor.Span) {
	if a.N == 0 {
		return
	}
	t := float64(a.Step)
	bc1 := float32(1 - math.Pow(float64(a.Beta1), t))
	rbc2 := float32(1 / (1 - math.Pow(float64(a.Beta2), t)))
	push := adamwPush{uint32(param.Offset), uint32(grad.Offset), uint32(m.Offset), uint32(v.Offset), uint32(a.N),
		a.Beta1, 1 - a.Beta1, a.Beta2, 1 - a.Beta2, a.Eps, 1 - a.LR*a.WeightDecay, a.LR / bc1, rbc2}
	launch(b, "adamw", elemSpec, &push, groups1D(a.N, elemLocal), write(param.Buf), read(grad.Buf), write(m.Buf), write(v.Buf))
}
