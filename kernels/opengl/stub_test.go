//go:build !opengl || !cgo

package opengl

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"sargo/tensor"
)

// TestBuiltWithOpenGL fails when OpenGL is required but this test binary
// was built without it, so CI cannot pass by skipping every OpenGL test.
func TestBuiltWithOpenGL(t *testing.T) {
	_, err := tensor.Open("opengl")
	require.ErrorIs(t, err, ErrNotBuilt)
	if os.Getenv("SARGO_REQUIRE_OPENGL") == "1" {
		t.Fatalf("SARGO_REQUIRE_OPENGL=1 but the tests were built without the opengl tag: %v", err)
	}
	t.Skip(err)
}
