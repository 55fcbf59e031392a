package gpu

import (
	"math"

	"sargo/tensor"
)

// The fused AdamW update: shaders/adamw.comp (one tensor) and
// shaders/adamw_multi.comp (up to adamwParts tensors per dispatch).

// adamwParts is the most tensors one adamw_multi dispatch updates (what
// its push constants hold).
const adamwParts = 4

// adamwVariants lists the optimizer pipelines.
func adamwVariants(t Tuning) []Variant {
	return []Variant{
		{Shader: "adamw", Spec: t.specs().elem, Bindings: 4, Group: "adamw"},
		{Shader: "adamw_multi", Spec: t.specs().elem, Bindings: MaxBindings, Group: "adamw", Label: "multi"},
	}
}

type adamwPush struct {
	offParam, offGrad, offM, offV, n uint32
	beta1, oneMinusBeta1             float32
	beta2, oneMinusBeta2             float32
	eps, decay, step, rbc2           float32
	gradScale                        float32
}

// adamwMultiPush mirrors the push constants of shaders/adamw_multi.comp:
// the common factors, then per part its bindings (4 bits each: param,
// grad, m, v; bit 16: decayed), offsets and the end of its range.
type adamwMultiPush struct {
	beta1, beta2, eps, decay, step, rbc2, gradScale float32
	bind                                            [adamwParts]uint32
	offParam, offGrad, offM, offV                   [adamwParts]uint32
	end                                             [adamwParts]uint32
}

// adamwFactors are the step's bias corrections and factors, computed as
// the CPU backend computes them: the decay 1−lr·wd, the step size
// lr/(1−β1^t), 1/(1−β2^t) and the gradient scale (0 means 1).
func adamwFactors(a tensor.AdamWArgs) (decay, step, rbc2, scale float32) {
	t := float64(a.Step)
	bc1 := float32(1 - math.Pow(float64(a.Beta1), t))
	rbc2 = float32(1 / (1 - math.Pow(float64(a.Beta2), t)))
	scale = a.GradScale
	if scale == 0 {
		scale = 1
	}
	return 1 - a.LR*a.WeightDecay, a.LR / bc1, rbc2, scale
}

// AdamW applies one PyTorch AdamW step in place:
//
//	p -= lr·wd·p
//	m = β1·m + (1−β1)·g
//	v = β2·v + (1−β2)·g²
//	p -= lr · (m/(1−β1^t)) / (sqrt(v/(1−β2^t)) + eps)
//
// with g the gradient times a.GradScale. The step-dependent bias
// corrections are computed here, as the CPU backend computes them, and
// sent as push constants.
func (b *Kernels) AdamW(a tensor.AdamWArgs, param, grad, m, v tensor.Span) {
	if a.N == 0 {
		return
	}
	decay, step, rbc2, scale := adamwFactors(a)
	push := adamwPush{uint32(param.Offset), uint32(grad.Offset), uint32(m.Offset), uint32(v.Offset), uint32(a.N),
		a.Beta1, 1 - a.Beta1, a.Beta2, 1 - a.Beta2, a.Eps, decay, step, rbc2, scale}
	launch(b, "adamw", b.spec.elem, &push, groups1D(a.N, int(b.tune.Elem)), write(param.Buf), read(grad.Buf), write(m.Buf), write(v.Buf))
}

// AdamWMulti applies AdamW to every part with as few dispatches as the
// bindings allow: consecutive parts share a dispatch while their storages
// fit in MaxBindings slots, up to adamwParts parts. Moments kept in one
// storage (nn.AdamW's) take one slot for all parts.
func (b *Kernels) AdamWMulti(a tensor.AdamWArgs, parts []tensor.AdamWPart) {
	decay, step, rbc2, scale := adamwFactors(a)
	push := adamwMultiPush{beta1: a.Beta1, beta2: a.Beta2, eps: a.Eps, decay: decay, step: step, rbc2: rbc2, gradScale: scale}
	var bs bindingSet
	k, total := 0, 0
	flush := func() {
		if k == 0 {
			return
		}
		for j := k; j < adamwParts; j++ {
			push.bind[j], push.end[j] = 0, uint32(total)
		}
		launch(b, "adamw_multi", b.spec.elem, &push, groups1D(total, int(b.tune.Elem)), bs.all()...)
		bs, k, total = bindingSet{}, 0, 0
	}
	for _, pt := range parts {
		if pt.N == 0 {
			continue
		}
		if k == adamwParts || !bs.fits(pt.Param.Buf, pt.Grad.Buf, pt.M.Buf, pt.V.Buf) {
			flush()
		}
		if !b.checkIndexRange("AdamW", total+pt.N) {
			return
		}
		bind := uint32(bs.index(pt.Param.Buf, true)) | uint32(bs.index(pt.Grad.Buf, false))<<4 |
			uint32(bs.index(pt.M.Buf, true))<<8 | uint32(bs.index(pt.V.Buf, true))<<12
		if pt.Decay {
			bind |= 1 << 16
		}
		total += pt.N
		push.bind[k] = bind
		push.offParam[k], push.offGrad[k] = uint32(pt.Param.Offset), uint32(pt.Grad.Offset)
		push.offM[k], push.offV[k] = uint32(pt.M.Offset), uint32(pt.V.Offset)
		push.end[k] = uint32(total)
		k++
	}
	flush()
}
