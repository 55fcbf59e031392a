//go:build opengl && cgo

package opengl

import (
	"testing"

	"sargo/tensor"
)

func openBench(b *testing.B) *Backend {
	gb, err := Open(0, Options{})
	if err != nil {
		b.Skip(err)
	}
	b.Cleanup(func() { gb.Close() }) //nolint:errcheck
	return gb
}

// BenchmarkLaunch measures recording one tiny dispatch, batch hand-offs
// and (when the GL thread falls behind) waiting for it included.
func BenchmarkLaunch(b *testing.B) {
	gb := openBench(b)
	x := tensor.FromSlice(gb, []float32{1}, 1)
	b.ReportAllocs()
	for b.Loop() {
		gb.Unary(tensor.OpNeg, x.View(), x.View(), 0, 0)
	}
	if err := gb.Sync(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkMatMul256 is a 256³ GEMM; it reports GFLOP/s.
func BenchmarkMatMul256(b *testing.B) {
	gb := openBench(b)
	const n = 256
	x := tensor.FromSlice(gb, randData(n*n, 1), n, n)
	y := tensor.Empty(gb, n, n)
	args := tensor.MatMulArgs{Batch: 1, M: n, N: n, K: n, A: x.Span(), B: x.Span(), C: y.Span(), Alpha: 1}
	for b.Loop() {
		gb.MatMul(args)
		if err := gb.Sync(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(2*n*n*n*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
