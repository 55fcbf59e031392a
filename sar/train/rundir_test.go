package train

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/internal/rundir"
)

// TestRunLocksItsDirectory checks that a second process on a run
// directory fails at once, naming the holder's process id, and leaves the
// directory alone.
func TestRunLocksItsDirectory(t *testing.T) {
	dir := t.TempDir()
	lock, err := rundir.Acquire(dir)
	require.NoError(t, err)
	_, err = Run(context.Background(), fakeSetup(t, runConfig(2)), RunOptions{Out: dir})
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf("%s is in use by process %d", dir, os.Getpid()))
	assert.NoFileExists(t, filepath.Join(dir, ConfigFile))
	require.NoError(t, lock.Release())
	_, err = Run(context.Background(), fakeSetup(t, runConfig(2)), RunOptions{Out: dir})
	require.NoError(t, err, "the lock is free again")
}

// TestRunCleansTemporaries checks that the temporary files killed writes
// left in the run directory are removed when the run resumes.
func TestRunCleansTemporaries(t *testing.T) {
	dir := t.TempDir()
	_, err := Run(context.Background(), fakeSetup(t, runConfig(4)), RunOptions{Out: dir, Until: 2})
	require.NoError(t, err)
	stale := []string{".model.safetensors.tmp123", filepath.Join(CheckpointDir, ".step_000002.safetensors.tmp456"),
		filepath.Join(SampleDir, ".step_000002.png.tmp7"), ".metrics.jsonl.tmp8"}
	for _, name := range stale {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("partial"), 0o644))
	}
	keep := filepath.Join(dir, CheckpointDir, "notes.tmp")
	require.NoError(t, os.WriteFile(keep, []byte("mine"), 0o644))
	var log bytes.Buffer
	_, err = Run(context.Background(), fakeSetup(t, runConfig(4)), RunOptions{Out: dir, Resume: true, Log: &log})
	require.NoError(t, err)
	for _, name := range stale {
		assert.NoFileExists(t, filepath.Join(dir, name))
	}
	assert.FileExists(t, keep, "only temporary files of atomic writes are removed")
	assert.Contains(t, log.String(), "removed 4 temporary files of interrupted writes")
}

// TestResumeDropsTornMetricsLine checks that a metrics file whose last
// line was cut short does not block resuming: the line is dropped with a
// warning. A bad line before the last one is still an error.
func TestResumeDropsTornMetricsLine(t *testing.T) {
	dir := t.TempDir()
	cfg := runConfig(6)
	cfg.LogEvery = 1
	_, err := Run(context.Background(), fakeSetup(t, cfg), RunOptions{Out: dir, Until: 3})
	require.NoError(t, err)
	mpath := filepath.Join(dir, MetricsFile)
	f, err := os.OpenFile(mpath, os.O_APPEND|os.O_WRONLY, 0o644)
	require.NoError(t, err)
	_, err = f.WriteString(`{"step":4,"epoch":0,"lo`)
	require.NoError(t, err)
	require.NoError(t, f.Close())

	var log bytes.Buffer
	_, err = Run(context.Background(), fakeSetup(t, cfg), RunOptions{Out: dir, Resume: true, Log: &log})
	require.NoError(t, err)
	assert.Contains(t, log.String(), "dropped its torn last line 4")
	ms, err := ReadMetrics(mpath)
	require.NoError(t, err)
	require.Len(t, ms, 6)
	for i, m := range ms {
		assert.Equal(t, i+1, m.Step)
	}

	raw, err := os.ReadFile(mpath)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(mpath, append([]byte("{bad\n"), raw...), 0o644))
	_, err = Run(context.Background(), fakeSetup(t, cfg), RunOptions{Out: dir, Resume: true})
	assert.ErrorContains(t, err, "line 1")
}

// TestResumeUsesTheCheckpointConfig checks that resuming compares the
// configuration with the one the checkpoint records even when config.json
// is gone, naming every field that differs.
func TestResumeUsesTheCheckpointConfig(t *testing.T) {
	dir := t.TempDir()
	_, err := Run(context.Background(), fakeSetup(t, runConfig(4)), RunOptions{Out: dir, Until: 2})
	require.NoError(t, err)
	require.NoError(t, os.Remove(filepath.Join(dir, ConfigFile)))
	meta, err := ReadCheckpointMeta(filepath.Join(dir, CheckpointFile), Config{})
	require.NoError(t, err)
	require.NotNil(t, meta.Train)
	assert.Equal(t, runConfig(4), *meta.Train, "the checkpoint records the whole training configuration")

	other := DefaultConfig()
	other.Steps = 4
	_, err = Run(context.Background(), fakeSetup(t, other), RunOptions{Out: dir, Resume: true})
	require.Error(t, err)
	for _, want := range []string{"method: checkpoint sar, given tf", "batch: checkpoint 8, given 32", "sigma: checkpoint 0.5, given 0.01"} {
		assert.Contains(t, err.Error(), want)
	}
	_, err = Run(context.Background(), fakeSetup(t, runConfig(4)), RunOptions{Out: dir, Resume: true})
	require.NoError(t, err)
	assert.FileExists(t, filepath.Join(dir, ConfigFile))
}

// TestRunRecordsTheTokenizer checks that checkpoints record the
// tokenizer's path (run.json: relative to the run directory) and
// fingerprint, and that resuming or initialising with another tokenizer
// is refused, naming both fingerprints and both paths.
func TestRunRecordsTheTokenizer(t *testing.T) {
	base := t.TempDir()
	t.Chdir(base)
	require.NoError(t, os.MkdirAll("tok", 0o755))
	fpA, fpB := "sha256:"+strings.Repeat("a", 64), "sha256:"+strings.Repeat("b", 64)
	info := RunInfo{Tokenizer: "tok/tokenizer.safetensors", TokenizerFingerprint: fpA}
	_, err := Run(context.Background(), fakeSetup(t, runConfig(4)), RunOptions{Out: "runs/a", Until: 2, Info: info})
	require.NoError(t, err)
	meta, err := ReadCheckpointMeta(filepath.Join("runs/a", CheckpointFile), Config{})
	require.NoError(t, err)
	require.NotNil(t, meta.Tokenizer)
	assert.Equal(t, TokenizerRef{Path: filepath.Join(base, "tok", "tokenizer.safetensors"), Fingerprint: fpA}, *meta.Tokenizer)
	raw, err := os.ReadFile(filepath.Join("runs/a", RunFile))
	require.NoError(t, err)
	assert.Contains(t, string(raw), `"tokenizer": "../../tok/tokenizer.safetensors"`)

	other := RunInfo{Tokenizer: "tok2/tokenizer.safetensors", TokenizerFingerprint: fpB}
	_, err = Run(context.Background(), fakeSetup(t, runConfig(4)), RunOptions{Out: "runs/a", Resume: true, Info: other})
	require.Error(t, err)
	for _, want := range []string{"sha256:aaaaaaaaaaaaaaaa (" + filepath.Join(base, "tok", "tokenizer.safetensors") + ")",
		"tokenizer " + filepath.Join(base, "tok2", "tokenizer.safetensors") + " is sha256:bbbbbbbbbbbbbbbb"} {
		assert.Contains(t, err.Error(), want)
	}
	_, err = Run(context.Background(), fakeSetup(t, runConfig(4)), RunOptions{Out: "runs/b", Init: filepath.Join("runs/a", CheckpointFile), Info: other})
	assert.ErrorContains(t, err, "init weights: checkpoint runs/a/model.safetensors was trained with tokenizer sha256:aaaaaaaaaaaaaaaa")
	_, err = Run(context.Background(), fakeSetup(t, runConfig(4)), RunOptions{Out: "runs/a", Resume: true, Info: info})
	require.NoError(t, err)
}

// TestRunRefusesBadDirectories checks the messages for an empty run
// directory and one that names a file.
func TestRunRefusesBadDirectories(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o644))
	_, err := Run(context.Background(), fakeSetup(t, runConfig(2)), RunOptions{Out: ""})
	assert.ErrorContains(t, err, "no run directory given")
	_, err = Run(context.Background(), fakeSetup(t, runConfig(2)), RunOptions{Out: file})
	assert.ErrorContains(t, err, file+" is a file, not a run directory")
}

// TestRunLengthOverflow checks that a run length beyond MaxSteps, or one
// whose epochs times steps per epoch overflows, is an error.
func TestRunLengthOverflow(t *testing.T) {
	for _, tc := range []struct {
		steps, epochs int
		want          string
	}{
		{0, math.MaxInt / 2, "epochs of 4 steps (32 images, batch 8) exceed the 2147483648-step limit"},
		{0, MaxSteps, "exceed the 2147483648-step limit"},
		{MaxSteps + 1, 0, "2147483649 steps: want at most 2147483648"},
	} {
		cfg := runConfig(tc.steps)
		cfg.Epochs = tc.epochs
		_, err := NewTrainer(fakeSetup(t, cfg))
		assert.ErrorContains(t, err, tc.want)
	}
}

// TestTrainerRefusesMoreClasses checks that data with more classes than
// the model's class embedding holds is an error naming both counts, not
// labels silently trained into the null class.
func TestTrainerRefusesMoreClasses(t *testing.T) {
	s := fakeSetup(t, runConfig(2))
	s.NullClass = fakeClasses - 1
	_, err := NewTrainer(s)
	assert.ErrorContains(t, err, "the data fake has 4 classes, the model 3")
}

// TestSkipNonFiniteLimit checks that skipped steps are logged as skipped
// (no loss of 0), and that skipping more than the allowed share of the
// steps stops the run.
func TestSkipNonFiniteLimit(t *testing.T) {
	cfg := runConfig(10)
	cfg.SkipNonFinite, cfg.LogEvery = true, 2
	s := fakeSetup(t, cfg)
	s.Net.(*fakeNet).poisonAt = 2 // steps 3 to 10 are non-finite
	dir := t.TempDir()
	var log bytes.Buffer
	_, err := Run(context.Background(), s, RunOptions{Out: dir, Log: &log, MaxSkipped: 1})
	require.NoError(t, err)
	ms, err := ReadMetrics(filepath.Join(dir, MetricsFile))
	require.NoError(t, err)
	require.Len(t, ms, 5)
	assert.NotNil(t, ms[0].Loss)
	for _, m := range ms[1:] {
		assert.Nil(t, m.Loss, "step %d: every step since the last line was skipped", m.Step)
		assert.Nil(t, m.GradNorm)
		assert.Equal(t, 2, m.Skipped)
	}
	assert.Contains(t, log.String(), "step 4/10 epoch 0 skipped 2: no finite step since the last line")
	assert.Contains(t, log.String(), "step 3 skipped: non-finite loss or gradient")

	s = fakeSetup(t, cfg)
	s.Net.(*fakeNet).poisonAt = 2
	log.Reset()
	sum, err := Run(context.Background(), s, RunOptions{Out: t.TempDir(), Log: &log})
	var se *SkippedError
	require.True(t, errors.As(err, &se), "got %v", err)
	assert.Equal(t, "skipped 2 non-finite steps, more than 10% of the 10 steps of this run: training diverges (lower the learning rate, or raise the allowed share)", err.Error())
	assert.Equal(t, 4, sum.Step)
	assert.Contains(t, log.String(), "no checkpoint was written")
}

// TestRunStoppedByContext checks that a cancelled run saves its
// checkpoint and returns an error naming the step and the cause.
func TestRunStoppedByContext(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	cause := errors.New("terminated signal received")
	cancel(cause)
	dir := t.TempDir()
	sum, err := Run(ctx, fakeSetup(t, runConfig(4)), RunOptions{Out: dir})
	require.ErrorIs(t, err, cause)
	assert.EqualError(t, err, "run: stopped at step 0: terminated signal received")
	assert.Equal(t, filepath.Join(dir, CheckpointFile), sum.Checkpoint)
	assert.FileExists(t, sum.Checkpoint)
}
