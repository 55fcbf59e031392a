//go:build opengl && cgo

package opengl

import (
	"testing"

	"github.com/stretchr/testify/require"

	"sargo/kernels/check"
)

// TestConformance runs the backend-independent conformance suite against
// an OpenGL context with KHR_debug output on.
func TestConformance(t *testing.T) {
	b := openDebug(t, Options{})
	check.Run(t, b)
	require.NoError(t, b.Sync())
}
