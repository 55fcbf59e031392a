package cpu

// init enables the implicit-GEMM convolution where the AVX-512 GEMM kernel
// is the one in use: the indirect kernel shares its tile and A packing.
func init() {
	if bestGemmKernel == avx512Kernel {
		convIndirect = &indirectKernel{kern: avx512Kernel, fn: gemmKernelAVX512x14x32Indirect,
			scatter: convScatterAVX512, packRows: gemmPackA14RowsAVX512}
	}
}
