package autograd_test

import (
	"fmt"

	"sargo/autograd"
	_ "sargo/kernels/cpu"
	"sargo/tensor"
)

// Example fits y = 2x + 1 with a one-input linear layer and plain gradient
// descent: build the loss on a fresh graph, call Backward, step the
// parameters with their Grad, clear the gradients and close the graph,
// which frees everything it made.
func Example() {
	dev := tensor.MustOpen("cpu")
	s := tensor.NewScope(dev) // owns the data and the parameters
	defer s.Close()
	xs := []float32{-1, -0.5, 0, 0.5, 1, 1.5}
	ys := make([]float32, len(xs))
	for i, x := range xs {
		ys[i] = 2*x + 1
	}
	x := autograd.Const(tensor.FromSlice(dev, xs, len(xs), 1))
	y := autograd.Const(tensor.FromSlice(dev, ys, len(ys), 1))

	w := autograd.Param(tensor.Zeros(dev, 1, 1)).SetName("w") // [out, in]
	b := autograd.Param(tensor.Zeros(dev, 1)).SetName("b")

	const lr = 0.2
	for range 200 {
		g := autograd.NewGraph(dev)
		pred := g.Linear(x, w, b)
		loss := g.Mean(g.Square(g.Sub(pred, y)), false)
		if err := g.Backward(loss); err != nil {
			panic(err)
		}
		for _, p := range []*autograd.Var{w, b} {
			tensor.AddInto(p.Value, tensor.Scale(p.Grad, -lr)) // p -= lr·grad, in place
			p.ZeroGrad()
		}
		g.Close()
	}
	fmt.Printf("w = %.3f, b = %.3f\n", w.Value.Item(), b.Value.Item())

	// Inference needs no graph: a nil *Graph records nothing, and the
	// enclosing scope owns the result.
	var ng *autograd.Graph
	at3 := ng.Linear(autograd.Const(tensor.FromSlice(dev, []float32{3}, 1, 1)), w, b)
	fmt.Printf("f(3) = %.3f\n", at3.Value.Item())
	// Output:
	// w = 2.000, b = 1.000
	// f(3) = 7.000
}
