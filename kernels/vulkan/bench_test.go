package vulkan

import (
	"testing"

	"sargo/tensor"
)

func openBench(b *testing.B) *Backend {
	vb, err := Open(0, Options{})
	if err != nil {
		b.Skip(err)
	}
	b.Cleanup(func() { vb.Close() }) //nolint:errcheck
	return vb
}

// BenchmarkLaunch measures the host cost of recording one tiny dispatch
// (batched submits included).
func BenchmarkLaunch(b *testing.B) {
	vb := openBench(b)
	x := tensor.FromSlice(vb, []float32{1}, 1)
	b.ReportAllocs()
	for b.Loop() {
		vb.Unary(tensor.OpNeg, x.View(), x.View(), 0, 0)
	}
	if err := vb.Sync(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkMatMul256 is a 256³ GEMM; it reports GFLOP/s.
func BenchmarkMatMul256(b *testing.B) {
	vb := openBench(b)
	const n = 256
	x := tensor.FromSlice(vb, randData(n*n, 1), n, n)
	y := tensor.Empty(vb, n, n)
	args := tensor.MatMulArgs{Batch: 1, M: n, N: n, K: n, A: x.Span(), B: x.Span(), C: y.Span(), Alpha: 1}
	for b.Loop() {
		vb.MatMul(args)
		if err := vb.Sync(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(2*n*n*n*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
