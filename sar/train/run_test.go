package train

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/nn"
)

// runConfig is a short SAR run with teacher sampling (so that random
// draws matter for exactness) over the fakes.
func runConfig(steps int) Config {
	cfg := DefaultConfig()
	cfg.Method, cfg.Teacher, cfg.TeacherTopK = MethodSAR, TeacherSample, 6
	cfg.Rollout = "last:2"
	cfg.Sigma = 0.5
	cfg.Batch, cfg.Steps, cfg.Warmup = 8, steps, 2
	cfg.LR = 1e-2
	cfg.LogEvery, cfg.SaveEvery = 2, 0
	cfg.Seed = 5
	return cfg
}

func weights(t *testing.T, path string) map[string][]float32 {
	t.Helper()
	f, err := nn.ReadSafetensorsFile(path)
	require.NoError(t, err)
	out := map[string][]float32{}
	for _, ts := range f.Tensors {
		d, err := ts.Float32s()
		require.NoError(t, err)
		out[ts.Name] = d
	}
	return out
}

func TestResumeIsExact(t *testing.T) {
	const n = 8 // two epochs of the 32 fake images at batch 8 is 8 steps
	dir := t.TempDir()
	straight, halves := filepath.Join(dir, "straight"), filepath.Join(dir, "halves")
	ctx := context.Background()

	_, err := Run(ctx, fakeSetup(t, runConfig(n)), RunOptions{Out: straight})
	require.NoError(t, err)

	sum, err := Run(ctx, fakeSetup(t, runConfig(n)), RunOptions{Out: halves, Until: n/2 + 1})
	require.NoError(t, err)
	require.Equal(t, n/2+1, sum.Step)
	_, err = Run(ctx, fakeSetup(t, runConfig(n)), RunOptions{Out: halves})
	require.Error(t, err, "an existing run needs --resume")
	sum, err = Run(ctx, fakeSetup(t, runConfig(n)), RunOptions{Out: halves, Resume: true})
	require.NoError(t, err)
	require.Equal(t, n, sum.Step)

	a := weights(t, filepath.Join(straight, CheckpointFile))
	b := weights(t, filepath.Join(halves, CheckpointFile))
	require.Len(t, b, len(a))
	for name, want := range a {
		assert.Equal(t, want, b[name], "%s (weights and optimiser moments) must be bit-identical", name)
	}
	ma, err := ReadMetrics(filepath.Join(straight, MetricsFile))
	require.NoError(t, err)
	mb, err := ReadMetrics(filepath.Join(halves, MetricsFile))
	require.NoError(t, err)
	// The interrupted run logs no partial line; the last interval (steps 7
	// and 8) is the same in both.
	require.Len(t, mb, len(ma))
	for i := range ma {
		assert.Equal(t, ma[i].Step, mb[i].Step)
	}
	assert.Equal(t, *ma[len(ma)-1].LossCSFL, *mb[len(mb)-1].LossCSFL)

	var info RunInfo
	buf, err := os.ReadFile(filepath.Join(halves, RunFile))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(buf, &info))
	require.Len(t, info.Resumed, 1)
	assert.Equal(t, n/2+1, info.Resumed[0].Step)

	changed := runConfig(n)
	changed.Sigma = 0.1
	_, err = Run(ctx, fakeSetup(t, changed), RunOptions{Out: halves, Resume: true})
	assert.ErrorContains(t, err, "sigma: checkpoint 0.5, given 0.1")
	relogged := runConfig(n)
	relogged.LogEvery = 1
	_, err = Run(ctx, fakeSetup(t, relogged), RunOptions{Out: halves, Resume: true})
	assert.NoError(t, err, "logging settings may change on resume")
}

func TestMetricsLines(t *testing.T) {
	tests := []struct {
		method string
		keys   []string
		absent []string
	}{
		{MethodTF, []string{"loss_tf"}, []string{"loss_csfl", "loss_sf"}},
		{MethodSF, []string{"loss_sf"}, []string{"loss_tf", "loss_csfl"}},
		{MethodSAR, []string{"loss_tf", "loss_csfl"}, []string{"loss_sf"}},
	}
	for _, tc := range tests {
		t.Run(tc.method, func(t *testing.T) {
			cfg := runConfig(4)
			cfg.Method = tc.method
			dir := t.TempDir()
			var log bytes.Buffer
			sampled := 0
			_, err := Run(context.Background(), fakeSetup(t, cfg), RunOptions{Out: dir, Log: &log,
				Sample: func(path string) error { sampled++; return os.WriteFile(path, []byte("png"), 0o644) }})
			require.NoError(t, err)
			buf, err := os.ReadFile(filepath.Join(dir, MetricsFile))
			require.NoError(t, err)
			lines := strings.Split(strings.TrimSpace(string(buf)), "\n")
			require.Len(t, lines, 2)
			for i, line := range lines {
				var m map[string]any
				require.NoError(t, json.Unmarshal([]byte(line), &m))
				for _, k := range append([]string{"step", "epoch", "loss", "lr", "grad_norm", "tokens_per_s", "seconds", "data_wait_s"}, tc.keys...) {
					require.Contains(t, m, k)
				}
				for _, k := range tc.absent {
					assert.NotContains(t, m, k)
				}
				assert.EqualValues(t, 2*(i+1), m["step"])
				assert.Greater(t, m["tokens_per_s"].(float64), 0.0)
				assert.GreaterOrEqual(t, m["data_wait_s"].(float64), 0.0)
				assert.Less(t, m["data_wait_s"].(float64), m["seconds"].(float64), "waits are part of the steps' time")
			}
			assert.Equal(t, 1, sampled, "a final sample grid")
			assert.Contains(t, log.String(), "step 4/4")
			for _, f := range []string{ConfigFile, RunFile, CheckpointFile} {
				assert.FileExists(t, filepath.Join(dir, f))
			}
			var back Config
			cb, err := os.ReadFile(filepath.Join(dir, ConfigFile))
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(cb, &back))
			assert.Equal(t, cfg, back)
		})
	}
}

func TestNonFiniteStopsOrSkips(t *testing.T) {
	t.Run("step", func(t *testing.T) {
		s := fakeSetup(t, runConfig(6))
		tr, err := NewTrainer(s)
		require.NoError(t, err)
		s.Net.(*fakeNet).poison()
		_, err = tr.TrainStep()
		var nf *NonFiniteError
		require.True(t, errors.As(err, &nf), "got %v", err)
		assert.Equal(t, 1, nf.Step, "steps are numbered from 1, as progress lines number them")
		assert.Equal(t, "parameter in.weight", nf.Tensor)
		assert.Equal(t, 0, tr.Step, "no step is taken")
	})
	t.Run("run keeps the last good checkpoint", func(t *testing.T) {
		dir := t.TempDir()
		cfg := runConfig(6)
		cfg.SaveEvery = 2
		s := fakeSetup(t, cfg)
		s.Net.(*fakeNet).poisonAt = 3
		var log bytes.Buffer
		sum, err := Run(context.Background(), s, RunOptions{Out: dir, Log: &log})
		var nf *NonFiniteError
		require.True(t, errors.As(err, &nf), "got %v", err)
		// Three steps complete (the progress line says 3/6); the fourth
		// fails, and the message numbers it as the progress lines would.
		assert.Equal(t, "step 4: non-finite value in parameter in.weight", err.Error())
		assert.Equal(t, 3, sum.Step)
		assert.Contains(t, log.String(), "step 2/6 ")
		assert.Contains(t, log.String(), "stopped: step 4: non-finite value in parameter in.weight; the last good checkpoint is "+
			filepath.Join(dir, CheckpointFile)+" (step 2)")
		assert.Equal(t, weights(t, filepath.Join(dir, CheckpointDir, "step_000002.safetensors")),
			weights(t, filepath.Join(dir, CheckpointFile)), "model.safetensors is the step-2 checkpoint")
	})
	t.Run("skip", func(t *testing.T) {
		cfg := runConfig(6)
		cfg.SkipNonFinite = true
		s := fakeSetup(t, cfg)
		tr, err := NewTrainer(s)
		require.NoError(t, err)
		s.Net.(*fakeNet).poison()
		before := s.Net.Parameters()[0].Var.Value.Data()
		res, err := tr.TrainStep()
		require.NoError(t, err)
		assert.True(t, res.Skipped)
		assert.Equal(t, 1, tr.Step)
		assert.Equal(t, before, s.Net.Parameters()[0].Var.Value.Data(), "a skipped step changes nothing")
	})
}
