package autograd

import (
	"testing"

	"github.com/stretchr/testify/require"

	"sargo/tensor"
)

// refMatMul multiplies a [..., M, K] (or [..., K, M] when ta) by b
// [..., K, N] (or [..., N, K] when tb) with batch broadcasting.
func refMatMul(av []float64, as []int, bv []float64, bs []int, ta, tb bool) ([]float64, []int) {
	ra, rb := len(as), len(bs)
	m, k := as[ra-2], as[ra-1]
	if ta {
		m, k = k, m
	}
	n := bs[rb-1]
	if tb {
		n = bs[rb-2]
	}
	batch := tensor.BroadcastShapes("ref", as[:ra-2], bs[:rb-2])
	out := append(append([]int{}, batch...), m, n)
	res := make([]float64, numel(out))
	abatch, bbatch := as[:ra-2], bs[:rb-2]
	for bi := 0; bi < numel(batch); bi++ {
		idx := unravel(bi, batch)
		ao, bo := bcastAt(idx, abatch)*as[ra-2]*as[ra-1], bcastAt(idx, bbatch)*bs[rb-2]*bs[rb-1]
		for i := range m {
			for j := range n {
				s := 0.0
				for p := range k {
					var x, y float64
					if ta {
						x = av[ao+p*m+i]
					} else {
						x = av[ao+i*k+p]
					}
					if tb {
						y = bv[bo+j*k+p]
					} else {
						y = bv[bo+p*n+j]
					}
					s += x * y
				}
				res[(bi*m+i)*n+j] = s
			}
		}
	}
	return res, out
}

func TestMatMul(t *testing.T) {
	cases := []struct {
		a, b   []int
		ta, tb bool
	}{
		{[]int{1, 1}, []int{1, 1}, false, false},
		{[]int{3, 7}, []int{7, 13}, false, false},
		{[]int{7, 3}, []int{7, 13}, true, false},
		{[]int{3, 7}, []int{13, 7}, false, true},
		{[]int{7, 3}, []int{13, 7}, true, true},
		{[]int{2, 3, 7}, []int{7, 5}, false, false},
		{[]int{3, 7}, []int{2, 5, 7}, false, true},
		{[]int{2, 1, 3, 7}, []int{3, 7, 1}, false, false},
	}
	for ci, c := range cases {
		t.Run("", func(t *testing.T) {
			av := randVals(uint64(ci), numel(c.a), -1, 1)
			bv := randVals(uint64(ci)+50, numel(c.b), -1, 1)
			want, shape := refMatMul(av, c.a, bv, c.b, c.ta, c.tb)
			a, b := tens(av, c.a...), tens(bv, c.b...)
			requireClose(t, want, shape, NoGrad().MatMul(Const(a), Const(b), c.ta, c.tb).Value, 1e-5, 1e-5)
			checkGrad(t, func(g *Graph, xs []*Var) *Var { return g.MatMul(xs[0], xs[1], c.ta, c.tb) }, a, b)
		})
	}
}

func TestLinear(t *testing.T) {
	cases := []struct {
		x       []int
		out     int
		hasBias bool
	}{
		{[]int{1, 1}, 1, true},
		{[]int{3, 7}, 13, true},
		{[]int{2, 3, 7}, 5, false},
		{[]int{2, 1, 3, 7}, 3, true},
	}
	for ci, c := range cases {
		t.Run("", func(t *testing.T) {
			in := c.x[len(c.x)-1]
			xv := randVals(uint64(ci), numel(c.x), -1, 1)
			wv := randVals(uint64(ci)+10, c.out*in, -1, 1)
			bv := randVals(uint64(ci)+20, c.out, -1, 1)
			rows := numel(c.x) / in
			want := make([]float64, rows*c.out)
			for r := range rows {
				for o := range c.out {
					s := 0.0
					if c.hasBias {
						s = bv[o]
					}
					for i := range in {
						s += xv[r*in+i] * wv[o*in+i]
					}
					want[r*c.out+o] = s
				}
			}
			shape := append(append([]int{}, c.x[:len(c.x)-1]...), c.out)
			x, w := tens(xv, c.x...), tens(wv, c.out, in)
			inputs := []*tensor.Tensor{x, w}
			var bc *Var
			if c.hasBias {
				inputs = append(inputs, tens(bv, c.out))
				bc = Const(inputs[2])
			}
			requireClose(t, want, shape, NoGrad().Linear(Const(x), Const(w), bc).Value, 1e-5, 1e-5)
			checkGrad(t, func(g *Graph, xs []*Var) *Var {
				var b *Var
				if len(xs) == 3 {
					b = xs[2]
				}
				return g.Linear(xs[0], xs[1], b)
			}, inputs...)
		})
	}
}

func TestLinearShapeErrors(t *testing.T) {
	x := Const(randTensor(1, -1, 1, 3, 7))
	cases := []struct {
		name string
		w, b *Var
	}{
		{"inner size", Const(randTensor(2, -1, 1, 5, 6)), nil},
		{"weight rank", Const(randTensor(2, -1, 1, 7)), nil},
		{"bias size", Const(randTensor(2, -1, 1, 5, 7)), Const(randTensor(3, -1, 1, 4))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.Panics(t, func() { NoGrad().Linear(x, c.w, c.b) })
		})
	}
}

// TestLinearWeightReadAgain covers a weight whose gradient is added into
// the one it already holds by the product (tensor.MatMulAddInto), and a
// bias whose gradient is added by its reduction (tensor.SumToAddInto): a
// weight and bias read twice in one graph, against finite differences,
// and gradients accumulated over two Backward calls, against twice one
// call's.
func TestLinearWeightReadAgain(t *testing.T) {
	x1, x2 := randTensor(1, -1, 1, 2, 3, 7), randTensor(2, -1, 1, 4, 7)
	w, b := randTensor(3, -1, 1, 5, 7), randTensor(4, -1, 1, 5)
	checkGrad(t, func(g *Graph, xs []*Var) *Var {
		y1 := g.Linear(xs[0], xs[2], xs[3])
		y2 := g.Linear(xs[1], xs[2], xs[3])
		return g.Add(g.Sum(g.Mul(y1, y1), false), g.Sum(y2, false))
	}, x1, x2, w, b)

	wp, bp := Param(w), Param(b)
	step := func() {
		g := NewGraph(w.Backend())
		defer g.Close()
		y := g.Linear(Const(x1), wp, bp)
		require.NoError(t, g.Backward(g.Sum(g.Mul(y, y), false)))
	}
	step()
	onceW, onceB := wp.Grad.Clone(), bp.Grad.Clone()
	step()
	for _, c := range []struct{ once, grad *tensor.Tensor }{{onceW, wp.Grad}, {onceB, bp.Grad}} {
		want := make([]float64, c.once.Size())
		for i, v := range c.once.Data() {
			want[i] = 2 * float64(v)
		}
		requireClose(t, want, c.once.Shape(), c.grad, 1e-5, 1e-5)
	}
}
