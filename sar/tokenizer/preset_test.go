package tokenizer

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPresets(t *testing.T) {
	cases := []struct {
		name           string
		latent, images int
	}{
		{"tiny", 8, 32},
		{"small", 8, 32},
		{"paper", 16, 256},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mc, tc, err := Preset(c.name)
			require.NoError(t, err)
			require.NoError(t, mc.Validate())
			require.Equal(t, c.latent, mc.Latent())
			require.Equal(t, c.images, mc.ImageSize)
			filled := tc.withDefaults(mc.Latent(), 1000)
			require.NoError(t, filled.validate(mc.Latent()))
		})
	}
	_, _, err := Preset("huge")
	require.ErrorContains(t, err, `preset "huge"`)
}
