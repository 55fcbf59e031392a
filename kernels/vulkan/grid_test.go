package vulkan

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"sargo/tensor"
)

// TestMatMulBeyondGroupLimit multiplies [1, 2] by [2, 2^23]: one workgroup
// per tile of output columns is at least 65,536 groups along x, past
// lavapipe's maxComputeWorkGroupCount of 65,535, so sg_dispatch splits the
// grid with vkCmdDispatchBase (matmul.comp does not loop over its column
// tiles). Every column, the last tiles included, must be right.
func TestMatMulBeyondGroupLimit(t *testing.T) {
	if os.Getenv("SARGO_LONG") != "1" {
		t.Skip("65,536 workgroups take minutes on lavapipe: set SARGO_LONG=1")
	}
	b := openValidated(t)
	const n = 1 << 23
	require.Greater(t, uint64(n/128), uint64(b.Info().MaxWorkgroupCount[0]), "the grid must pass the device's limit")
	bd := make([]float32, 2*n)
	for j := range n {
		bd[j], bd[n+j] = float32(j%7), float32(j%5)
	}
	s := tensor.NewScope(b)
	defer s.Close()
	x := tensor.FromSlice(b, []float32{1, 2}, 1, 2)
	w := tensor.FromSlice(b, bd, 2, n)
	y := tensor.Empty(b, 1, n)
	b.MatMul(tensor.MatMulArgs{Batch: 1, M: 1, N: n, K: 2, A: x.Span(), B: w.Span(), C: y.Span(), Alpha: 1})
	got, err := y.Read()
	require.NoError(t, err)
	for j, v := range got {
		if want := float32(j%7 + 2*(j%5)); v != want {
			t.Fatalf("column %d of %d: got %v, want %v", j, n, v, want)
		}
	}
}
