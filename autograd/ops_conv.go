package autograd

import "sargo/tensor"

// Conv2d convolves x [N, Cin, H, W] with w [Cout, Cin, KH, KW] (PyTorch's
// layout) at the given stride and zero padding, and adds the optional bias
// b [Cout].
func (g *Graph) Conv2d(x, w, b *Var, stride, pad int) *Var {
	y := tensor.Conv2d(x.Value, w.Value, valueOf(b), stride, pad)
	return g.record("Conv2d", y, func(gy *tensor.Tensor) []*tensor.Tensor {
		dx, dw, db := tensor.Conv2dBackward(x.Value, w.Value, b != nil, gy, stride, pad)
		return g.grads(dx, dw, db)
	}, x, w, b)
}
