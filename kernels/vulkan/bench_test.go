package vulkan

import (
	"runtime"
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
// (batched submits included). Its wall time per op includes waiting for
// the device (on a CPU driver, the device's work competes for the same
// processors); host-ns/op is the processor time of the launching thread
// alone per dispatch (Linux), the host path's own cost.
func BenchmarkLaunch(b *testing.B) {
	vb := openBench(b)
	x := tensor.FromSlice(vb, []float32{1}, 1)
	b.ReportAllocs()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu0 := threadCPU()
	for b.Loop() {
		vb.Unary(tensor.OpNeg, x.View(), x.View(), 0, 0)
	}
	if cpu0 > 0 {
		b.ReportMetric(float64(threadCPU()-cpu0)/float64(b.N), "host-ns/op")
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
