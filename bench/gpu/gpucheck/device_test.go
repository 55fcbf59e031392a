package main

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/bench"
	"sargo/kernels/vulkan"
	"sargo/tensor"
)

// openOrSkip skips the test without a Vulkan device, unless
// SARGO_REQUIRE_VULKAN=1.
func openOrSkip(t *testing.T, opt vulkan.Options) *vulkan.Backend {
	t.Helper()
	b, err := vulkan.Open(0, opt)
	if err != nil && os.Getenv("SARGO_REQUIRE_VULKAN") != "1" && (errors.Is(err, vulkan.ErrNoLoader) || errors.Is(err, vulkan.ErrNoDevice)) {
		t.Skipf("no Vulkan: %v", err)
	}
	require.NoError(t, err)
	return b
}

// TestParseRealProfileTable parses the table the Vulkan backend prints,
// so that a change of its format fails here rather than on a GPU machine.
func TestParseRealProfileTable(t *testing.T) {
	var table bytes.Buffer
	b := openOrSkip(t, vulkan.Options{Profile: true, ProfileOutput: &table})
	x := tensor.FromSlice(b, []float32{1, 2, 3, 4}, 4)
	for range 3 {
		b.Unary(tensor.OpExp, x.View(), x.View(), 0, 0)
	}
	require.NoError(t, b.Sync())
	require.NoError(t, b.Close())
	if table.Len() == 0 {
		t.Skip("the device has no compute timestamps")
	}
	totals, err := parseProfileTable(table.String())
	require.NoError(t, err, table.String())
	require.Contains(t, totals, "unary", table.String())
	assert.Equal(t, 3, totals["unary"].Count)
	assert.GreaterOrEqual(t, totals["unary"].Ms, 0.0)
}

// TestProfileSteps profiles the smallest GPU matmul case: the differenced
// totals must come to whole dispatches per step, and the times must add
// up.
func TestProfileSteps(t *testing.T) {
	openOrSkip(t, vulkan.Options{}).Close() //nolint:errcheck // only probes for a device
	suites, err := bench.Lookup("matmul")
	require.NoError(t, err)
	cases, err := suites[0].List(true, true)
	require.NoError(t, err)
	p := profiler{index: 0, suite: suites[0], quick: true, gpuShapes: true}
	r := p.profile(context.Background(), cases[0], 3)
	if r.Error == "vulkan:0 wrote no profile: it has no compute timestamps" {
		t.Skip(r.Error)
	}
	require.Empty(t, r.Error)
	assert.Equal(t, cases[0].Name, r.Case)
	assert.Equal(t, 3, r.Steps)
	assert.GreaterOrEqual(t, r.Dispatches, 1.0)
	assert.InDelta(t, math.Round(r.Dispatches), r.Dispatches, 1e-9, "whole dispatches per step")
	require.NotEmpty(t, r.Shaders)
	var ms, n float64
	for _, s := range r.Shaders {
		ms += s.Ms
		n += s.Dispatches
	}
	assert.InDelta(t, r.GPUMs, ms, 1e-9)
	assert.InDelta(t, r.Dispatches, n, 1e-9)
	assert.Greater(t, r.WallMs, 0.0)
	assert.InDelta(t, math.Max(0, r.WallMs-r.GPUMs), r.IdleMs, 1e-9)
	assert.Contains(t, r.Device, "Vulkan")
}
