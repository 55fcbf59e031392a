package cpu

import "sargo/tensor"

// gemmKernelName names the GEMM micro-kernel in use.
func gemmKernelName() string { return "naive" }

// MatMul is a straightforward batched GEMM, to be replaced by the packed one.
func (b *Backend) MatMul(a tensor.MatMulArgs) {
	A, B, C := data(a.A.Buf), data(a.B.Buf), data(a.C.Buf)
	for bt := 0; bt < a.Batch; bt++ {
		oa, ob, oc := a.A.Offset+bt*a.StrideA, a.B.Offset+bt*a.StrideB, a.C.Offset+bt*a.StrideC
		b.parallelFor(a.M, 1, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				for j := 0; j < a.N; j++ {
					var s float32
					for k := 0; k < a.K; k++ {
						var x, y float32
						if a.TransA {
							x = A[oa+k*a.M+i]
						} else {
							x = A[oa+i*a.K+k]
						}
						if a.TransB {
							y = B[ob+j*a.K+k]
						} else {
							y = B[ob+k*a.N+j]
						}
						s += x * y
					}
					c := &C[oc+i*a.N+j]
					*c = a.Alpha*s + a.Beta*(*c)
				}
			}
		})
	}
}
