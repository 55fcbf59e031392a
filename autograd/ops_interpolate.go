package autograd

import "sargo/tensor"

// Interpolate resizes the last two axes of x [..., H, W] to [h, w] with
// PyTorch's F.interpolate semantics (align_corners=False).
func (g *Graph) Interpolate(x *Var, h, w int, mode tensor.InterpMode) *Var {
	xs := x.Value.Shape()
	hin, win := xs[len(xs)-2], xs[len(xs)-1]
	y := tensor.Interpolate(x.Value, h, w, mode)
	return g.record("Interpolate", y, func(gy *tensor.Tensor) []*tensor.Tensor {
		return g.grads(tensor.InterpolateBackward(gy, hin, win, mode))
	}, x)
}
