package check_test

import (
	"testing"

	"sargo/kernels/check"
	"sargo/tensor"
)

// TestConformance runs the suite on the CPU backend. Its comparisons with
// the CPU reference are trivially equal; the float64 and property checks
// of every case are what can fail here.
func TestConformance(t *testing.T) {
	check.Run(t, tensor.MustOpen("cpu"))
}
