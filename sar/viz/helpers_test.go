package viz

import (
	"testing"

	"github.com/stretchr/testify/require"

	_ "sargo/kernels/cpu"
	"sargo/sar"
	"sargo/sar/tokenizer"
	"sargo/tensor"
)

func dev() tensor.Backend { return tensor.MustOpen("cpu") }

// tinyModels is an untrained 16-px tokenizer (latent 4) and a transformer
// of 3 classes that fit each other.
func tinyModels(t *testing.T, seed uint64) (*sar.Model, *tokenizer.VQ) {
	t.Helper()
	vq, err := tokenizer.New(tokenizer.Config{ImageChannels: 1, ImageSize: 16, Downsample: 4, Base: 8,
		ResBlocks: 1, CVae: 4, Codebook: 16, Beta: 0.25}, dev(), 1)
	require.NoError(t, err)
	vq.SetTrain(false)
	m, err := sar.NewModel(sar.Config{Depth: 1, Width: 16, Heads: 2, MLPRatio: 2, NumClasses: 3, Vocab: 16,
		CVae: 4, Largest: 4, CondDrop: 0.1, AttnL2: true}, dev(), seed)
	require.NoError(t, err)
	return m, vq
}

// realImages is n random 16-px grey images.
func realImages(n int) *tensor.Tensor {
	u := tensor.Rand(dev(), 9, 0, n, 1, 16, 16)
	defer u.Release()
	return tensor.Affine(u, 2, -1)
}

// AssertPNGFile fails t unless CheckPNG accepts path.
func AssertPNGFile(t testing.TB, path string, minW, minH, minColours int) {
	t.Helper()
	if err := CheckPNG(path, minW, minH, minColours); err != nil {
		t.Error(err)
	}
}
