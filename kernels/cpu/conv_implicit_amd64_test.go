package cpu

import (
	"testing"

	"github.com/stretchr/testify/require"

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
