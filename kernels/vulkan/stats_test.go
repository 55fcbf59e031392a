package vulkan

import (
	"errors"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"sargo/kernels/gpu"
)

// TestShaderStats compiles every pipeline variant the backend can launch
// with AMD's shader compiler on Mesa's RADV null device, for each family
// in SARGO_SHADER_STATS (comma-separated RADV_FORCE_FAMILY names, such as
// navi21,gfx1100) in wave64 and wave32, and fails on any spilled register,
// any scratch memory and any occupancy below the target's floor.
func TestShaderStats(t *testing.T) {
	families := os.Getenv("SARGO_SHADER_STATS")
	if families == "" {
		t.Skip("SARGO_SHADER_STATS is not set (.ci/run sets navi21,gfx1100)")
	}
	if _, err := RADVManifest(); errors.Is(err, ErrNoRADV) {
		t.Skipf("RADV's null device is unavailable: %v", err)
	}
	targets, err := RADVTargets(families)
	require.NoError(t, err, "SARGO_SHADER_STATS")
	for _, target := range targets {
		t.Run(target.String(), func(t *testing.T) {
			rep, err := RADVStats(target)
			require.NoError(t, err)
			require.NotEmpty(t, rep.Pipelines)
			// The subgroup kernels require 32-wide subgroups (the
			// device's range is 32-64) in both modes; the others run at
			// the target's wave size.
			waves := 0
			for _, p := range rep.Pipelines {
				if p.SubgroupSize == target.WaveSize() {
					waves++
				}
			}
			require.Greater(t, waves, len(rep.Pipelines)/2, "pipelines compiled for %d-wide waves", target.WaveSize())
			for _, p := range rep.Pipelines {
				problems := p.Problems(target.OccupancyFloor())
				if len(problems) == 0 {
					continue
				}
				t.Errorf("%s (%d VGPRs, %d waves/SIMD): %v", p.Name(), p.VGPRs, p.WavesPerSIMD, problems)
			}
		})
	}
}

// requireVariantsListed checks that every pipeline b has created is one
// gpu.Variants lists for its device, so the shader statistics compile
// what actually runs.
func requireVariantsListed(t *testing.T, b *Backend) {
	t.Helper()
	vs := gpu.Variants(b.info.features())
	b.mu.Lock()
	defer b.mu.Unlock()
	for k := range b.pipes.byKey {
		_, ok := gpu.FindVariant(vs, k.name, k.spec[:k.nspec], k.nbuf)
		require.Truef(t, ok, "pipeline %s spec %v with %d bindings is launched but not listed by gpu.Variants", k.name, k.spec[:k.nspec], k.nbuf)
	}
}
