package autograd

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/tensor"
)

// wrongSquare is x² with the backward 2x·gy scaled by factor, to check
// that CheckGrad notices a wrong gradient.
func wrongSquare(g *Graph, x *Var, factor float32) *Var {
	y := tensor.Square(x.Value)
	return g.record("WrongSquare", y, func(gy *tensor.Tensor) []*tensor.Tensor {
		t := tensor.Mul(gy, x.Value)
		d := tensor.Scale(t, 2*factor)
		t.Release()
		return []*tensor.Tensor{d}
	}, x)
}

func TestCheckGrad(t *testing.T) {
	x := randTensor(1, -1, 1, 3, 7)
	y := randTensor(2, -1, 1, 7)
	cases := []struct {
		name    string
		f       func(g *Graph, xs []*Var) *Var
		inputs  []*tensor.Tensor
		wantErr string
	}{
		{"correct", func(g *Graph, xs []*Var) *Var { return wrongSquare(g, xs[0], 1) }, []*tensor.Tensor{x}, ""},
		{"scalar output", func(g *Graph, xs []*Var) *Var { return g.Sum(wrongSquare(g, xs[0], 1), false) }, []*tensor.Tensor{x}, ""},
		{"wrong by 5%", func(g *Graph, xs []*Var) *Var { return wrongSquare(g, xs[0], 1.05) }, []*tensor.Tensor{x}, "input 0 element"},
		{"second input wrong", func(g *Graph, xs []*Var) *Var {
			return g.Add(xs[0], wrongSquare(g, xs[1], 0.5))
		}, []*tensor.Tensor{x, y}, "input 1 element"},
		{"unused input has zero gradient", func(g *Graph, xs []*Var) *Var { return g.Exp(xs[0]) }, []*tensor.Tensor{x, y}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := CheckGrad(c.f, c.inputs, CheckOptions{})
			require.Len(t, res.MaxAbs, len(c.inputs))
			require.Len(t, res.MaxRel, len(c.inputs))
			if c.wantErr == "" {
				require.NoError(t, err)
				for i := range c.inputs {
					assert.Less(t, res.MaxAbs[i], 1e-3)
				}
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.wantErr)
			assert.Contains(t, err.Error(), "analytic")
			assert.Contains(t, err.Error(), "numeric")
		})
	}
}

func TestCheckGradLeavesInputsUntouched(t *testing.T) {
	x := randTensor(3, -1, 1, 7)
	before := read64(t, x)
	_, err := CheckGrad(func(g *Graph, xs []*Var) *Var { return g.Tanh(xs[0]) }, []*tensor.Tensor{x}, CheckOptions{})
	require.NoError(t, err)
	require.Equal(t, before, read64(t, x))
}

func TestCheckGradTolerances(t *testing.T) {
	x := randTensor(4, -1, 1, 7)
	f := func(g *Graph, xs []*Var) *Var { return wrongSquare(g, xs[0], 1.05) }
	_, err := CheckGrad(f, []*tensor.Tensor{x}, CheckOptions{RTol: 0.2, ATol: 0.2})
	require.NoError(t, err, "loose tolerances accept a 5% error")
	_, err = CheckGrad(f, []*tensor.Tensor{x}, CheckOptions{H: 1e-3, RTol: 1e-3, ATol: 1e-4})
	require.Error(t, err)
}
