package eval

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClassifierLearnsAndRoundTrips(t *testing.T) {
	dev := cpu(t)
	train, test := toyDataset(256, 1), toyDataset(64, 2)
	cfg := ClassifierConfig{Channels: 1, ImageSize: 8, Widths: []int{4, 8, 8}, Features: 16, Classes: 2}
	c, err := NewClassifier(cfg, dev, 3)
	require.NoError(t, err)
	tc := ClassifierTrainConfig{Steps: 60, Batch: 16, LR: 5e-3, Warmup: 5}
	require.NoError(t, TrainClassifier(context.Background(), c, train, tc, nil))
	acc, err := c.TestAccuracyOn(test, 0)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, acc, 0.95)

	path := filepath.Join(t.TempDir(), "c.safetensors")
	require.NoError(t, c.Save(path, train.Name))
	back, name, err := LoadClassifier(path, dev)
	require.NoError(t, err)
	assert.Equal(t, "toy", name)
	assert.Equal(t, cfg, back.Cfg)
	assert.InDelta(t, acc, back.TestAccuracy, 1e-12)
	e1, _, err := c.EmbedDataset(test, 0, 10)
	require.NoError(t, err)
	e2, _, err := back.EmbedDataset(test, 0, 64)
	require.NoError(t, err)
	assert.InDeltaSlice(t, e1.Features, e2.Features, 1e-5)
	assert.Equal(t, 64, e1.N)
	assert.Len(t, e1.Features, 64*16)
}

func TestClassifierConfigValidate(t *testing.T) {
	ok := DefaultClassifierConfig(1, 32, 10)
	tests := []struct {
		name string
		edit func(*ClassifierConfig)
		want string
	}{
		{"default", func(*ClassifierConfig) {}, ""},
		{"size", func(c *ClassifierConfig) { c.ImageSize = 30 }, "image size 30"},
		{"widths", func(c *ClassifierConfig) { c.Widths = []int{4} }, "1 widths"},
		{"classes", func(c *ClassifierConfig) { c.Classes = 1 }, "classes 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			c.Widths = append([]int{}, ok.Widths...)
			tc.edit(&c)
			err := c.Validate()
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

func TestSplitEvery(t *testing.T) {
	ds := toyDataset(25, 1)
	train, test := SplitEvery(ds, 10)
	assert.Equal(t, 22, train.Len())
	assert.Equal(t, 3, test.Len())
	require.NoError(t, train.Validate())
	require.NoError(t, test.Validate())
}
