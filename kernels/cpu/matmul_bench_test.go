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

// BenchmarkMatMulBlocking sweeps the cache blocking of the best kernel over
// square and model-shaped products (the head backward's NN and TN), on all
// cores, to choose kc and mc for this processor.
func BenchmarkMatMulBlocking(b *testing.B) {
	be := New()
	shapes := []struct {
		name           string
		m, n, k        int
		transA, transB bool
	}{
		{"sq2048", 2048, 2048, 2048, false, false},
		{"headNT", 5440, 4096, 384, false, true},
		{"dXNN", 5440, 384, 4096, false, false},
		{"dWTN", 4096, 384, 5440, true, false},
	}
	for _, kc := range []int{256, 512, 768} {
		for _, mcPanels := range []int{12, 24, 48} {
			kern := *bestGemmKernel
			kern.kc, kern.mc = kc, mcPanels*kern.mr
			for _, s := range shapes {
				name := fmt.Sprintf("kc=%d/mc=%d/%s", kc, kern.mc, s.name)
				b.Run(name, func(b *testing.B) {
					benchMatMulShape(b, be, &kern, s.m, s.n, s.k, s.transA, s.transB)
				})
			}
		}
	}
}

// benchMatMulShape times one M×N×K product with the given transposes.
func benchMatMulShape(b *testing.B, be *Backend, kern *gemmKernel, m, n, k int, transA, transB bool) {
	rng := rand.New(rand.NewPCG(1, 1))
	fill := func(size int) *Buffer {
		v := make([]float32, size)
		for i := range v {
			v[i] = rng.Float32()*2 - 1
		}
		return &Buffer{Data: v}
	}
	args := tensor.MatMulArgs{
		Batch: 1, M: m, N: n, K: k, TransA: transA, TransB: transB,
		A: tensor.Span{Buf: fill(m * k)}, B: tensor.Span{Buf: fill(k * n)}, C: tensor.Span{Buf: fill(m * n)},
		Alpha: 1,
	}
	be.matmulWith(args, kern)
	for b.Loop() {
		be.matmulWith(args, kern)
	}
	flops := 2 * float64(m) * float64(n) * float64(k) * float64(b.N)
	b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
