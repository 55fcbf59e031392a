package tokenizer

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"sargo/internal/rundir"
	"sargo/nn"
	"sargo/sar/data"
	"sargo/sar/schedule"
	"sargo/tensor"
)

// synthDataset makes n random images of cfg's size in two classes.
func synthDataset(cfg Config, n int, seed uint64) *data.Dataset {
	d := &data.Dataset{Name: "synth", Classes: []string{"a", "b"}, C: cfg.ImageChannels, H: cfg.ImageSize, W: cfg.ImageSize}
	for i := range n * d.ImageSize() {
		d.Images = append(d.Images, 2*tensor.PhiloxUniform(seed, uint64(i))-1)
	}
	for i := range n {
		d.Labels = append(d.Labels, i%2)
	}
	return d
}

// quickTrain is a training configuration of a few steps.
func quickTrain() TrainConfig {
	return TrainConfig{Steps: 4, Batch: 3, LR: 1e-3, Warmup: 1, ClipNorm: 1, Seed: 21, LogEvery: 2, SaveEvery: 3, UsageWindow: 2}
}

// weights reads every parameter of m.
func weights(t *testing.T, m *VQ) map[string][]float32 {
	t.Helper()
	out := map[string][]float32{}
	for _, p := range m.Parameters() {
		v, err := p.Var.Value.Read()
		require.NoError(t, err)
		out[p.Name] = v
	}
	return out
}

func TestTrainDeterministicAndSaves(t *testing.T) {
	b := cpu(t)
	cfg := smallConfig(4)
	ds := synthDataset(cfg, 5, 1)
	run := func(dir string) (*VQ, TrainStats) {
		m, err := New(cfg, b, 2)
		require.NoError(t, err)
		st, err := Train(context.Background(), m, ds, quickTrain(), dir, nil)
		require.NoError(t, err)
		return m, st
	}
	dir := t.TempDir()
	m1, s1 := run(dir)
	m2, s2 := run("")
	require.Equal(t, weights(t, m1), weights(t, m2))
	require.Equal(t, 4, s1.Steps)
	require.Len(t, s1.History, 2)
	require.Equal(t, s1.History[1].Loss, s2.History[1].Loss)
	require.Equal(t, filepath.Join(dir, CheckpointFile), s1.Checkpoint)
	require.Empty(t, s2.Checkpoint)

	loaded, st, err := Load(s1.Checkpoint, b)
	require.NoError(t, err)
	require.Equal(t, 4, st.Step)
	require.Equal(t, weights(t, m1), weights(t, loaded))

	raw, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	require.NoError(t, err)
	var fc FileConfig
	require.NoError(t, json.Unmarshal(raw, &fc))
	require.Equal(t, cfg, fc.Tokenizer)
	require.Equal(t, 4, fc.Train.Steps)
	require.Equal(t, schedule.Schedule{1, 2}, fc.Train.Scales)
}

func TestTrainCancelSaves(t *testing.T) {
	b := cpu(t)
	cfg := smallConfig(4)
	m, err := New(cfg, b, 2)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := t.TempDir()
	st, err := Train(ctx, m, synthDataset(cfg, 4, 3), quickTrain(), dir, nil)
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, 0, st.Steps)
	_, err = os.Stat(filepath.Join(dir, CheckpointFile))
	require.NoError(t, err)
}

func TestTrainRejects(t *testing.T) {
	b := cpu(t)
	cfg := smallConfig(4)
	m, err := New(cfg, b, 2)
	require.NoError(t, err)
	other := cfg
	other.ImageSize = 16
	cases := []struct {
		name string
		ds   *data.Dataset
		tc   func(c *TrainConfig)
		want string
	}{
		{"image size", synthDataset(other, 2, 1), func(*TrainConfig) {}, "images are 1x16x16, tokenizer wants 1x8x8"},
		{"steps", synthDataset(cfg, 2, 1), func(c *TrainConfig) { c.Steps = 0 }, "Steps"},
		{"lr", synthDataset(cfg, 2, 1), func(c *TrainConfig) { c.LR = 0 }, "LR"},
		{"decay", synthDataset(cfg, 2, 1), func(c *TrainConfig) { c.Decay = "step" }, "Decay"},
		{"scales", synthDataset(cfg, 2, 1), func(c *TrainConfig) { c.Scales = schedule.Schedule{1, 3} }, "Scales"},
		{"steps beyond the limit", synthDataset(cfg, 2, 1), func(c *TrainConfig) { c.Steps = MaxSteps + 1 }, "Steps 2147483649, want at most 2147483648"},
		{"epochs overflow", synthDataset(cfg, 2, 1), func(c *TrainConfig) { c.Steps, c.Epochs = 0, math.MaxInt/2 },
			"of 1 steps (2 images, batch 3) exceed the 2147483648-step limit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tc := quickTrain()
			c.tc(&tc)
			_, err := Train(context.Background(), m, c.ds, tc, "", nil)
			require.ErrorContains(t, err, c.want)
		})
	}
}

// TestTrainStopsOnNonFinite checks that a diverging run stops with an
// error naming the value and the step, without writing a checkpoint of
// non-finite weights: the last good one stays.
func TestTrainStopsOnNonFinite(t *testing.T) {
	cfg := smallConfig(4)
	m, err := New(cfg, cpu(t), 2)
	require.NoError(t, err)
	tc := quickTrain()
	tc.Steps, tc.SaveEvery, tc.LogEvery, tc.Warmup, tc.ClipNorm = 6, 1, 0, 0, 0
	tc.LR = 1e8 // the first step is finite, the weights it leaves overflow the next forward
	dir := t.TempDir()
	st, err := Train(context.Background(), m, synthDataset(cfg, 6, 3), tc, dir, nil)
	require.Error(t, err)
	require.ErrorContains(t, err, "tokenizer train: stopped: non-finite")
	require.ErrorContains(t, err, fmt.Sprintf("the last good checkpoint is %s (step %d)", filepath.Join(dir, CheckpointFile), st.CheckpointStep))
	require.Less(t, st.CheckpointStep, st.Steps)
	back, _, err := Load(filepath.Join(dir, CheckpointFile), cpu(t))
	require.NoError(t, err)
	require.Empty(t, nn.FirstNonFinite(back.Parameters()), "the checkpoint on disk holds finite weights")
}

// TestTrainLocksItsFolder checks that a second training into the same
// folder fails at once, naming the holder.
func TestTrainLocksItsFolder(t *testing.T) {
	cfg := smallConfig(4)
	m, err := New(cfg, cpu(t), 2)
	require.NoError(t, err)
	dir := t.TempDir()
	lock, err := rundir.Acquire(dir)
	require.NoError(t, err)
	defer lock.Release()
	_, err = Train(context.Background(), m, synthDataset(cfg, 4, 3), quickTrain(), dir, nil)
	require.ErrorContains(t, err, fmt.Sprintf("is in use by process %d", os.Getpid()))
}

func TestEpochsSetSteps(t *testing.T) {
	c := TrainConfig{Epochs: 3, Batch: 4}.withDefaults(8, 10)
	require.Equal(t, 9, c.Steps)
	require.Equal(t, schedule.VARList(8), c.Scales)
}

func TestPickScale(t *testing.T) {
	cfg := TrainConfig{Seed: 4, Scales: schedule.Schedule{1, 2, 3, 4, 6, 8}, LargestProb: 0.5}
	counts := map[int]int{}
	const n = 6000
	for step := range n {
		s := pickScale(cfg, step)
		require.Equal(t, s, pickScale(cfg, step))
		counts[s]++
	}
	require.InDelta(t, 0.5, float64(counts[8])/n, 0.03)
	for _, s := range cfg.Scales[:5] {
		require.InDelta(t, 0.1, float64(counts[s])/n, 0.02, "scale %d", s)
	}
}

func TestCodeUsageRestart(t *testing.T) {
	b := cpu(t)
	cfg := smallConfig(4)
	cfg.Codebook = 4
	m, err := New(cfg, b, 2)
	require.NoError(t, err)
	u := newCodeUsage(b, 4)
	u.add(tensor.FromSlice(b, []float32{0, 2, 2, 0}, 2, 2))
	f, err := u.fraction().Read()
	require.NoError(t, err)
	require.Equal(t, []float32{0.5}, f)

	before, err := m.quant.Embedding.Weight.Value.Read()
	require.NoError(t, err)
	cand := tensor.FromSlice(b, []float32{9, 9, 9, 9}, 1, 4)
	opt, err := nn.NewAdamW(m.Parameters(), nn.DefaultAdamWConfig())
	require.NoError(t, err)
	u.restart(m.quant, cand, opt, 7)
	after, err := m.quant.Embedding.Weight.Value.Read()
	require.NoError(t, err)
	d := cfg.CVae
	for k := range 4 {
		if k == 0 || k == 2 {
			require.Equal(t, before[k*d:(k+1)*d], after[k*d:(k+1)*d], "used code %d changed", k)
		} else {
			require.Equal(t, []float32{9, 9, 9, 9}, after[k*d:(k+1)*d], "dead code %d kept", k)
		}
	}
	r, err := u.restarts.Read()
	require.NoError(t, err)
	require.Equal(t, []float32{2}, r)
	f, err = u.fraction().Read()
	require.NoError(t, err)
	require.Equal(t, []float32{0}, f, "a restart starts a new window")
}
