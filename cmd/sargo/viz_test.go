package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/sar"
	"sargo/sar/eval"
	"sargo/sar/tokenizer"
	"sargo/sar/viz"
	"sargo/tensor"
)

// mnistRuns writes two untrained tiny runs that fit 32-px MNIST images
// (the tokenizer beside each model) with an eval.jsonl of three epochs,
// and returns their directories.
func mnistRuns(t *testing.T) (tf, sarDir string) {
	t.Helper()
	dev := tensor.MustOpen("cpu")
	vq, err := tokenizer.New(tokenizer.Config{ImageChannels: 1, ImageSize: 32, Downsample: 4, Base: 8,
		ResBlocks: 1, CVae: 4, Codebook: 16, Beta: 0.25}, dev, 1)
	require.NoError(t, err)
	dir := t.TempDir()
	var dirs []string
	for i, name := range []string{"tf", "sar"} {
		d := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(d, 0o755))
		require.NoError(t, vq.Save(filepath.Join(d, tokenizer.CheckpointFile), nil))
		m, err := sar.NewModel(sar.Config{Depth: 1, Width: 16, Heads: 2, MLPRatio: 2, NumClasses: 10, Vocab: 16,
			CVae: 4, Largest: 8, CondDrop: 0.1, AttnL2: true}, dev, uint64(2+i))
		require.NoError(t, err)
		require.NoError(t, m.Save(filepath.Join(d, "model.safetensors"), nil))
		for e := 1; e <= 3; e++ {
			p := eval.Point{Epoch: float64(e), Report: eval.Report{FID: 40 / float64(e+i), ImagesPerS: 50 + 10*float64(i), Params: 1000 * (i + 1)}}
			require.NoError(t, eval.AppendHistory(filepath.Join(d, eval.HistoryFile), p))
		}
		dirs = append(dirs, d)
	}
	return dirs[0], dirs[1]
}

// runCmd executes a command with args and returns its output.
func runCmd(t *testing.T, cmdArgs []string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var buf bytes.Buffer
	root.SetOut(&buf)
	root.SetErr(&buf)
	root.SetArgs(append([]string{"--device", "cpu", "--seed", "3"}, cmdArgs...))
	err := root.ExecuteContext(context.Background())
	return buf.String(), err
}

func TestVizCommands(t *testing.T) {
	tf, sarDir := mnistRuns(t)
	out := t.TempDir()
	tests := []struct {
		name          string
		args          []string
		minW, minH    int
		wantOut       string
		wantErrSubstr string
	}{
		{"curves", []string{"viz", "curves", "--run", "TF=" + tf, "--run", "SAR=" + sarDir}, 500, 300, "wrote", ""},
		{"tradeoff", []string{"viz", "tradeoff", "--run", "TF=" + tf, "--run", "SAR=" + sarDir}, 500, 300, "wrote", ""},
		{"process", []string{"viz", "process", "--model", "SAR=" + sarDir, "--model", "TF=" + tf, "--images", "2"}, 7 * 64, 4 * 64, "first 2 scales", ""},
		{"grid", []string{"viz", "grid", "--model", tf, "--n", "2"}, 2 * 64, 10 * 64, "wrote", ""},
		{"sf-inputs", []string{"viz", "sf-inputs", "--model", sarDir, "--images", "1"}, 3 * 64, 5 * 64, "naive SF (chained)", ""},
		{"exposure", []string{"viz", "exposure", "--model", "SAR=" + sarDir, "--model", "TF=" + tf, "--images", "6"}, 500, 300, "gap chained", ""},
		{"exposure needs runs", []string{"viz", "exposure"}, 0, 0, "", "give --run"},
		{"curves needs NAME=DIR", []string{"viz", "curves", "--run", tf}, 0, 0, "", "want NAME=PATH"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(out, tc.name+".png")
			got, err := runCmd(t, append(tc.args, "--out", path))
			if tc.wantErrSubstr != "" {
				assert.ErrorContains(t, err, tc.wantErrSubstr)
				return
			}
			require.NoError(t, err, got)
			assert.Contains(t, got, tc.wantOut)
			assert.NoError(t, viz.CheckPNG(path, tc.minW, tc.minH, 10))
		})
	}
}

func TestEvalCommand(t *testing.T) {
	tf, _ := mnistRuns(t)
	dev := tensor.MustOpen("cpu")
	c, err := eval.NewClassifier(eval.DefaultClassifierConfig(1, 32, 10), dev, 1)
	require.NoError(t, err)
	clf := filepath.Join(t.TempDir(), "c.safetensors")
	require.NoError(t, c.Save(clf, "mnist-train"))
	js := filepath.Join(t.TempDir(), "r.json")
	got, err := runCmd(t, []string{"eval", "--model", tf, "--n", "40", "--batch", "20", "--classifier", clf, "--json", js,
		"--tokenizer-images", "20", "--exposure-images", "8"})
	require.NoError(t, err, got)
	assert.Contains(t, got, "FID (sargo classifier)")
	assert.Contains(t, got, "exposure bias on 8 test images")
	raw, err := os.ReadFile(js)
	require.NoError(t, err)
	for _, k := range []string{`"fid"`, `"accuracy"`, `"is"`, `"precision"`, `"recall"`, `"images_per_s"`, `"gap_chained"`} {
		assert.Contains(t, string(raw), k)
	}
	// The JSON draws in viz exposure.
	png := filepath.Join(t.TempDir(), "exposure.png")
	got, err = runCmd(t, []string{"viz", "exposure", "--run", "TF=" + js, "--out", png})
	require.NoError(t, err, got)
	assert.NoError(t, viz.CheckPNG(png, 500, 300, 10))
}
