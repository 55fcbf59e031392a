package main

import (
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"sargo/kernels/check"
	"sargo/kernels/vulkan"
)

// TestConformanceOnDevice runs the conformance suite on the Vulkan device
// SARGO_GPU_DEVICE_INDEX (default 0) as users run it: with the validation
// layer only when SARGO_VULKAN_VALIDATION=1. kernels/vulkan's
// TestConformance always validates; this is its counterpart for
// bench/gpu/run.sh, which sets SARGO_GPU_CONFORMANCE=1 (the CI suite
// already runs the validated one).
func TestConformanceOnDevice(t *testing.T) {
	if os.Getenv("SARGO_GPU_CONFORMANCE") != "1" {
		t.Skip("run by bench/gpu/run.sh (SARGO_GPU_CONFORMANCE=1); kernels/vulkan's TestConformance covers CI")
	}
	index := 0
	if v := os.Getenv("SARGO_GPU_DEVICE_INDEX"); v != "" {
		_, err := fmt.Sscan(v, &index)
		require.NoError(t, err, "SARGO_GPU_DEVICE_INDEX=%q", v)
	}
	b, err := vulkan.Open(index, vulkan.Options{})
	require.NoError(t, err)
	t.Logf("%s, validation layer %v", b.Describe(), os.Getenv("SARGO_VULKAN_VALIDATION") == "1")
	check.Run(t, b)
	require.NoError(t, b.Sync())
	require.NoError(t, b.Close())
	require.Empty(t, b.ValidationMessages(), "validation messages")
}
