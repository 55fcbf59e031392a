package autograd

import "sargo/tensor"

// Interpolate resizes the last two axes of x [..., H, W] to [h, w] with
// PyTorch's F.interpolate semantics (align_corners=False).
func (g *Graph) Interpolate(x *Var, h, w int, mode tensor.InterpMode) *Var {
	y := tensor.Interpolate(x.Value, h, w, mode)
	return g.recordStep("Interpolate", y, interpolateBack, &saved{i: [6]int{int(mode)}}, x)
}

// interpolateBack is Interpolate's backward: n.saved.i[0] is the mode.
func interpolateBack(g *Graph, n *node, gy *tensor.Tensor) []*tensor.Tensor {
	x := n.inputs[0].Value
	return g.grads(tensor.InterpolateBackward(gy, x.Dim(-2), x.Dim(-1), tensor.InterpMode(n.saved.i[0])))
}
