package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/sar/train"
)

// readRunConfig reads a run directory's config.json.
func readRunConfig(t *testing.T, dir string) train.Config {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, train.ConfigFile))
	require.NoError(t, err)
	var c train.Config
	require.NoError(t, json.Unmarshal(raw, &c))
	return c
}

// TestTrainInitContinuesSchedule checks that --init continues the
// learning-rate schedule of the run that wrote the checkpoint (as the
// authors' SAR post-training does), that --lr starts a fresh one, and
// that a checkpoint without a training configuration asks for --lr.
func TestTrainInitContinuesSchedule(t *testing.T) {
	dir := cliFixtures(t)
	tok, data := filepath.Join(dir, "tok"), filepath.Join(dir, "good")
	base := []string{"train", "--preset", "tiny", "--tokenizer", tok, "--data", data, "--batch", "2"}
	tf := filepath.Join(dir, "tf")
	got, err := runCmd(t, append(base, "--steps", "4", "--lr", "0.002", "--out", tf))
	require.NoError(t, err, got)

	post := filepath.Join(dir, "post")
	got, err = runCmd(t, append(base, "--method", "sar", "--steps", "2", "--init", filepath.Join(tf, train.CheckpointFile), "--out", post))
	require.NoError(t, err, got)
	assert.Contains(t, got, "continuing the learning-rate schedule")
	c := readRunConfig(t, post)
	assert.Equal(t, 0.002, c.LR, "the init run's peak")
	assert.Equal(t, 4, c.LRFrom)
	assert.Equal(t, 6, c.LRTotal, "the init run's 4 steps, stretched by 2")
	ms, err := train.ReadMetrics(filepath.Join(post, train.MetricsFile))
	require.NoError(t, err)
	sched, from := c.Rates(c.Steps)
	require.NotEmpty(t, ms)
	assert.InDelta(t, sched.LR(from+ms[len(ms)-1].Step-1), ms[len(ms)-1].LR, 1e-12)

	fresh := filepath.Join(dir, "fresh")
	got, err = runCmd(t, append(base, "--method", "sar", "--steps", "2", "--lr", "0.0005", "--init", filepath.Join(tf, train.CheckpointFile), "--out", fresh))
	require.NoError(t, err, got)
	assert.NotContains(t, got, "continuing the learning-rate schedule")
	c = readRunConfig(t, fresh)
	assert.Equal(t, 0.0005, c.LR)
	assert.Zero(t, c.LRFrom)

	_, err = runCmd(t, append(base, "--method", "sar", "--steps", "2", "--init", filepath.Join(dir, "run", "model.safetensors"), "--out", filepath.Join(dir, "none")))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--lr")
}
