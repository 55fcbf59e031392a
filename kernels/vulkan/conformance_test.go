package vulkan

import (
	"testing"

	"github.com/stretchr/testify/require"

	"sargo/kernels/check"
)

// TestConformance runs the backend-independent conformance suite against
// a validated Vulkan device, then checks that every pipeline it created is
// listed by gpu.Variants.
func TestConformance(t *testing.T) {
	b := openValidated(t)
	check.Run(t, b)
	require.NoError(t, b.Sync())
	requireVariantsListed(t, b)
}
