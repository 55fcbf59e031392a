package cpu

import (
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/cpu"

	"sargo/tensor"
)

// TestConv2dIndirectNarrower runs the implicit-path convolution tests again
// with each narrower indirect kernel the processor also runs (the AVX2
// kernel on an AVX-512 machine), which the other tests do not reach there.
func TestConv2dIndirectNarrower(t *testing.T) {
	ks := indirectKernels()
	if len(ks) < 2 {
		t.Skip("the other tests already run the only indirect kernel of this machine")
	}
	for _, ik := range ks[1:] {
		t.Run(ik.kern.name, func(t *testing.T) {
			defer func(k *indirectKernel) { convIndirect = k }(convIndirect)
			convIndirect = ik
			t.Run("implicit", func(t *testing.T) {
				testConv2d(t, func(tensor.ConvArgs) *Backend { return &Backend{workers: 2, convPath: 1} })
			})
			t.Run("deterministic", TestConv2dImplicitDeterministic)
		})
	}
}

// TestIndirectKernelsListed checks that the implicit path uses the indirect
// kernel of the GEMM kernel in use, where there is one.
func TestIndirectKernelsListed(t *testing.T) {
	for _, ik := range indirectKernels() {
		if ik.kern == bestGemmKernel {
			require.Same(t, ik, convIndirect, "the implicit path must use the %s indirect kernel", ik.kern.name)
			return
		}
	}
	require.Nil(t, convIndirect, "no indirect kernel matches %s", bestGemmKernel.name)
}

// TestConvScatterAVX2 checks the AVX2 tile scatter for every column count
// and a few row counts: the first n columns of each row plus its bias, and
// nothing else of the destination written.
func TestConvScatterAVX2(t *testing.T) {
	if !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		t.Skip("no AVX2 and FMA on this processor")
	}
	const ldd = 21
	src := make([]float32, 6*16)
	for i := range src {
		src[i] = float32(i) + 0.5
	}
	bias := []float32{-1, 2, -3, 4, -5, 6}
	for rows := 0; rows <= 6; rows++ {
		for n := 0; n <= 16; n++ {
			dst := make([]float32, 6*ldd)
			for i := range dst {
				dst[i] = -100
			}
			convScatterAVX2(&dst[0], ldd, &src[0], &bias[0], rows, n)
			for r := range 6 {
				for i := range ldd {
					want := float32(-100)
					if r < rows && i < n {
						want = src[16*r+i] + bias[r]
					}
					require.Equal(t, want, dst[r*ldd+i], "rows %d, n %d: dst[%d][%d]", rows, n, r, i)
				}
			}
		}
	}
}
