package cpu

// init enables the implicit-GEMM convolution where the AVX-512 or the AVX2
// GEMM kernel is the one in use: the indirect kernel shares its tile and A
// packing.
func init() {
	switch bestGemmKernel {
	case avx512Kernel:
		convIndirect = &indirectKernel{kern: avx512Kernel, fn: gemmKernelAVX512x14x32Indirect,
			scatter: convScatterAVX512n, packRows: gemmPackA14RowsAVX512}
	case avx2Kernel:
		convIndirect = &indirectKernel{kern: avx2Kernel, fn: gemmKernelAVX2x6x16Indirect,
			scatter: convScatterAVX2, packRows: gemmPackA6RowsAVX2}
	}
}

// convScatterAVX512n is convScatterAVX512 for the first n ≤ 32 columns.
func convScatterAVX512n(dst *float32, ldd int, src, bias *float32, rows, n int) {
	m := 1<<n - 1
	convScatterAVX512(dst, ldd, src, bias, rows, m&0xffff, m>>16)
}
