package autograd_test

import (
	"fmt"
	"math"

	"sargo/autograd"
	"sargo/tensor"
)

// Example_scalars is micrograd on sargo: a small expression of two scalars,
// its gradient from one Backward, and the same gradient from central finite
// differences of the expression rewritten in float64. The scope owns the
// two parameters, the graph every intermediate value.
func Example_scalars() {
	dev := tensor.MustOpen("cpu")
	s := tensor.NewScope(dev)
	defer s.Close()
	a := autograd.Param(tensor.Scalar(dev, -4)).SetName("a")
	b := autograd.Param(tensor.Scalar(dev, 2)).SetName("b")

	g := autograd.NewGraph(dev)
	defer g.Close()
	c := g.Add(a, b)                                     // a + b
	d := g.Add(g.Mul(a, b), g.Pow(b, 3))                 // a·b + b³
	e := g.Sub(c, d)                                     // c − d
	f := g.Scale(g.Square(e), 0.5)                       // e²/2
	loss := g.Add(f, g.Tanh(g.Scale(g.Sub(b, a), 0.25))) // + tanh((b − a)/4)
	if err := g.Backward(loss); err != nil {             // fills a.Grad and b.Grad
		panic(err)
	}

	// The same function in float64, differentiated numerically.
	ref := func(a, b float64) float64 {
		e := (a + b) - (a*b + b*b*b)
		return e*e/2 + math.Tanh((b-a)/4)
	}
	const h = 1e-6
	da := (ref(-4+h, 2) - ref(-4-h, 2)) / (2 * h)
	db := (ref(-4, 2+h) - ref(-4, 2-h)) / (2 * h)

	fmt.Printf("loss  = %.4f (float64 %.4f)\n", loss.Value.Item(), ref(-4, 2))
	fmt.Printf("dL/da = %.4f (finite difference %.4f)\n", a.Grad.Item(), da)
	fmt.Printf("dL/db = %.4f (finite difference %.4f)\n", b.Grad.Item(), db)
	// Output:
	// loss  = 2.9051 (float64 2.9051)
	// dL/da = 1.9548 (finite difference 1.9548)
	// dL/db = 14.0452 (finite difference 14.0452)
}
