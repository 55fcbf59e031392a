package opengl

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/kernels/internal/gltranslate"
)

// TestStaleShaders translates the Vulkan shaders again and compares them
// with the committed OpenGL versions, which the backend embeds. It needs
// no OpenGL and no shader tools.
func TestStaleShaders(t *testing.T) {
	want, err := gltranslate.Dir(filepath.Join("..", "vulkan", "shaders"))
	require.NoError(t, err)
	got, err := filepath.Glob(filepath.Join("shaders", "*.comp"))
	require.NoError(t, err)
	for _, f := range got {
		if _, ok := want[filepath.Base(f)]; !ok {
			t.Errorf("%s has no source in kernels/vulkan/shaders: run go generate ./kernels/vulkan", f)
		}
	}
	for name, text := range want {
		cur, err := os.ReadFile(filepath.Join("shaders", name))
		if !assert.NoError(t, err, "shaders/%s is missing: run go generate ./kernels/vulkan", name) {
			continue
		}
		assert.Equal(t, string(text), string(cur), "shaders/%s is stale: run go generate ./kernels/vulkan", name)
	}
}
