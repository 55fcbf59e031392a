package tokenizer

import (
	"sargo/nn"
	"sargo/tensor"
)

// clipGradNorm scales the gradients of params by min(1, maxNorm/(norm +
// 1e-6)), norm being their global L2 norm, as torch.nn.utils.clip_grad_norm_
// does, and returns the norm before clipping as a device scalar. Unlike
// nn.ClipGradNorm it never reads the norm back to the host, so a training
// step does not wait for the device. It returns nil when no parameter has
// a gradient.
func clipGradNorm(params []nn.NamedParam, maxNorm float32) *tensor.Tensor {
	var sum *tensor.Tensor
	for _, p := range params {
		if p.Var.Grad == nil {
			continue
		}
		sq := tensor.Square(p.Var.Grad)
		s := tensor.Sum(sq, false)
		sq.Release()
		if sum == nil {
			sum = s
			continue
		}
		t := tensor.Add(sum, s)
		sum.Release()
		s.Release()
		sum = t
	}
	if sum == nil {
		return nil
	}
	norm := tensor.Sqrt(sum)
	sum.Release()
	if maxNorm <= 0 {
		return norm
	}
	den := tensor.AddScalar(norm, 1e-6)
	limit := tensor.Scalar(norm.Backend(), maxNorm)
	ratio := tensor.Div(limit, den)
	den.Release()
	limit.Release()
	coef := tensor.Clamp(ratio, 0, 1)
	ratio.Release()
	for _, p := range params {
		if p.Var.Grad == nil {
			continue
		}
		t := tensor.Mul(p.Var.Grad, coef)
		p.Var.Grad.CopyFrom(t)
		t.Release()
	}
	coef.Release()
	return norm
}
