package check_test

import (
	"testing"

	"sargo/kernels/check"
	"sargo/kernels/cpu"
	"sargo/tensor"
)

// FuzzIDs runs check.FuzzIDs on the CPU backend.
func FuzzIDs(f *testing.F) {
	check.FuzzIDs(f, func(*testing.T) tensor.Backend { return cpu.New() })
}
