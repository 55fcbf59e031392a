package tensor_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	_ "sargo/kernels/cpu"
	"sargo/tensor"
)

func cpu(t *testing.T) tensor.Backend {
	t.Helper()
	b, err := tensor.Open("cpu")
	require.NoError(t, err)
	return b
}

func seq(n int) []float32 {
	d := make([]float32, n)
	for i := range d {
		d[i] = float32(i)
	}
	return d
}

func TestViews(t *testing.T) {
	b := cpu(t)
	x := tensor.FromSlice(b, seq(24), 2, 3, 4)
	cases := []struct {
		name  string
		got   *tensor.Tensor
		shape []int
		data  []float32
	}{
		{"reshape", x.Reshape(4, -1), []int{4, 6}, seq(24)},
		{"transpose", x.Narrow(0, 1, 1).Reshape(3, 4).Transpose(0, 1), []int{4, 3},
			[]float32{12, 16, 20, 13, 17, 21, 14, 18, 22, 15, 19, 23}},
		{"permute", x.Permute(2, 0, 1).Narrow(0, 0, 1), []int{1, 2, 3}, []float32{0, 4, 8, 12, 16, 20}},
		{"narrow", x.Narrow(2, 1, 2).Narrow(1, 2, 1), []int{2, 1, 2}, []float32{9, 10, 21, 22}},
		{"expand", tensor.FromSlice(b, []float32{1, 2}, 2, 1).Expand(3, 2, 2), []int{3, 2, 2},
			[]float32{1, 1, 2, 2, 1, 1, 2, 2, 1, 1, 2, 2}},
		{"unsqueeze", x.Narrow(0, 0, 1).Squeeze(0).Unsqueeze(-1).Narrow(0, 2, 1), []int{1, 4, 1}, []float32{8, 9, 10, 11}},
		{"reshape of a transposed view copies", x.Transpose(1, 2).Reshape(-1).Narrow(0, 0, 5), []int{5}, []float32{0, 4, 8, 1, 5}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.shape, c.got.Shape())
			assert.Equal(t, c.data, c.got.Data())
		})
	}
	assert.True(t, x.IsContiguous())
	assert.False(t, x.Transpose(0, 2).IsContiguous())
	assert.True(t, x.Transpose(0, 2).Contiguous().IsContiguous())
}

func TestViewPanicsNameTheProblem(t *testing.T) {
	b := cpu(t)
	x := tensor.Zeros(b, 2, 3)
	cases := []struct {
		name string
		f    func()
		msg  string
	}{
		{"reshape", func() { x.Reshape(4, 2) }, "cannot reshape [2 3] (6 elements) to [4 2] (8 elements)"},
		{"narrow", func() { x.Narrow(1, 2, 2) }, "[2, 4) out of range for axis 1 of shape [2 3]"},
		{"expand", func() { x.Expand(2, 4) }, "cannot expand [2 3] to [2 4]"},
		{"broadcast", func() { tensor.Add(x, tensor.Zeros(b, 4)) }, "shapes [[2 3] [4]] cannot broadcast"},
		{"matmul", func() { tensor.MatMul(x, x, false, false) }, "inner sizes differ"},
		{"axis", func() { x.Transpose(0, 5) }, "Transpose: axis 5 out of range for rank 2"},
		{"released", func() { y := tensor.Zeros(b, 1); y.Release(); y.Data() }, "used after Release"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				r := recover()
				require.NotNil(t, r, "expected a panic")
				assert.Contains(t, r.(string), c.msg)
			}()
			c.f()
		})
	}
}

func TestBroadcastAndReduce(t *testing.T) {
	b := cpu(t)
	x := tensor.FromSlice(b, seq(6), 2, 3)
	row := tensor.FromSlice(b, []float32{10, 20, 30}, 3)
	col := tensor.FromSlice(b, []float32{1, 2}, 2, 1)
	assert.Equal(t, []float32{10, 21, 32, 13, 24, 35}, tensor.Add(x, row).Data())
	assert.Equal(t, []float32{0, 1, 2, 6, 8, 10}, tensor.Mul(x, col).Data())
	assert.Equal(t, []float32{3, 5, 7}, tensor.Sum(x, false, 0).Data())
	assert.Equal(t, []float32{3, 12}, tensor.Sum(x, false, 1).Data())
	assert.Equal(t, []int{2, 1}, tensor.Sum(x, true, 1).Shape())
	assert.Equal(t, []float32{15}, tensor.Sum(x, false).Data())
	assert.Equal(t, []float32{2.5}, tensor.Mean(x, false).Data())
	assert.Equal(t, []float32{2, 2}, tensor.Argmax(x, 1, false).Data())
	assert.Equal(t, []float32{5}, tensor.Max(x, false).Data())
	g := tensor.Ones(b, 4, 2, 3)
	assert.Equal(t, []float32{8, 8, 8}, tensor.SumTo(g, []int{1, 3}).Data())
}

func TestSumToEachAndAddInto(t *testing.T) {
	b := cpu(t)
	x := tensor.FromSlice(b, []float32{1, 2, 3, 4, 5, 6}, 2, 3)
	m := tensor.FromSlice(b, []float32{2, 2, 2, -1, -1, -1}, 2, 3)
	cases := []struct {
		name string
		to   []int
		sum  []float32 // SumTo(x, to)
		prod []float32 // SumTo(x·m, to)
	}{
		{"rows", []int{3}, []float32{5, 7, 9}, []float32{-2, -1, 0}},
		{"columns", []int{2, 1}, []float32{6, 15}, []float32{12, -15}},
		{"all", []int{1, 1}, []float32{21}, []float32{-3}},
		{"none", []int{2, 3}, []float32{1, 2, 3, 4, 5, 6}, []float32{2, 4, 6, -4, -5, -6}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := tensor.SumToEach(c.to, tensor.SumTerm{G: x}, tensor.SumTerm{G: x, M: m})
			assert.Equal(t, c.to, out[0].Shape())
			assert.Equal(t, c.sum, out[0].Data())
			assert.Equal(t, c.prod, out[1].Data())
			acc := tensor.Ones(b, c.to...)
			tensor.SumToAddInto(acc, tensor.SumTerm{G: x, M: m})
			for i := range c.prod {
				c.prod[i]++
			}
			assert.Equal(t, c.prod, acc.Data())
		})
	}
	assert.PanicsWithValue(t, "tensor: SumToEach: shapes [3 2] and [2 3] differ",
		func() { tensor.SumToEach([]int{3}, tensor.SumTerm{G: x}, tensor.SumTerm{G: x.Transpose(0, 1)}) })
	assert.PanicsWithValue(t, "tensor: SumToEach: cannot sum [2 3] to [2]",
		func() { tensor.SumToEach([]int{2}, tensor.SumTerm{G: x}) })
	assert.PanicsWithValue(t, "tensor: SumToAddInto: dst [3 2] is not a whole, contiguous tensor",
		func() { tensor.SumToAddInto(tensor.Zeros(b, 2, 3).Transpose(0, 1), tensor.SumTerm{G: x}) })
}

func TestMatMulTransposedViews(t *testing.T) {
	b := cpu(t)
	a := tensor.FromSlice(b, []float32{1, 2, 3, 4, 5, 6}, 2, 3)
	w := tensor.FromSlice(b, []float32{1, 0, 1, 0, 1, 1}, 2, 3)
	want := []float32{4, 5, 10, 11}
	assert.Equal(t, want, tensor.MatMul(a, w, false, true).Data())
	assert.Equal(t, want, tensor.MatMul(a, w.Transpose(0, 1), false, false).Data())
	assert.Equal(t, want, tensor.MatMul(a.Transpose(0, 1), w, true, true).Data())
	batched := tensor.MatMul(tensor.Stack(0, a, a, a), w, false, true)
	assert.Equal(t, []int{3, 2, 2}, batched.Shape())
	assert.Equal(t, append(append(append([]float32{}, want...), want...), want...), batched.Data())
}

func TestMatMulAddInto(t *testing.T) {
	b := cpu(t)
	a := tensor.FromSlice(b, []float32{1, 2, 3, 4, 5, 6}, 2, 3)
	w := tensor.FromSlice(b, []float32{1, 0, 1, 0, 1, 1}, 2, 3)
	cases := []struct {
		name   string
		a, b   *tensor.Tensor
		ta, tb bool
	}{
		{"NT", a, w, false, true},
		{"NN on a transposed view", a, w.Transpose(0, 1), false, false},
		{"TT", a.Transpose(0, 1), w, true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			acc := tensor.FromSlice(b, []float32{1, -1, 0.5, 2}, 2, 2)
			tensor.MatMulAddInto(acc, c.a, c.b, c.ta, c.tb)
			assert.Equal(t, []float32{5, 4, 10.5, 13}, acc.Data())
		})
	}
	assert.PanicsWithValue(t, "tensor: MatMulAddInto: a [2 3] (transA=false) × b [2 3] (transB=true) does not fit c [2 3]",
		func() { tensor.MatMulAddInto(tensor.Zeros(b, 2, 3), a, w, false, true) })
}

func TestConcatSplitPad(t *testing.T) {
	b := cpu(t)
	x := tensor.FromSlice(b, seq(4), 2, 2)
	y := tensor.FromSlice(b, []float32{9, 9}, 2, 1)
	c := tensor.Concat(1, x, y)
	assert.Equal(t, []float32{0, 1, 9, 2, 3, 9}, c.Data())
	parts := tensor.Split(c, 1, 2, 1)
	assert.Equal(t, []float32{0, 1, 2, 3}, parts[0].Data())
	assert.Equal(t, []float32{9, 9}, parts[1].Data())
	p := tensor.Pad(x, []int{1, 0}, []int{0, 1}, -1)
	assert.Equal(t, []int{3, 3}, p.Shape())
	assert.Equal(t, []float32{-1, -1, -1, 0, 1, -1, 2, 3, -1}, p.Data())
	s := tensor.Stack(1, x, x)
	assert.Equal(t, []int{2, 2, 2}, s.Shape())
	assert.Equal(t, []float32{0, 1, 0, 1, 2, 3, 2, 3}, s.Data())
}

func TestRandomIsReproducible(t *testing.T) {
	b := cpu(t)
	a := tensor.Randn(b, 5, 100, 3, 7).Data()
	assert.Equal(t, a, tensor.Randn(b, 5, 100, 3, 7).Data())
	assert.Equal(t, tensor.PhiloxNormal(5, 100+4), a[4])
	assert.NotEqual(t, a, tensor.Randn(b, 5, 0, 3, 7).Data())
	u := tensor.Rand(b, 1, 0, 10).Data()
	assert.Equal(t, tensor.PhiloxUniform(1, 9), u[9])
}

func TestRegistry(t *testing.T) {
	_, err := tensor.Open("tpu")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown device "tpu"`)
	_, err = tensor.Open("cpu:x")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not a non-negative integer")
	_, err = tensor.Open("cpu:1")
	require.Error(t, err)
	t.Setenv("SARGO_DEVICE", "cpu")
	d, err := tensor.Open("")
	require.NoError(t, err)
	assert.Equal(t, "cpu", d.Name())
}

func TestRowLayout(t *testing.T) {
	b := cpu(t)
	tests := []struct {
		name string
		view func(*tensor.Tensor) *tensor.Tensor
		want tensor.RowLayout
		ok   bool
	}{
		{"contiguous", func(x *tensor.Tensor) *tensor.Tensor { return x }, tensor.ContiguousRows(2*7*3*2, 8), true},
		{"qkv piece", func(x *tensor.Tensor) *tensor.Tensor { return x.Permute(2, 0, 3, 1, 4).Narrow(0, 1, 1).Squeeze(0) },
			tensor.RowLayout{Dims: [3]int{2, 2, 7}, Strides: [3]int{336, 8, 48}}, true},
		{"narrowed rows", func(x *tensor.Tensor) *tensor.Tensor { return x.Narrow(4, 2, 5) },
			tensor.RowLayout{Dims: [3]int{1, 1, 84}, Strides: [3]int{0, 0, 8}}, true},
		{"four strided axes", func(x *tensor.Tensor) *tensor.Tensor { return x.Permute(1, 0, 3, 2, 4) }, tensor.RowLayout{}, false},
		{"strided last axis", func(x *tensor.Tensor) *tensor.Tensor { return x.Transpose(3, 4) }, tensor.RowLayout{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := tensor.Zeros(b, 2, 7, 3, 2, 8)
			defer x.Release()
			got, ok := tensor.RowLayoutOf(tc.view(x))
			require.Equal(t, tc.ok, ok)
			if ok {
				assert.Equal(t, tc.want, got)
			}
		})
	}
}
