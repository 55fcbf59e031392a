//go:build !amd64

package cpu

import "sargo/tensor"

// activationVector reports that there are no vector activation kernels
// off amd64; the callers use activationScalar.
func activationVector(op tensor.UnaryOp, d, x []float32) bool { return false }

// activationBackwardVector reports that there are no vector activation
// kernels off amd64; the callers use activationBackwardScalar.
func activationBackwardVector(op tensor.UnaryOp, dx, x, gy []float32) bool { return false }
