//go:build !amd64

package cpu

// gemmKernels lists the micro-kernels this processor can run, best first.
func gemmKernels() []*gemmKernel { return []*gemmKernel{goKernel} }
