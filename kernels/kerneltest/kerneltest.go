// Package kerneltest gives tests of the packages above the kernels the
// devices to run on: the CPU, and the first Vulkan device when there is
// one (with SARGO_REQUIRE_VULKAN=1 a missing Vulkan device fails the
// test instead of being left out).
//
// Layering: test support for the packages above the kernels; it imports
// tensor and the CPU and Vulkan backends, and only tests import it.
package kerneltest

import (
	"errors"
	"os"
	"testing"

	_ "sargo/kernels/cpu" // registers "cpu"
	"sargo/kernels/vulkan"
	"sargo/tensor"
)

// Devices returns "cpu" and, when present, "vulkan", opened through the
// registry (so shared with the rest of the test binary).
func Devices(t testing.TB) []tensor.Backend {
	t.Helper()
	out := []tensor.Backend{tensor.MustOpen("cpu")}
	if v := Vulkan(t); v != nil {
		out = append(out, v)
	}
	return out
}

// Vulkan returns the first Vulkan device, or nil when there is none and
// SARGO_REQUIRE_VULKAN is not 1.
func Vulkan(t testing.TB) tensor.Backend {
	t.Helper()
	b, err := tensor.Open("vulkan")
	if err == nil {
		return b
	}
	if os.Getenv("SARGO_REQUIRE_VULKAN") != "1" && (errors.Is(err, vulkan.ErrNoLoader) || errors.Is(err, vulkan.ErrNoDevice)) {
		t.Logf("no Vulkan device: %v", err)
		return nil
	}
	t.Fatalf("open Vulkan: %v", err)
	return nil
}

// Run runs f as a subtest on every device of Devices, named by device.
func Run(t *testing.T, f func(t *testing.T, dev tensor.Backend)) {
	t.Helper()
	for _, dev := range Devices(t) {
		t.Run(dev.Name(), func(t *testing.T) { f(t, dev) })
	}
}
