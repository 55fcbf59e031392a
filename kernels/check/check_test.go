package check_test

import (
	"testing"

	"sargo/kernels/check"
	"sargo/kernels/cpu"
	"sargo/tensor"
)

// TestConformance runs the suite on the CPU backend. Its comparisons with
// the CPU reference are trivially equal; the float64 and property checks
// of every case are what can fail here.
func TestConformance(t *testing.T) {
	check.Run(t, tensor.MustOpen("cpu"))
}

// TestFaults runs the cases that break the id contract, each on a CPU
// backend of its own.
func TestFaults(t *testing.T) {
	check.RunFaults(t, func(*testing.T) tensor.Backend { return cpu.New() })
}
