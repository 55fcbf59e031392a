package tokenizer

import (
	"testing"

	"github.com/stretchr/testify/require"

	_ "sargo/kernels/cpu"
	"sargo/tensor"
)

// cpu opens the CPU backend.
func cpu(t testing.TB) tensor.Backend {
	t.Helper()
	b, err := tensor.Open("cpu")
	require.NoError(t, err)
	return b
}

// randImages draws n images in [-1, 1] from seed.
func randImages(t testing.TB, b tensor.Backend, c Config, n int, seed uint64) *tensor.Tensor {
	t.Helper()
	u := tensor.Rand(b, seed, 0, n, c.ImageChannels, c.ImageSize, c.ImageSize)
	defer u.Release()
	return tensor.Affine(u, 2, -1)
}
