package check

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/tensor"
)

func TestHostView(t *testing.T) {
	base := []float32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
	tests := []struct {
		name string
		view tensor.View
		want []float64
	}{
		{"contiguous", tensor.View{Shape: []int{2, 3}, Strides: []int{3, 1}}, []float64{0, 1, 2, 3, 4, 5}},
		{"transpose", tensor.View{Shape: []int{3, 2}, Strides: []int{1, 3}}, []float64{0, 3, 1, 4, 2, 5}},
		{"narrow", tensor.View{Offset: 1, Shape: []int{2, 2}, Strides: []int{4, 1}}, []float64{1, 2, 5, 6}},
		{"expand", tensor.View{Offset: 2, Shape: []int{3, 2}, Strides: []int{0, 1}}, []float64{2, 3, 2, 3, 2, 3}},
		{"scalar", tensor.View{Offset: 11, Shape: []int{}, Strides: []int{}}, []float64{11}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, hostView(base, tc.view))
		})
	}
}

func TestScaleIDs(t *testing.T) {
	tests := []struct {
		sides []int
		want  []float32
	}{
		{[]int{1}, []float32{0}},
		{[]int{1, 2}, []float32{0, 1, 1, 1, 1}},
		{[]int{1, 2, 3}, []float32{0, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2}},
	}
	for _, tc := range tests {
		t.Run(dims(tc.sides), func(t *testing.T) {
			assert.Equal(t, tc.want, scaleIDs(tc.sides...))
		})
	}
}

func TestReferences(t *testing.T) {
	tests := []struct {
		name string
		got  float64
		want float64
	}{
		{"logsumexp", logSumExp64([]float64{1000, 1000}), 1000 + math.Ln2},
		{"gelu_erf(1)", unary64(tensor.OpGeluErf, 1, 0, 0), 0.8413447460685429},
		{"d/dx tanh at 0", unaryDeriv64(tensor.OpTanh, 0, 0, 0), 1},
		{"d/dx x^2.5 at 4", unaryDeriv64(tensor.OpPow, 4, 2.5, 0), 2.5 * 8},
		{"d/dx clamp inside", unaryDeriv64(tensor.OpClamp, 0.1, -0.5, 0.7), 1},
		{"d/dx clamp outside", unaryDeriv64(tensor.OpClamp, 2, -0.5, 0.7), 0},
		{"matmul 2x2", matmul64([]float64{1, 2, 3, 4}, []float64{5, 6, 7, 8}, 1, 2, 2, 2, 0, 0, false, true)[1], 1*7 + 2*8},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.InDelta(t, tc.want, tc.got, 1e-8)
		})
	}
}
