package vulkan

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAddShader covers AddShader's rules; launching an added shader is
// tested end to end by examples/softplus.
func TestAddShader(t *testing.T) {
	b := openValidated(t)
	code, err := shaderFS.ReadFile("shaders/copy.spv")
	require.NoError(t, err)
	other, err := shaderFS.ReadFile("shaders/fill.spv")
	require.NoError(t, err)

	require.NoError(t, b.AddShader("added_copy", code))
	require.NoError(t, b.AddShader("added_copy", code), "the same code again")
	for _, tc := range []struct {
		name, shader string
		code         []byte
		want         string
	}{
		{"embedded name", "copy", code, "an embedded shader has that name"},
		{"other code", "added_copy", other, "other code was added under that name"},
		{"empty", "empty", nil, "0 bytes is not a SPIR-V module"},
		{"ragged", "ragged", code[:len(code)-1], "is not a SPIR-V module"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.ErrorContains(t, b.AddShader(tc.shader, tc.code), tc.want)
		})
	}
}
