package autograd

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOnGradReady checks that each Param is reported once, after its
// gradient is complete, in the order its last contribution arrives: the
// output layer first, and a Param read both early and late on the tape
// only after its early reader.
func TestOnGradReady(t *testing.T) {
	x := Const(tens([]float64{0.5, -1, 2, 0.25}, 1, 4))
	w1 := Param(tens(randVals(1, 12, -1, 1), 4, 3)).SetName("w1")
	w2 := Param(tens(randVals(2, 6, -1, 1), 3, 2)).SetName("w2")
	b := Param(tens([]float64{0.1, -0.2}, 1, 2)).SetName("b")
	unused := Param(tens([]float64{1}, 1)).SetName("unused")
	shared := Param(tens([]float64{0.3, 0.7, -0.1}, 1, 3)).SetName("shared")

	g := NewGraph(dev())
	defer g.Close()
	// shared is read by the second operation and by the last ones.
	h := g.Tanh(g.Add(g.MatMul(x, w1, false, false), shared))
	y := g.Add(g.MatMul(h, w2, false, false), b)
	loss := g.Add(g.Sum(g.Mul(y, y), false), g.Sum(g.Mul(shared, shared), false))

	var order []string
	seen := map[string][]float32{}
	g.OnGradReady(func(v *Var) {
		order = append(order, v.Name)
		require.NotNil(t, v.Grad, v.Name)
		seen[v.Name] = v.Grad.Data()
	})
	require.NoError(t, g.Backward(loss))

	assert.Equal(t, []string{"b", "w2", "shared", "w1"}, order)
	for _, p := range []*Var{w1, w2, b, shared} {
		assert.Equal(t, p.Grad.Data(), seen[p.Name], "%s: the reported gradient is the final one", p.Name)
	}
	assert.Nil(t, unused.Grad)
}
