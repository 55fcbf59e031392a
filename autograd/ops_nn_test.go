package autograd

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"sargo/tensor"
)

// refSoftmaxRows is the softmax (or log-softmax) of each row of length n.
func refSoftmaxRows(x []float64, n int, log bool) []float64 {
	out := make([]float64, len(x))
	for r := 0; r < len(x)/n; r++ {
		row := x[r*n : (r+1)*n]
		m := math.Inf(-1)
		for _, v := range row {
			m = math.Max(m, v)
		}
		s := 0.0
		for _, v := range row {
			s += math.Exp(v - m)
		}
		for i, v := range row {
			if log {
				out[r*n+i] = v - m - math.Log(s)
			} else {
				out[r*n+i] = math.Exp(v-m) / s
			}
		}
	}
	return out
}

func TestSoftmax(t *testing.T) {
	for ci, shape := range [][]int{{1}, {7}, {3, 13}, {2, 3, 7}} {
		x := randTensor(uint64(ci), -3, 3, shape...)
		xv := read64(t, x)
		n := shape[len(shape)-1]
		t.Run("Softmax", func(t *testing.T) {
			requireClose(t, refSoftmaxRows(xv, n, false), shape, NoGrad().Softmax(Const(x)).Value, 1e-6, 1e-5)
			checkGrad(t, func(g *Graph, v []*Var) *Var { return g.Softmax(v[0]) }, x)
		})
		t.Run("LogSoftmax", func(t *testing.T) {
			requireClose(t, refSoftmaxRows(xv, n, true), shape, NoGrad().LogSoftmax(Const(x)).Value, 1e-5, 1e-5)
			checkGrad(t, func(g *Graph, v []*Var) *Var { return g.LogSoftmax(v[0]) }, x)
		})
	}
}

func TestCrossEntropy(t *testing.T) {
	cases := []struct {
		shape   []int // logits
		targets []float64
		opt     CEOptions
	}{
		{[]int{1, 1}, []float64{0}, DefaultCEOptions()},
		{[]int{3, 7}, []float64{0, 6, 3}, DefaultCEOptions()},
		{[]int{3, 7}, []float64{2, -100, 5}, DefaultCEOptions()},
		{[]int{3, 7}, []float64{2, 4, 5}, CEOptions{Ignore: 4}},
		{[]int{2, 3, 13}, []float64{12, 0, -100, 7, 7, 1}, CEOptions{Ignore: IgnoreIndex, Smoothing: 0.1}},
	}
	for ci, c := range cases {
		t.Run("", func(t *testing.T) {
			x := randTensor(uint64(ci), -2, 2, c.shape...)
			xv := read64(t, x)
			n := c.shape[len(c.shape)-1]
			lead := c.shape[:len(c.shape)-1]
			tg := tens(c.targets, lead...)
			logp := refSoftmaxRows(xv, n, true)
			rows := make([]float64, len(c.targets))
			total, count := 0.0, 0
			for r, tv := range c.targets {
				if int(tv) == c.opt.Ignore {
					continue
				}
				s := float64(c.opt.Smoothing)
				for k := range n {
					q := s / float64(n)
					if k == int(tv) {
						q += 1 - s
					}
					rows[r] -= q * logp[r*n+k]
				}
				total += rows[r]
				count++
			}
			requireClose(t, rows, lead, NoGrad().CrossEntropyRows(Const(x), tg, c.opt).Value, 1e-5, 1e-5)
			requireClose(t, []float64{total / float64(count)}, nil, NoGrad().CrossEntropy(Const(x), tg, c.opt).Value, 1e-5, 1e-5)
			checkGrad(t, func(g *Graph, v []*Var) *Var { return g.CrossEntropyRows(v[0], tg, c.opt) }, x)
			checkGrad(t, func(g *Graph, v []*Var) *Var { return g.CrossEntropy(v[0], tg, c.opt) }, x)
		})
	}
}

func TestCrossEntropyAllIgnoredIsNaN(t *testing.T) {
	x := Param(randTensor(1, -1, 1, 2, 3))
	loss := NoGrad().CrossEntropy(x, tens([]float64{-100, -100}, 2), DefaultCEOptions())
	require.True(t, math.IsNaN(float64(loss.Value.Item())))
}

// refNorm normalises groups of n consecutive values of x, returning
// (x-mean)/sqrt(var+eps) per group.
func refNorm(x []float64, n int, eps float64) []float64 {
	out := make([]float64, len(x))
	for r := 0; r < len(x)/n; r++ {
		row := x[r*n : (r+1)*n]
		m, v := 0.0, 0.0
		for _, a := range row {
			m += a
		}
		m /= float64(n)
		for _, a := range row {
			v += (a - m) * (a - m)
		}
		v /= float64(n)
		for i, a := range row {
			out[r*n+i] = (a - m) / math.Sqrt(v+eps)
		}
	}
	return out
}

func TestLayerNorm(t *testing.T) {
	const eps = 1e-5
	for ci, shape := range [][]int{{1, 7}, {3, 13}, {2, 3, 7}} {
		for _, affine := range []bool{false, true} {
			t.Run("", func(t *testing.T) {
				n := shape[len(shape)-1]
				x := randTensor(uint64(ci), -2, 2, shape...)
				w, b := randTensor(uint64(ci)+10, 0.5, 1.5, n), randTensor(uint64(ci)+20, -1, 1, n)
				wv, bv := read64(t, w), read64(t, b)
				want := refNorm(read64(t, x), n, eps)
				inputs := []*tensor.Tensor{x}
				var wc, bc *Var
				if affine {
					for i := range want {
						want[i] = want[i]*wv[i%n] + bv[i%n]
					}
					inputs = append(inputs, w, b)
					wc, bc = Const(w), Const(b)
				}
				requireClose(t, want, shape, NoGrad().LayerNorm(Const(x), wc, bc, eps).Value, 1e-5, 1e-4)
				checkGrad(t, func(g *Graph, v []*Var) *Var {
					if len(v) == 3 {
						return g.LayerNorm(v[0], v[1], v[2], eps)
					}
					return g.LayerNorm(v[0], nil, nil, eps)
				}, inputs...)
			})
		}
	}
}

func TestGroupNorm(t *testing.T) {
	const eps = 1e-5
	cases := []struct {
		shape  []int
		groups int
	}{
		{[]int{1, 3, 7}, 1},
		{[]int{2, 6, 3, 1}, 3},
		{[]int{1, 4, 3, 3}, 4},
	}
	for ci, c := range cases {
		for _, affine := range []bool{false, true} {
			t.Run("", func(t *testing.T) {
				ch := c.shape[1]
				hw := numel(c.shape[2:])
				x := randTensor(uint64(ci), -2, 2, c.shape...)
				w, b := randTensor(uint64(ci)+10, 0.5, 1.5, ch), randTensor(uint64(ci)+20, -1, 1, ch)
				wv, bv := read64(t, w), read64(t, b)
				want := refNorm(read64(t, x), ch/c.groups*hw, eps)
				inputs := []*tensor.Tensor{x}
				var wc, bc *Var
				if affine {
					for i := range want {
						k := i / hw % ch
						want[i] = want[i]*wv[k] + bv[k]
					}
					inputs = append(inputs, w, b)
					wc, bc = Const(w), Const(b)
				}
				requireClose(t, want, c.shape, NoGrad().GroupNorm(Const(x), wc, bc, c.groups, eps).Value, 1e-5, 1e-4)
				checkGrad(t, func(g *Graph, v []*Var) *Var {
					if len(v) == 3 {
						return g.GroupNorm(v[0], v[1], v[2], c.groups, eps)
					}
					return g.GroupNorm(v[0], nil, nil, c.groups, eps)
				}, inputs...)
			})
		}
	}
}

func TestL2Normalize(t *testing.T) {
	cases := []struct {
		shape []int
		axis  int
		eps   float32
	}{
		{[]int{7}, 0, 1e-12},
		{[]int{3, 13}, -1, 1e-12},
		{[]int{3, 7}, 0, 1e-12},
		{[]int{2, 3, 7}, 1, 1e-12},
		// eps above every norm: the result is x/eps and the gradient 1/eps.
		{[]int{3, 7}, 1, 8},
	}
	for ci, c := range cases {
		t.Run("", func(t *testing.T) {
			x := randTensor(uint64(ci), -1, 1, c.shape...)
			xv := read64(t, x)
			ax := normAxis("t", c.axis, len(c.shape))
			ns, _ := refReduce(sq(xv), c.shape, true, []int{ax}, 0, func(a, v float64) float64 { return a + v })
			ks := keptShape(c.shape, []int{ax})
			want := make([]float64, len(xv))
			for i, v := range xv {
				want[i] = v / math.Max(math.Sqrt(ns[bcastAt(unravel(i, c.shape), ks)]), float64(c.eps))
			}
			requireClose(t, want, c.shape, NoGrad().L2Normalize(Const(x), c.axis, c.eps).Value, 1e-6, 1e-5)
			checkGrad(t, func(g *Graph, v []*Var) *Var { return g.L2Normalize(v[0], c.axis, c.eps) }, x)
		})
	}
}

// sq squares every value.
func sq(x []float64) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = v * v
	}
	return out
}

func TestEmbedding(t *testing.T) {
	cases := []struct {
		v, dim   int
		ids      []float64
		idsShape []int
	}{
		{1, 1, []float64{0}, []int{1}},
		{7, 3, []float64{6, 0, 3, 3}, []int{4}},
		{13, 7, []float64{1, 12, 1, 5, 1, 0}, []int{2, 3}},
	}
	for ci, c := range cases {
		t.Run("", func(t *testing.T) {
			table := randTensor(uint64(ci), -1, 1, c.v, c.dim)
			tv := read64(t, table)
			ids := tens(c.ids, c.idsShape...)
			want := make([]float64, 0, len(c.ids)*c.dim)
			for _, id := range c.ids {
				want = append(want, tv[int(id)*c.dim:(int(id)+1)*c.dim]...)
			}
			shape := append(append([]int{}, c.idsShape...), c.dim)
			requireClose(t, want, shape, NoGrad().Embedding(Const(table), ids).Value, 0, 0)
			checkGrad(t, func(g *Graph, v []*Var) *Var { return g.Embedding(v[0], ids) }, table)
		})
	}
}

func TestDropout(t *testing.T) {
	const seed, offset = 42, 7
	for _, p := range []float32{0, 0.25, 0.5, 1} {
		t.Run("", func(t *testing.T) {
			x := randTensor(3, -1, 1, 3, 13)
			xv := read64(t, x)
			want := make([]float64, len(xv))
			for i, v := range xv {
				switch {
				case p == 0:
					want[i] = v
				case p < 1 && tensor.PhiloxUniform(seed, offset+uint64(i)) >= p:
					want[i] = v / (1 - float64(p))
				}
			}
			xc := Const(x)
			y := NoGrad().Dropout(xc, p, seed, offset)
			if p == 0 {
				require.Same(t, xc, y)
			}
			requireClose(t, want, []int{3, 13}, y.Value, 1e-6, 1e-6)
			checkGrad(t, func(g *Graph, v []*Var) *Var { return g.Dropout(v[0], p, seed, offset) }, x)
		})
	}
}
