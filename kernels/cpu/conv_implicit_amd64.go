package cpu

// The indirect kernels of the implicit-GEMM convolution, one per assembly
// GEMM kernel: each shares its GEMM kernel's tile and A packing.
var (
	avx512Indirect = &indirectKernel{kern: avx512Kernel, fn: gemmKernelAVX512x14x32Indirect,
		scatter: convScatterAVX512n, packRows: gemmPackA14RowsAVX512}
	avx2Indirect = &indirectKernel{kern: avx2Kernel, fn: gemmKernelAVX2x6x16Indirect,
		scatter: convScatterAVX2, packRows: gemmPackA6RowsAVX2}
)

// indirectKernels lists the indirect kernels this processor can run, best
// first, in the order of gemmKernels.
func indirectKernels() []*indirectKernel {
	var ks []*indirectKernel
	for _, k := range gemmKernels() {
		switch k {
		case avx512Kernel:
			ks = append(ks, avx512Indirect)
		case avx2Kernel:
			ks = append(ks, avx2Indirect)
		}
	}
	return ks
}

// init enables the implicit-GEMM convolution where the AVX-512 or the AVX2
// GEMM kernel is the one in use.
func init() {
	for _, ik := range indirectKernels() {
		if ik.kern == bestGemmKernel {
			convIndirect = ik
		}
	}
}

// convScatterAVX512n is convScatterAVX512 for the first n ≤ 32 columns.
func convScatterAVX512n(dst *float32, ldd int, src, bias *float32, rows, n int) {
	m := 1<<n - 1
	convScatterAVX512(dst, ldd, src, bias, rows, m&0xffff, m>>16)
}
