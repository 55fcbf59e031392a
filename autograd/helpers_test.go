package autograd

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	_ "sargo/kernels/cpu"
	"sargo/tensor"
)

// dev is the device the tests run on.
func dev() tensor.Backend { return tensor.MustOpen("cpu") }

// numel is the number of elements of shape.
func numel(shape []int) int {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return n
}

// randVals returns n values uniform in [lo, hi) from a generator seeded
// with seed, rounded to float32 so that references see the stored inputs.
func randVals(seed uint64, n int, lo, hi float64) []float64 {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]float64, n)
	for i := range out {
		out[i] = float64(float32(lo + (hi-lo)*r.Float64()))
	}
	return out
}

// awayFromZero returns n values with |v| in [0.1, 1.1) and random sign,
// for functions with a kink at 0.
func awayFromZero(seed uint64, n int) []float64 {
	v := randVals(seed, n, -1, 1)
	for i, x := range v {
		v[i] = float64(float32(math.Copysign(0.1+math.Abs(x), x)))
	}
	return v
}

// tens makes a tensor on dev from float64 values.
func tens(d []float64, shape ...int) *tensor.Tensor {
	f := make([]float32, len(d))
	for i, v := range d {
		f[i] = float32(v)
	}
	return tensor.FromSlice(dev(), f, shape...)
}

// randTensor is tens(randVals(...)) of the given shape.
func randTensor(seed uint64, lo, hi float64, shape ...int) *tensor.Tensor {
	return tens(randVals(seed, numel(shape), lo, hi), shape...)
}

// read64 reads a tensor into float64.
func read64(t *testing.T, x *tensor.Tensor) []float64 {
	t.Helper()
	d, err := x.Read()
	require.NoError(t, err)
	out := make([]float64, len(d))
	for i, v := range d {
		out[i] = float64(v)
	}
	return out
}

// requireClose checks got's shape and values against a float64 reference
// within atol + rtol·|want|.
func requireClose(t *testing.T, want []float64, wantShape []int, got *tensor.Tensor, atol, rtol float64) {
	t.Helper()
	gotShape := got.Shape()
	require.True(t, slices.Equal(wantShape, gotShape), "shape: want %v got %v", wantShape, gotShape)
	g := read64(t, got)
	require.Len(t, g, len(want))
	for i := range want {
		tol := atol + rtol*math.Abs(want[i])
		require.InDelta(t, want[i], g[i], tol, "element %d: want %v got %v", i, want[i], g[i])
	}
}

// unravel converts a flat row-major index into coordinates of shape.
func unravel(flat int, shape []int) []int {
	idx := make([]int, len(shape))
	for i := len(shape) - 1; i >= 0; i-- {
		if shape[i] > 0 {
			idx[i] = flat % shape[i]
			flat /= shape[i]
		}
	}
	return idx
}

// ravel converts coordinates into a flat row-major index of shape.
func ravel(idx, shape []int) int {
	f := 0
	for i, s := range shape {
		f = f*s + idx[i]
	}
	return f
}

// bcastAt is the flat index of the element of an input of shape in that
// broadcasts to coordinates idx of a larger output.
func bcastAt(idx, in []int) int {
	lead := len(idx) - len(in)
	f := 0
	for i, s := range in {
		c := idx[lead+i]
		if s == 1 {
			c = 0
		}
		f = f*s + c
	}
	return f
}

// checkGrad runs CheckGrad with the default tolerances and requires it to
// pass.
func checkGrad(t *testing.T, f func(g *Graph, xs []*Var) *Var, inputs ...*tensor.Tensor) {
	t.Helper()
	res, err := CheckGrad(f, inputs, CheckOptions{})
	require.NoError(t, err, "max abs %v, max rel %v", res.MaxAbs, res.MaxRel)
}

// newGraph opens a graph on dev that the test closes when it ends.
func newGraph(t testing.TB) *Graph {
	g := NewGraph(dev())
	t.Cleanup(g.Close)
	return g
}
