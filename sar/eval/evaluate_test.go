package eval

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/sar"
	"sargo/sar/data"
	"sargo/sar/tokenizer"
	"sargo/tensor"
)

// tinyModels is an untrained tokenizer (16-px grey images, latent 4) and
// transformer of 3 classes that fit each other.
func tinyModels(t *testing.T) (*sar.Model, *tokenizer.VQ) { return tinyModelsOn(t, cpu(t)) }

// tinyModelsOn is tinyModels on dev.
func tinyModelsOn(t *testing.T, dev tensor.Backend) (*sar.Model, *tokenizer.VQ) {
	t.Helper()
	vq, err := tokenizer.New(tokenizer.Config{ImageChannels: 1, ImageSize: 16, Downsample: 4, Base: 8,
		ResBlocks: 1, CVae: 4, Codebook: 16, Beta: 0.25}, dev, 1)
	require.NoError(t, err)
	m, err := sar.NewModel(sar.Config{Depth: 1, Width: 32, Heads: 2, MLPRatio: 2, NumClasses: 3, Vocab: 16,
		CVae: 4, Largest: 4, CondDrop: 0.1, AttnL2: true}, dev, 2)
	require.NoError(t, err)
	return m, vq
}

// noiseDataset is n random 16-px grey images of 3 classes.
func noiseDataset(n int) *data.Dataset {
	r := rand.New(rand.NewPCG(3, 4))
	d := &data.Dataset{Name: "noise", Classes: []string{"a", "b", "c"}, C: 1, H: 16, W: 16}
	for i := range n {
		for range 256 {
			d.Images = append(d.Images, float32(2*r.Float64()-1))
		}
		d.Labels = append(d.Labels, i%3)
	}
	return d
}

func TestEvaluateReportsEveryMetric(t *testing.T) {
	m, vq := tinyModels(t)
	test := noiseDataset(40)
	c, err := NewClassifier(ClassifierConfig{Channels: 1, ImageSize: 16, Widths: []int{4, 8, 8}, Features: 8, Classes: 3}, cpu(t), 1)
	require.NoError(t, err)
	ref, err := NewReference(c, test, 0)
	require.NoError(t, err)
	opt := DefaultOptions()
	opt.N, opt.Batch, opt.TokenizerImages = 30, 16, 20
	opt.Exposure.Images, opt.Exposure.TopK = 12, 8
	r, err := Evaluate(m, vq, c, ref, test, opt, nil)
	require.NoError(t, err)
	assert.Equal(t, 30, r.N)
	assert.Equal(t, 40, r.NReference)
	assert.Equal(t, FeatureName, r.Features)
	assert.Greater(t, r.FID, 0.0)
	assert.Greater(t, r.ImagesPerS, 0.0)
	for name, v := range map[string]float64{"accuracy": r.Accuracy, "precision": r.Precision, "recall": r.Recall, "usage": r.CodebookUsage} {
		assert.GreaterOrEqual(t, v, 0.0, name)
		assert.LessOrEqual(t, v, 1.0, name)
	}
	assert.GreaterOrEqual(t, r.IS, 1.0)
	assert.LessOrEqual(t, r.IS, 3.0)
	assert.Greater(t, r.TokenizerRecon, 0.0)
	assert.Equal(t, "1_2_3_4", r.Schedule)

	raw, err := json.Marshal(r)
	require.NoError(t, err)
	var keys map[string]any
	require.NoError(t, json.Unmarshal(raw, &keys))
	for _, k := range []string{"fid", "accuracy", "is", "precision", "recall", "images_per_s", "exposure"} {
		assert.Contains(t, keys, k)
	}
	require.NotNil(t, r.Exposure)
	assert.Equal(t, 12, r.Exposure.Images)
	assert.Len(t, r.Exposure.GapChained, 4)
	var table strings.Builder
	require.NoError(t, WriteExposureTable(&table, r.Exposure))
	assert.Contains(t, table.String(), "gap chained")
	assert.Equal(t, 7, strings.Count(table.String(), "\n"), "title, header, 4 scales, all")
}

func TestHistoryRoundTrip(t *testing.T) {
	path := t.TempDir() + "/" + HistoryFile
	for i, fid := range []float64{30, 20, 12.5} {
		require.NoError(t, AppendHistory(path, Point{Epoch: float64(i + 1), Report: Report{FID: fid, Step: 10 * (i + 1)}}))
	}
	ps, err := ReadHistory(path)
	require.NoError(t, err)
	require.Len(t, ps, 3)
	assert.Equal(t, 3.0, ps[2].Epoch)
	assert.Equal(t, 12.5, ps[2].FID)
	assert.Equal(t, 30, ps[2].Step)
}
