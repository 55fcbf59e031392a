package autograd

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// refView builds the reference result of an index-mapping operation: out
// element i takes x[src(coords of i)], or fill when src returns -1.
func refView(xv []float64, out []int, src func(idx []int) int, fill float64) []float64 {
	res := make([]float64, numel(out))
	for i := range res {
		if s := src(unravel(i, out)); s >= 0 {
			res[i] = xv[s]
		} else {
			res[i] = fill
		}
	}
	return res
}

func TestShapeOps(t *testing.T) {
	xs := []int{3, 1, 7}
	xv := randVals(1, numel(xs), -1, 1)
	cases := []struct {
		name  string
		op    func(g *Graph, x *Var) *Var
		out   []int
		src   func(idx []int) int
		fill  float64
		shape []int
	}{
		{"Reshape", func(g *Graph, x *Var) *Var { return g.Reshape(x, 7, -1) }, []int{7, 3},
			func(idx []int) int { return idx[0]*3 + idx[1] }, 0, nil},
		{"Permute", func(g *Graph, x *Var) *Var { return g.Permute(x, 2, 0, 1) }, []int{7, 3, 1},
			func(idx []int) int { return ravel([]int{idx[1], idx[2], idx[0]}, xs) }, 0, nil},
		{"Transpose", func(g *Graph, x *Var) *Var { return g.Transpose(x, 0, -1) }, []int{7, 1, 3},
			func(idx []int) int { return ravel([]int{idx[2], idx[1], idx[0]}, xs) }, 0, nil},
		{"Narrow", func(g *Graph, x *Var) *Var { return g.Narrow(x, 2, 2, 4) }, []int{3, 1, 4},
			func(idx []int) int { return ravel([]int{idx[0], idx[1], idx[2] + 2}, xs) }, 0, nil},
		{"Expand", func(g *Graph, x *Var) *Var { return g.Expand(x, 2, 3, 13, 7) }, []int{2, 3, 13, 7},
			func(idx []int) int { return ravel([]int{idx[1], 0, idx[3]}, xs) }, 0, nil},
		{"Squeeze", func(g *Graph, x *Var) *Var { return g.Squeeze(x) }, []int{3, 7},
			func(idx []int) int { return idx[0]*7 + idx[1] }, 0, nil},
		{"SqueezeAxis", func(g *Graph, x *Var) *Var { return g.Squeeze(x, 1) }, []int{3, 7},
			func(idx []int) int { return idx[0]*7 + idx[1] }, 0, nil},
		{"Unsqueeze", func(g *Graph, x *Var) *Var { return g.Unsqueeze(x, -1) }, []int{3, 1, 7, 1},
			func(idx []int) int { return ravel(idx[:3], xs) }, 0, nil},
		{"Pad", func(g *Graph, x *Var) *Var { return g.Pad(x, []int{1, 0, 2}, []int{0, 1, 3}, 0.5) }, []int{4, 2, 12},
			func(idx []int) int {
				i, j, k := idx[0]-1, idx[1], idx[2]-2
				if i < 0 || j >= 1 || k < 0 || k >= 7 {
					return -1
				}
				return ravel([]int{i, j, k}, xs)
			}, 0.5, nil},
		// A non-contiguous input: reshape after a transpose copies.
		{"TransposeReshape", func(g *Graph, x *Var) *Var { return g.Reshape(g.Transpose(x, 0, 2), -1) }, []int{21},
			func(idx []int) int { return ravel([]int{idx[0] % 3, 0, idx[0] / 3}, xs) }, 0, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := tens(xv, xs...)
			want := refView(xv, c.out, c.src, c.fill)
			requireClose(t, want, c.out, c.op(nil, Const(x)).Value, 0, 0)
			checkGrad(t, func(g *Graph, v []*Var) *Var { return c.op(g, v[0]) }, x)
		})
	}
}

func TestConcatStack(t *testing.T) {
	a, b, c := randTensor(1, -1, 1, 3, 7), randTensor(2, -1, 1, 3, 1), randTensor(3, -1, 1, 3, 13)
	av, bv, cv := read64(t, a), read64(t, b), read64(t, c)
	t.Run("Concat", func(t *testing.T) {
		want := make([]float64, 3*21)
		for i := range 3 {
			for j := range 21 {
				switch {
				case j < 7:
					want[i*21+j] = av[i*7+j]
				case j < 8:
					want[i*21+j] = bv[i]
				default:
					want[i*21+j] = cv[i*13+j-8]
				}
			}
		}
		requireClose(t, want, []int{3, 21}, NoGrad().Concat(-1, Const(a), Const(b), Const(c)).Value, 0, 0)
		checkGrad(t, func(g *Graph, v []*Var) *Var { return g.Concat(1, v...) }, a, b, c)
	})
	t.Run("Stack", func(t *testing.T) {
		d := randTensor(4, -1, 1, 3, 7)
		dv := read64(t, d)
		for _, axis := range []int{0, 1, 2, -1} {
			got := NoGrad().Stack(axis, Const(a), Const(d)).Value
			want := make([]float64, 42)
			ax := axis
			if ax < 0 {
				ax += 3
			}
			out := []int{3, 7}
			out = append(out[:ax], append([]int{2}, out[ax:]...)...)
			for i := range want {
				idx := unravel(i, out)
				k := idx[ax]
				rest := append(append([]int{}, idx[:ax]...), idx[ax+1:]...)
				if k == 0 {
					want[i] = av[ravel(rest, []int{3, 7})]
				} else {
					want[i] = dv[ravel(rest, []int{3, 7})]
				}
			}
			requireClose(t, want, out, got, 0, 0)
			checkGrad(t, func(g *Graph, v []*Var) *Var { return g.Stack(axis, v...) }, a, d)
		}
	})
}

func TestSplitChunk(t *testing.T) {
	x := randTensor(5, -1, 1, 3, 13)
	xv := read64(t, x)
	parts := NoGrad().Split(Const(x), 1, 1, 5, 7)
	require.Len(t, parts, 3)
	at := 0
	for _, p := range parts {
		n := p.Value.Dim(1)
		want := refView(xv, []int{3, n}, func(idx []int) int { return idx[0]*13 + idx[1] + at }, 0)
		requireClose(t, want, []int{3, n}, p.Value, 0, 0)
		at += n
	}
	// Use the pieces unevenly so each gets a distinct gradient.
	checkGrad(t, func(g *Graph, v []*Var) *Var {
		p := g.Split(v[0], -1, 1, 5, 7)
		return g.Add(g.Sum(g.Scale(p[0], 3), false), g.Sum(g.Square(p[2]), false))
	}, x)
	for i, p := range NoGrad().Chunk(Const(x), 0, 3) {
		requireClose(t, xv[i*13:(i+1)*13], []int{1, 13}, p.Value, 0, 0)
	}
	checkGrad(t, func(g *Graph, v []*Var) *Var {
		p := g.Chunk(v[0], 0, 3)
		return g.Concat(0, p[2], p[0])
	}, x)
	require.Panics(t, func() { NoGrad().Chunk(Const(x), 1, 2) })
	require.Panics(t, func() { NoGrad().Split(Const(x), 1, 2, 3) })
}
