//go:build !amd64

package cpu

import "sargo/tensor"

// Off amd64 there are no vector row or binary kernels: each of these
// reports false and its caller runs the scalar loop.

// expShiftVector reports that there is no vector expShiftRow.
func expShiftVector(d, x []float32, shift float32) (float64, bool) { return 0, false }

// expSumVector reports that there is no vector expSumRow.
func expSumVector(x []float32, shift float32) (float64, bool) { return 0, false }

// rowMaxVector reports that there is no vector rowMax.
func rowMaxVector(row []float32) (float32, bool) { return 0, false }

// scaleShiftVector reports that there is no vector scaleShiftRow.
func scaleShiftVector(d, x []float32, a, shift float32) bool { return false }

// binaryVector reports that there are no vector binary kernels.
func binaryVector(op tensor.BinaryOp, d, x, y []float32) bool { return false }

// addWidenVector reports that there is no vector widening add.
func addWidenVector(acc []float64, x []float32) int { return 0 }

// normSumsVector has no vector kernel here.
func normSumsVector(x []float32, k float64) (s1, s2 float64, done int) { return 0, 0, 0 }

// affineVector has no vector kernel here.
func affineVector(out, x []float32, mu, scale, shift float64) int { return 0 }

// gradSumsVector has no vector kernel here.
func gradSumsVector(g, x []float32, mu float64) (sg, sgx float64, done int) { return 0, 0, 0 }

// gradRowVector has no vector kernel here.
func gradRowVector(dx, g, x []float32, mu, gw, c0, k float64) int { return 0 }
