package preset

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/sar/schedule"
)

func TestPresets(t *testing.T) {
	tests := []struct {
		name    string
		latent  int
		tokens  int
		width   int
		classes int
	}{
		{"tiny", 8, 155, 64, 10},
		{"small", 8, 155, 192, 10},
		{"paper", 16, 680, 1024, 1000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Get(tc.name)
			require.NoError(t, err)
			assert.Equal(t, tc.latent, p.Tokenizer.Latent())
			assert.Equal(t, tc.latent, p.Model.Largest)
			assert.Equal(t, tc.tokens, schedule.VARList(tc.latent).Tokens())
			assert.Equal(t, tc.width, p.Model.Width)
			assert.Equal(t, tc.classes, p.Model.NumClasses)
			assert.Equal(t, p.Tokenizer.Codebook, p.Model.Vocab)
			assert.Equal(t, float32(0.9), p.Train.Beta1)
			assert.Equal(t, float32(0.95), p.Train.Beta2)
			assert.Equal(t, float32(0.05), p.Train.WeightDecay)
			assert.Equal(t, 2.0, p.Train.Clip)
		})
	}
	_, err := Get("huge")
	assert.ErrorContains(t, err, "huge")
}

func TestPaperSizes(t *testing.T) {
	p, err := Get("paper")
	require.NoError(t, err)
	assert.Equal(t, 16, p.Model.Depth)
	assert.Equal(t, 16, p.Model.Heads)
	assert.Equal(t, 32, p.Model.CVae)
	assert.Equal(t, 256, p.Tokenizer.ImageSize)
	assert.Equal(t, 768, p.Train.Batch)
	assert.Equal(t, 3e-4, p.Train.LR)
}

func TestLoadOverrides(t *testing.T) {
	base, err := Get("tiny")
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "c.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"train": {"sigma": 0.5, "method": "sar"}, "model": {"Depth": 3}}`), 0o644))
	p, err := Load(path, base)
	require.NoError(t, err)
	assert.Equal(t, float32(0.5), p.Train.Sigma)
	assert.Equal(t, "sar", p.Train.Method)
	assert.Equal(t, 3, p.Model.Depth)
	assert.Equal(t, base.Model.Width, p.Model.Width, "absent fields keep the base")
	assert.Equal(t, base.Train.Batch, p.Train.Batch)

	require.NoError(t, os.WriteFile(path, []byte(`{"train": {"sigmaa": 1}}`), 0o644))
	_, err = Load(path, base)
	assert.ErrorContains(t, err, "sigmaa")

	bad := base
	bad.Model.Vocab++
	assert.ErrorContains(t, bad.Validate(), "vocabulary")
}
