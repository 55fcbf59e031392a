package nn

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/autograd"
	"sargo/tensor"
)

func TestLayerShapesAndGrads(t *testing.T) {
	in := NewInit(dev(), 3)
	gn, err := NewGroupNorm(in, 2, 4, 1e-5)
	require.NoError(t, err)
	lin := NewLinear(in, 3, 5, true)
	ln := NewLayerNorm(in, 6, 1e-5, true)
	mlp := NewMLP(in, 4, 8)
	conv := NewConv2d(in, 2, 3, 3, 1, 1, true)
	tests := []struct {
		name  string
		m     Module
		input *tensor.Tensor
		fwd   func(g *autograd.Graph, x *autograd.Var) *autograd.Var
		want  []int
	}{
		{"linear", lin, randT(1, 1, 2, 4, 3), func(g *autograd.Graph, x *autograd.Var) *autograd.Var { return lin.Forward(g, x) }, []int{2, 4, 5}},
		{"layernorm", ln, randT(2, 1, 3, 6), func(g *autograd.Graph, x *autograd.Var) *autograd.Var { return ln.Forward(g, x) }, []int{3, 6}},
		{"groupnorm", gn, randT(3, 1, 2, 4, 3, 3), func(g *autograd.Graph, x *autograd.Var) *autograd.Var { return gn.Forward(g, x) }, []int{2, 4, 3, 3}},
		{"mlp", mlp, randT(4, 1, 2, 3, 4), func(g *autograd.Graph, x *autograd.Var) *autograd.Var { return mlp.Forward(g, x) }, []int{2, 3, 4}},
		{"conv", conv, randT(5, 1, 1, 2, 4, 4), func(g *autograd.Graph, x *autograd.Var) *autograd.Var { return conv.Forward(g, x) }, []int{1, 3, 4, 4}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			y := tc.fwd(nil, autograd.Const(tc.input))
			assert.Equal(t, tc.want, y.Shape())
			checkModuleGrad(t, tc.m, []*tensor.Tensor{tc.input}, func(g *autograd.Graph, xs []*autograd.Var) *autograd.Var {
				return tc.fwd(g, xs[0])
			})
		})
	}
}

func TestEmbedding(t *testing.T) {
	in := NewInit(dev(), 4)
	e := NewEmbedding(in, 5, 3, DefaultInitStd)
	ids := tensor.FromSlice(dev(), []float32{4, 0, 4, 2}, 2, 2)
	y := e.Forward(nil, ids)
	assert.Equal(t, []int{2, 2, 3}, y.Shape())
	w := e.Weight.Value.Data()
	assert.Equal(t, w[12:15], y.Value.Data()[0:3])
	checkModuleGrad(t, e, nil, func(g *autograd.Graph, _ []*autograd.Var) *autograd.Var { return e.Forward(g, ids) })
}

func TestLinearInitStatistics(t *testing.T) {
	l := NewLinear(NewInit(dev(), 9), 64, 256, true)
	w := l.Weight.Value.Data()
	var s, s2 float64
	for _, v := range w {
		s += float64(v)
		s2 += float64(v) * float64(v)
	}
	n := float64(len(w))
	assert.InDelta(t, 0, s/n, 1e-3)
	assert.InDelta(t, 0.02, math.Sqrt(s2/n), 1e-3)
	assert.Equal(t, make([]float32, 256), l.Bias.Value.Data())
}

func TestDropout(t *testing.T) {
	x := tensor.Ones(dev(), 1000)
	eval := Dropout{P: 0.3}
	assert.Equal(t, x.Data(), eval.Forward(nil, autograd.Const(x), 0).Value.Data())
	train := Dropout{P: 0.3, Train: true, Seed: 5}
	y := train.Forward(nil, autograd.Const(x), 0).Value.Data()
	zeros := 0
	for _, v := range y {
		if v == 0 {
			zeros++
		} else {
			assert.InDelta(t, 1/0.7, v, 1e-6)
		}
	}
	assert.InDelta(t, 300, zeros, 60)
}

func TestDropPath(t *testing.T) {
	x := tensor.Ones(dev(), 64, 2, 3)
	tests := []struct {
		name  string
		d     DropPath
		check func(t *testing.T, y []float32)
	}{
		{"eval is identity", DropPath{P: 0.5}, func(t *testing.T, y []float32) { assert.Equal(t, x.Data(), y) }},
		{"train drops whole samples", DropPath{P: 0.5, Train: true, Seed: 3}, func(t *testing.T, y []float32) {
			kept := 0
			for b := range 64 {
				row := y[b*6 : b*6+6]
				for _, v := range row {
					assert.Equal(t, row[0], v, "one decision per sample")
				}
				assert.Contains(t, []float32{0, 2}, row[0])
				if row[0] != 0 {
					kept++
				}
			}
			assert.Greater(t, kept, 16)
			assert.Less(t, kept, 48)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.check(t, tc.d.Forward(nil, autograd.Const(x), 0).Value.Data())
		})
	}
}
