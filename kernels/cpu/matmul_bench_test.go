package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"sargo/tensor"
)

// benchMatMul times square n×n×n products and reports GFLOP/s, both per
// wall-clock second and per processor-second used by the whole process.
func benchMatMul(b *testing.B, be *Backend, kern *gemmKernel, n int) {
	rng := rand.New(rand.NewPCG(1, 1))
	fill := func() *Buffer {
		v := make([]float32, n*n)
		for i := range v {
			v[i] = rng.Float32()*2 - 1
		}
		return &Buffer{Data: v}
	}
	args := tensor.MatMulArgs{
		Batch: 1, M: n, N: n, K: n,
		A: tensor.Span{Buf: fill()}, B: tensor.Span{Buf: fill()}, C: tensor.Span{Buf: fill()},
		Alpha: 1,
	}
	be.matmulWith(args, kern)
	cpu0 := processCPUSeconds()
	for b.Loop() {
		be.matmulWith(args, kern)
	}
	flops := 2 * float64(n) * float64(n) * float64(n) * float64(b.N)
	b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if cpu := processCPUSeconds() - cpu0; cpu > 0 {
		b.ReportMetric(flops/cpu/1e9, "GFLOP/cpu-s")
	}
}

// BenchmarkMatMul measures square fp32 products with the default kernel on
// all cores.
func BenchmarkMatMul(b *testing.B) {
	be := New()
	for _, n := range []int{256, 512, 1024, 2048} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) { benchMatMul(b, be, bestGemmKernel, n) })
	}
}

// BenchmarkMatMulKernel compares every micro-kernel this processor supports
// on one core.
func BenchmarkMatMulKernel(b *testing.B) {
	be := &Backend{workers: 1}
	for _, kern := range gemmKernels() {
		b.Run(kern.name, func(b *testing.B) { benchMatMul(b, be, kern, 512) })
	}
}
