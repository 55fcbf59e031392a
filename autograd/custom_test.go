package autograd

import (
	"testing"

	"sargo/tensor"
)

// TestCustom records x³ as a custom operation, with its derivative 3x²
// written by hand, and checks it against finite differences.
func TestCustom(t *testing.T) {
	cube := func(g *Graph, x *Var) *Var {
		y := tensor.Pow(x.Value, 3)
		return g.Custom("Cube", y, func(gy *tensor.Tensor) []*tensor.Tensor {
			return []*tensor.Tensor{tensor.Mul(gy, tensor.Scale(tensor.Square(x.Value), 3))}
		}, x)
	}
	checkGrad(t, func(g *Graph, xs []*Var) *Var { return cube(g, xs[0]) },
		tensor.Randn(dev(), 5, 0, 3, 4))
}
