package autograd

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestScoped checks that Scoped frees f's temporaries and keeps its
// result in the caller's scope.
func TestScoped(t *testing.T) {
	x := Const(tens([]float64{1, 2, 3}, 3))
	dev := x.Value.Backend()
	before := dev.MemStats()
	var g *Graph
	y := Scoped(x, func(x *Var) *Var { return g.Add(g.Mul(x, x), x) }) // x² is a temporary
	after := dev.MemStats()
	assert.Equal(t, int64(1), after.Live()-before.Live(), "storages live after Scoped: want the result only")
	got, err := y.Value.Read()
	require.NoError(t, err)
	assert.Equal(t, []float32{2, 6, 12}, got)
	y.Value.Release()
}
