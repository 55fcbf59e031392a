package softplus_test

import (
	"fmt"

	"sargo/autograd"
	"sargo/tensor"
)

// Example computes softplus and its gradient, σ(x), on the CPU with the
// operation this package adds.
func Example() {
	dev := tensor.MustOpen("cpu")
	if err := Register(dev); err != nil { // loads the shaders on Vulkan
		panic(err)
	}
	s := tensor.NewScope(dev)
	defer s.Close()
	x := autograd.Param(tensor.FromSlice(dev, []float32{-2, 0, 3}, 3))
	g := autograd.NewGraph(dev)
	defer g.Close()
	y := Softplus(g, x)
	if err := g.Backward(g.Sum(y, false)); err != nil {
		panic(err)
	}
	fmt.Printf("softplus(x) = %.4f\n", y.Value.Data())
	fmt.Printf("d/dx        = %.4f\n", x.Grad.Data())
	// Output:
	// softplus(x) = [0.1269 0.6931 3.0486]
	// d/dx        = [0.1192 0.5000 0.9526]
}
