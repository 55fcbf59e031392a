package gpu

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCollapse(t *testing.T) {
	cs, cst := make([]int, 4), [][]int{make([]int, 4), make([]int, 4)}
	r := collapse([]int{2, 1, 3, 4}, [][]int{{12, 99, 4, 1}, {0, 5, 0, 1}}, cs, cst)
	require.Equal(t, []int{6, 4}, cs[:r])
	require.Equal(t, [][]int{{4, 1}, {0, 1}}, [][]int{cst[0][:r], cst[1][:r]})
}

// TestEltSpecFlat checks that the elementwise shaders take the FLAT path
// exactly when the views collapse to at most one axis.
func TestEltSpecFlat(t *testing.T) {
	for _, tc := range []struct {
		name    string
		shape   []int
		strides [][]int
		flat    bool
	}{
		{"contiguous", []int{7, 13}, [][]int{{13, 1}, {13, 1}}, true},
		{"broadcast scalar", []int{7, 13}, [][]int{{13, 1}, {0, 0}}, true},
		{"transposed", []int{7, 13}, [][]int{{13, 1}, {1, 7}}, false},
		{"broadcast row", []int{7, 13}, [][]int{{13, 1}, {0, 1}}, false},
	} {
		cst := make([][]int, len(tc.strides))
		for k := range cst {
			cst[k] = make([]int, len(tc.shape))
		}
		r := collapse(tc.shape, tc.strides, make([]int, len(tc.shape)), cst)
		require.Equal(t, tc.flat, eltSpec(3, r <= 1, tunedLocal)[1] == 1, tc.name)
	}
}
