package main

import (
	"bytes"
	"image"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/sar"
	"sargo/sar/imgio"
	"sargo/sar/tokenizer"
	"sargo/tensor"
)

// sampleRun writes an untrained tiny model and tokenizer: the model to
// dir/run/model.safetensors, the tokenizer to dir/tok/tokenizer.safetensors,
// named by dir/run/run.json.
func sampleRun(t *testing.T) (runDir string) {
	t.Helper()
	dev := tensor.MustOpen("cpu")
	dir := t.TempDir()
	runDir, tokDir := filepath.Join(dir, "run"), filepath.Join(dir, "tok")
	require.NoError(t, os.MkdirAll(runDir, 0o755))
	require.NoError(t, os.MkdirAll(tokDir, 0o755))
	vq, err := tokenizer.New(tokenizer.Config{ImageChannels: 1, ImageSize: 16, Downsample: 4, Base: 8,
		ResBlocks: 1, CVae: 4, Codebook: 16, Beta: 0.25}, dev, 1)
	require.NoError(t, err)
	require.NoError(t, vq.Save(filepath.Join(tokDir, tokenizer.CheckpointFile), nil))
	m, err := sar.NewModel(sar.Config{Depth: 1, Width: 16, Heads: 2, MLPRatio: 4, NumClasses: 2, Vocab: 16,
		CVae: 4, Largest: 4, CondDrop: 0.1, AttnL2: true}, dev, 2)
	require.NoError(t, err)
	require.NoError(t, m.Save(filepath.Join(runDir, "model.safetensors"), nil))
	require.NoError(t, os.WriteFile(filepath.Join(runDir, "run.json"), []byte(`{"tokenizer":"`+tokDir+`"}`), 0o644))
	return runDir
}

func TestSampleCommand(t *testing.T) {
	runDir := sampleRun(t)
	src := filepath.Join(t.TempDir(), "digit.png")
	g := &imgio.Grid{C: 1, H: 12, W: 12, Cols: 1, Images: [][]float32{make([]float32, 144)}}
	require.NoError(t, g.Save(src))
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"all classes", []string{"--n", "2"}, "wrote 4 samples"},
		{"one class, new schedule", []string{"--class", "1", "--n", "3", "--schedule", "1_3_4", "--top-k", "4", "--top-p", "0.9"}, "schedule 1_3_4"},
		{"unconditional, no cfg", []string{"--class", "null", "--n", "1", "--cfg", "0"}, "wrote 1 samples"},
		{"from image", []string{"--class", "0", "--n", "2", "--from-image", src, "--keep-scales", "2"}, "wrote 2 samples"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "s.png")
			cmd := newSampleCmd(&globalOptions{device: "cpu", seed: 3})
			var buf bytes.Buffer
			cmd.SetOut(&buf)
			cmd.SetArgs(append([]string{"--model", runDir, "--out", out}, tc.args...))
			require.NoError(t, cmd.Execute())
			assert.Contains(t, buf.String(), tc.want)
			fh, err := os.Open(out)
			require.NoError(t, err)
			defer fh.Close()
			_, _, err = image.Decode(fh)
			require.NoError(t, err)
		})
	}
}

func TestSampleCommandErrors(t *testing.T) {
	runDir := sampleRun(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bad class", []string{"--class", "7"}, "--class"},
		{"bad schedule", []string{"--schedule", "1_9"}, "--schedule"},
		{"bad keep", []string{"--from-image", "x.png", "--keep-scales", "0"}, "--keep-scales"},
		{"missing tokenizer", []string{"--tokenizer", filepath.Join(runDir, "none")}, "tokenizer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := newSampleCmd(&globalOptions{device: "cpu"})
			cmd.SetOut(&bytes.Buffer{})
			cmd.SetErr(&bytes.Buffer{})
			cmd.SetArgs(append([]string{"--model", runDir, "--out", filepath.Join(t.TempDir(), "s.png")}, tc.args...))
			require.ErrorContains(t, cmd.Execute(), tc.want)
		})
	}
}

func TestSampleLabels(t *testing.T) {
	tests := []struct {
		class      string
		n          int
		wantLabels []int
		wantCols   int
	}{
		{"all", 2, []int{0, 0, 1, 1, 2, 2}, 2},
		{"1", 3, []int{1, 1, 1}, 3},
		{"null", 10, []int{3, 3, 3, 3, 3, 3, 3, 3, 3, 3}, 8},
	}
	for _, tc := range tests {
		labels, cols, err := sampleLabels(tc.class, tc.n, 3)
		require.NoError(t, err)
		assert.Equal(t, tc.wantLabels, labels)
		assert.Equal(t, tc.wantCols, cols)
	}
	_, _, err := sampleLabels("x", 1, 3)
	require.Error(t, err)
	_, _, err = sampleLabels("all", 0, 3)
	require.Error(t, err)
}
