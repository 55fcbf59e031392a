package preset

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/sar"
	"sargo/sar/tokenizer"
)

func TestPublishedPresets(t *testing.T) {
	tests := []struct {
		name                 string
		depth, width, epochs int
		lr                   float64
	}{
		{"d16", 16, 1024, 180, 3e-4},
		{"d20", 20, 1280, 250, 3e-4},
		{"d24", 24, 1536, 350, 2.4e-4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Get(tc.name)
			require.NoError(t, err)
			assert.Equal(t, tc.depth, p.Model.Depth)
			assert.Equal(t, tc.width, p.Model.Width)
			assert.Equal(t, tc.depth, p.Model.Heads)
			assert.Equal(t, 1000, p.Model.NumClasses)
			assert.Equal(t, 8912, p.Model.Vocab)
			assert.Equal(t, 16, p.Model.Largest)
			assert.InDelta(t, 0.1*float64(tc.depth)/24, float64(p.Model.DropPath), 1e-7)
			assert.Equal(t, tokenizer.FlexVAE(), p.Tokenizer)
			assert.Equal(t, tc.epochs, p.Train.Epochs)
			assert.InDelta(t, tc.lr, p.Train.LR, 1e-12)
			assert.Equal(t, 768, p.Train.Batch)
			assert.Equal(t, sar.ScriptInitGamma(tc.depth), p.Model.InitGamma)
			assert.InDelta(t, float64(tc.epochs)/50*1281167/768, float64(p.Train.Warmup), 1)
		})
	}
	assert.Contains(t, Names(), "d24")
	_, err := Get("flexvae")
	assert.ErrorContains(t, err, "unknown")
}
