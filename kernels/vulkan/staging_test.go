package vulkan

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/kernels/check"
	"sargo/tensor"
)

// openStaging opens a validated backend that keeps storage in unmapped
// device-local memory, as on a discrete GPU.
func openStaging(t *testing.T) *Backend {
	t.Helper()
	b, err := Open(0, Options{Validation: true, ForceStaging: true, BatchLimit: 16})
	skipOrFail(t, err)
	require.Nil(t, b.pool.blocks, "no block before the first allocation")
	t.Cleanup(func() {
		require.NoError(t, b.Close())
		require.Empty(t, b.ValidationMessages(), "validation messages")
	})
	return b
}

func TestStagingPath(t *testing.T) {
	b := openStaging(t)
	require.False(t, b.pool.mapped)
	cb := cpuBackend()
	da, db := randData(37*29, 1), randData(29*41, 2)
	var outs [2][]float32
	for i, be := range []tensor.Backend{b, cb} {
		x := tensor.FromSlice(be, da, 37, 29)
		w := tensor.FromSlice(be, db, 29, 41)
		y := tensor.Empty(be, 37, 41)
		be.MatMul(tensor.MatMulArgs{Batch: 1, M: 37, N: 41, K: 29, A: x.Span(), B: w.Span(), C: y.Span(), Alpha: 1})
		z := tensor.Zeros(be, 41, 37)
		be.Binary(tensor.OpAdd, z.View(), z.View(), y.Transpose(0, 1).View())
		// Overwrite part of an input after it was used: the first matmul
		// must still see the old values.
		be.Write(x.Span().Buf, 5, []float32{9, 9, 9})
		be.MatMul(tensor.MatMulArgs{Batch: 1, M: 37, N: 41, K: 29, A: x.Span(), B: w.Span(), C: y.Span(), Alpha: 1, Beta: 1})
		s := tensor.Empty(be, 41)
		be.Reduce(tensor.ReduceSum, s.Span(), z.Span(), 41, 37, 1)
		outs[i] = append(append(z.Data(), y.Data()...), s.Data()...)
	}
	requireClose(t, outs[1], outs[0], 1e-5, "staging")
	assert.NotNil(t, b.staging)
	assert.Positive(t, b.staging.stats.DriverAllocations)
}

func TestStagingConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("the conformance suite runs once more on the mapped path")
	}
	b := openStaging(t)
	check.Run(t, b)
	require.NoError(t, b.Sync())
}
