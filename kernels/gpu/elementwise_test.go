package gpu

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCollapse(t *testing.T) {
	shape, st := collapse([]int{2, 1, 3, 4}, [][]int{{12, 99, 4, 1}, {0, 5, 0, 1}})
	require.Equal(t, []int{6, 4}, shape)
	require.Equal(t, [][]int{{4, 1}, {0, 1}}, st)
}
