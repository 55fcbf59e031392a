package nn

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/autograd"
	"sargo/tensor"
)

func TestConvBlocks(t *testing.T) {
	in := NewInit(dev(), 21)
	same, err := NewResBlock(in, 4, 4, 2, 1e-6)
	require.NoError(t, err)
	wider, err := NewResBlock(in, 4, 6, 2, 1e-6)
	require.NoError(t, err)
	down, up := NewDownsample(in, 3), NewUpsample(in, 3)
	tests := []struct {
		name string
		m    interface {
			Module
			Forward(*autograd.Graph, *autograd.Var) *autograd.Var
		}
		input []int
		want  []int
	}{
		{"resblock", same, []int{1, 4, 3, 3}, []int{1, 4, 3, 3}},
		{"resblock shortcut", wider, []int{1, 4, 3, 3}, []int{1, 6, 3, 3}},
		{"downsample", down, []int{1, 3, 4, 4}, []int{1, 3, 2, 2}},
		{"downsample odd", down, []int{1, 3, 5, 5}, []int{1, 3, 2, 2}},
		{"upsample", up, []int{1, 3, 2, 2}, []int{1, 3, 4, 4}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := randT(uint64(i), 1, tc.input...)
			assert.Equal(t, tc.want, tc.m.Forward(nil, autograd.Const(x)).Shape())
			checkModuleGrad(t, tc.m, []*tensor.Tensor{x}, func(g *autograd.Graph, xs []*autograd.Var) *autograd.Var {
				return tc.m.Forward(g, xs[0])
			})
		})
	}
}

func TestNormGroups(t *testing.T) {
	tests := []struct{ c, want int }{{128, 32}, {64, 32}, {16, 16}, {48, 24}, {7, 7}, {1, 1}}
	for _, tc := range tests {
		assert.Equal(t, tc.want, normGroups(tc.c), "channels %d", tc.c)
	}
	_, err := NewGroupNorm(NewInit(dev(), 1), 3, 4, 1e-6)
	assert.ErrorContains(t, err, "4 channels do not split into 3 groups")
}
