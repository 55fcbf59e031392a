package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/internal/rundir"
	"sargo/sar"
	"sargo/sar/tokenizer"
	"sargo/sar/train"
	"sargo/tensor"
)

// fingerprintOf is the fingerprint of the tokenizer checkpoint at path.
func fingerprintOf(t *testing.T, path string) string {
	t.Helper()
	vq, _, err := tokenizer.Load(path, tensor.MustOpen("cpu"))
	require.NoError(t, err)
	fp, err := vq.Fingerprint()
	require.NoError(t, err)
	return fp
}

// TestCLITokenizerOverwrite checks that train-tokenizer refuses to replace
// an existing tokenizer without --force, leaving it untouched, and that
// a model whose tokenizer was replaced anyway is refused by sample, eval
// and train --init/--resume, with both fingerprints and both paths.
func TestCLITokenizerOverwrite(t *testing.T) {
	dir := trainedFixture(t)
	tokArgs := []string{"train-tokenizer", "--preset", "tiny", "--data", "data", "--steps", "1", "--batch", "4", "--seed", "9", "--out", "tok"}
	before := digest(t, filepath.Join(dir, "tok"))
	code, stderr := runCLI(t, dir, nil, tokArgs...)
	assert.Equal(t, 1, code, stderr)
	assert.Contains(t, stderr, "tok already holds a tokenizer (tok/tokenizer.safetensors)")
	assert.Contains(t, stderr, "--force")
	assert.Equal(t, before, digest(t, filepath.Join(dir, "tok")), "the tokenizer is untouched")

	oldFP := fingerprintOf(t, filepath.Join(dir, "tok", tokenizer.CheckpointFile))
	code, stderr = runCLI(t, dir, nil, append(tokArgs, "--force")...)
	require.Equal(t, 0, code, stderr)
	newFP := fingerprintOf(t, filepath.Join(dir, "tok", tokenizer.CheckpointFile))
	require.NotEqual(t, oldFP, newFP)

	want := []string{tokenizer.ShortFingerprint(oldFP), tokenizer.ShortFingerprint(newFP),
		"was trained with tokenizer", filepath.Join(trained.dir, "tok", tokenizer.CheckpointFile)}
	for _, args := range [][]string{
		{"sample", "--model", "run", "--n", "1", "--out", "s.png"},
		{"eval", "--model", "run", "--data", "data", "--n", "4"},
		{"train", "--preset", "tiny", "--tokenizer", "tok", "--data", "data", "--steps", "2", "--batch", "4",
			"--init", "run/model.safetensors", "--out", "post"},
		{"train", "--preset", "tiny", "--tokenizer", "tok", "--data", "data", "--steps", "4", "--batch", "4", "--resume", "--out", "run"},
	} {
		t.Run(args[0]+" "+args[len(args)-1], func(t *testing.T) {
			code, stderr := runCLI(t, dir, nil, args...)
			assert.Equal(t, 1, code, stderr)
			for _, w := range want {
				assert.Contains(t, stderr, w)
			}
			assert.Regexp(t, `tokenizer \S*tok/tokenizer.safetensors is `+tokenizer.ShortFingerprint(newFP), stderr)
		})
	}
	assert.NoFileExists(t, filepath.Join(dir, "s.png"))
	assert.NoDirExists(t, filepath.Join(dir, "post"))
}

// TestCLIRunFindsItsTokenizer checks that run.json names the tokenizer
// relative to the run directory, so that sample run from another folder
// (one holding a tokenizer folder of the same name) uses the run's own.
func TestCLIRunFindsItsTokenizer(t *testing.T) {
	dir := trainedFixture(t)
	raw, err := os.ReadFile(filepath.Join(dir, "run", train.RunFile))
	require.NoError(t, err)
	assert.Contains(t, string(raw), `"tokenizer": "../tok/tokenizer.safetensors"`)

	elsewhere := t.TempDir()
	code, stderr := runCLI(t, elsewhere, nil, "train-tokenizer", "--preset", "tiny", "--data", filepath.Join(dir, "data"),
		"--steps", "1", "--batch", "4", "--out", "tok", "--config", writeFile(t, elsewhere, "tok.json", `{"tokenizer": {"codebook": 32}}`))
	require.Equal(t, 0, code, stderr)
	code, stdout, stderr := runCLIOut(t, elsewhere, nil, "sample", "--model", filepath.Join(dir, "run"), "--n", "1", "--out", "s.png")
	require.Equal(t, 0, code, "the run's tokenizer, not ./tok: %s", stderr)
	assert.Contains(t, stdout, "wrote 2 samples")
}

// writeFile writes content to dir/name and returns the path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	return p
}

// TestCLIResume checks resuming an interrupted SAR run whose config.json
// is gone: it continues as SAR from the checkpoint's configuration
// (rather than the preset's TF defaults), refuses flags and presets that
// disagree with the checkpoint, naming each difference, drops a torn last
// metrics line with a warning, and removes the temporary files of killed
// writes.
func TestCLIResume(t *testing.T) {
	dir := trainedFixture(t)
	run := filepath.Join(dir, "run")
	interrupt(t, run)
	require.NoError(t, os.Remove(filepath.Join(run, train.ConfigFile)))
	stale := []string{"checkpoints/.step_000004.safetensors.tmp1234", ".model.safetensors.tmp99"}
	for _, name := range stale {
		writeFile(t, run, name, "partial")
	}
	f, err := os.OpenFile(filepath.Join(run, train.MetricsFile), os.O_APPEND|os.O_WRONLY, 0o644)
	require.NoError(t, err)
	_, err = f.WriteString(`{"step":3,"epo`)
	require.NoError(t, err)
	require.NoError(t, f.Close())

	base := []string{"train", "--tokenizer", "tok", "--data", "data", "--steps", "4", "--out", "run", "--resume"}
	for _, tc := range []struct {
		name  string
		extra []string
		want  []string
	}{
		{"method", []string{"--method", "tf"}, []string{"method: checkpoint sar, given tf"}},
		{"schedule and batch", []string{"--schedule", "fixed", "--batch", "8"}, []string{"schedule: checkpoint random, given fixed", "batch: checkpoint 4, given 8"}},
		{"preset", []string{"--preset", "small"}, []string{"model Width: checkpoint 64, --preset small 192", "model Depth: checkpoint 2, --preset small 4"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := digest(t, run)
			code, stderr := runCLI(t, dir, nil, append(base, tc.extra...)...)
			assert.Equal(t, 1, code, stderr)
			assert.Contains(t, stderr, "disagree with checkpoint run/model.safetensors")
			for _, w := range tc.want {
				assert.Contains(t, stderr, w)
			}
			assert.Equal(t, before, digest(t, run), "a refused resume changes nothing")
		})
	}

	code, stdout, stderr := runCLIOut(t, dir, nil, base...)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "sar training: steps 3 to 4 of 4")
	assert.Contains(t, stdout, "dropped its torn last line 3")
	assert.Contains(t, stdout, "removed 2 temporary files of interrupted writes")
	for _, name := range stale {
		assert.NoFileExists(t, filepath.Join(run, name))
	}
	cfg, err := train.LoadConfigFile(filepath.Join(run, train.ConfigFile), train.Config{})
	require.NoError(t, err)
	assert.Equal(t, train.MethodSAR, cfg.Method)
	assert.Equal(t, 4, cfg.Batch)
	ms, err := train.ReadMetrics(filepath.Join(run, train.MetricsFile))
	require.NoError(t, err)
	require.Len(t, ms, 4)
	for i, m := range ms {
		assert.Equal(t, i+1, m.Step)
		assert.NotNil(t, m.LossCSFL, "step %d is a SAR step", m.Step)
	}
}

// TestCLIRunDirectoryLock checks that train and train-tokenizer refuse a
// folder another process holds, at once, naming that process.
func TestCLIRunDirectoryLock(t *testing.T) {
	dir := trainedFixture(t)
	for _, tc := range []struct {
		folder string
		args   []string
	}{
		{"busy", []string{"train", "--preset", "tiny", "--tokenizer", "tok", "--data", "data", "--steps", "2", "--batch", "4", "--out", "busy"}},
		{"busytok", []string{"train-tokenizer", "--preset", "tiny", "--data", "data", "--steps", "2", "--batch", "4", "--out", "busytok"}},
	} {
		t.Run(tc.args[0], func(t *testing.T) {
			require.NoError(t, os.MkdirAll(filepath.Join(dir, tc.folder), 0o755))
			lock, err := rundir.Acquire(filepath.Join(dir, tc.folder))
			require.NoError(t, err)
			defer lock.Release()
			code, stderr := runCLI(t, dir, nil, tc.args...)
			assert.Equal(t, 1, code, stderr)
			assert.Contains(t, stderr, fmt.Sprintf("%s is in use by process %d", tc.folder, os.Getpid()))
			entries, err := os.ReadDir(filepath.Join(dir, tc.folder))
			require.NoError(t, err)
			require.Len(t, entries, 1, "only the lock file")
		})
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a polling reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// terminate starts sargo with args in dir, sends it SIGTERM once ready
// reports true (polled every 20 ms, for at most a minute), and returns
// its exit code, stdout and stderr.
func terminate(t *testing.T, dir string, ready func(stdout string) bool, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	cmd := cliCommand(t, ctx, dir, nil, args...)
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Start())
	deadline := time.Now().Add(time.Minute)
	for !ready(stdout.String()) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("sargo %s never got ready; stdout:\n%s\nstderr:\n%s", args[0], stdout.String(), stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	err := cmd.Wait()
	code := 0
	if err != nil {
		code = cmd.ProcessState.ExitCode()
	}
	return code, stdout.String(), stderr.String()
}

// TestCLITerminate checks that SIGTERM stops train, train-tokenizer, demo
// and reproduce as SIGINT does: the checkpoint is written, and the
// command exits non-zero saying where it stopped and how to continue.
func TestCLITerminate(t *testing.T) {
	dir := trainedFixture(t)
	stepRE := regexp.MustCompile(`train: stopped at step (\d+) \(terminated signal received\); checkpoint long/model.safetensors; resume with: (sargo train .* --resume)\n`)
	t.Run("train", func(t *testing.T) {
		args := []string{"train", "--preset", "tiny", "--tokenizer", "tok", "--data", "data", "--steps", "400", "--batch", "4",
			"--log-every", "1", "--save-every", "0", "--out", "long"}
		code, stdout, stderr := terminate(t, dir, func(out string) bool { return strings.Contains(out, "step 1/400") }, args...)
		assert.Equal(t, 1, code, stderr)
		m := stepRE.FindStringSubmatch(stderr)
		require.NotNil(t, m, "stderr: %s", stderr)
		step, _ := strconv.Atoi(m[1])
		assert.Contains(t, stdout, fmt.Sprintf("interrupted (terminated signal received) at step %d", step))
		_, st, err := sar.LoadModel(filepath.Join(dir, "long", train.CheckpointFile), tensor.MustOpen("cpu"))
		require.NoError(t, err)
		assert.Equal(t, step, st.Step)
		assert.Equal(t, "sargo "+strings.Join(args, " ")+" --resume", m[2])
	})
	t.Run("train-tokenizer", func(t *testing.T) {
		cfg := writeFile(t, dir, "long.json", `{"train": {"steps": 400, "batch": 4, "log_every": 1}}`)
		code, _, stderr := terminate(t, dir, func(out string) bool { return strings.Contains(out, "step      1") },
			"train-tokenizer", "--preset", "tiny", "--data", "data", "--config", cfg, "--out", "longtok")
		assert.Equal(t, 1, code, stderr)
		assert.Regexp(t, `train-tokenizer: stopped at step \d+ \(terminated signal received\); checkpoint longtok/tokenizer.safetensors holds step \d+`, stderr)
		_, _, err := tokenizer.Load(filepath.Join(dir, "longtok", tokenizer.CheckpointFile), tensor.MustOpen("cpu"))
		require.NoError(t, err)
	})
	t.Run("demo", func(t *testing.T) {
		code, _, stderr := terminate(t, dir, func(string) bool {
			_, err := os.Stat(filepath.Join(dir, "demo", "tokenizer", tokenizer.ConfigFile))
			return err == nil
		}, "demo", "--images", "64", "--tokenizer-steps", "2000", "--out", "demo")
		assert.Equal(t, 1, code, stderr)
		assert.Regexp(t, `demo: tokenizer stopped at step \d+ \(terminated signal received\); checkpoint demo/tokenizer/tokenizer.safetensors`, stderr)
		assert.FileExists(t, filepath.Join(dir, "demo", "tokenizer", tokenizer.CheckpointFile))
	})
	t.Run("reproduce", func(t *testing.T) {
		code, _, stderr := terminate(t, dir, func(out string) bool { return strings.Contains(out, "== feature classifier") },
			"reproduce", "--preset", "tiny", "--out", "rep")
		assert.Equal(t, 1, code, stderr)
		assert.Contains(t, stderr, "stopped at step")
		assert.Contains(t, stderr, "resume with: sargo reproduce --preset tiny --out rep")
	})
}

// TestCLIInitMoreClasses checks that --init from a checkpoint with fewer
// classes than the data is an error naming both counts, instead of the
// extra class training the null (guidance) embedding.
func TestCLIInitMoreClasses(t *testing.T) {
	dir := trainedFixture(t)
	code, stderr := runCLI(t, dir, nil, "train", "--preset", "tiny", "--tokenizer", "tok", "--data", "data3", "--steps", "2",
		"--batch", "4", "--init", "run/model.safetensors", "--out", "post")
	assert.Equal(t, 1, code, stderr)
	assert.Contains(t, stderr, "the data data3 has 3 classes, checkpoint run/model.safetensors has 2")
	assert.NoDirExists(t, filepath.Join(dir, "post"))
}

// TestCLIDivergence checks the non-finite guards: train-tokenizer stops
// (exit 1) instead of writing an all-NaN tokenizer; train numbers the
// failing step as its progress lines do; and --skip-nonfinite logs
// skipped steps without a loss and fails once more than --max-skipped of
// the steps were skipped.
func TestCLIDivergence(t *testing.T) {
	dir := trainedFixture(t)
	t.Run("train-tokenizer", func(t *testing.T) {
		code, stderr := runCLI(t, dir, nil, "train-tokenizer", "--preset", "tiny", "--data", "data", "--steps", "4", "--batch", "4",
			"--lr", "1e30", "--out", "nan")
		assert.Equal(t, 1, code, stderr)
		assert.Contains(t, stderr, "tokenizer train: stopped: non-finite")
		assert.NoFileExists(t, filepath.Join(dir, "nan", tokenizer.CheckpointFile))
	})
	trainArgs := []string{"train", "--preset", "tiny", "--tokenizer", "tok", "--data", "data", "--steps", "10", "--batch", "4",
		"--log-every", "1", "--lr", "1e30"}
	t.Run("train", func(t *testing.T) {
		code, stdout, stderr := runCLIOut(t, dir, nil, append(trainArgs, "--out", "div")...)
		assert.Equal(t, 1, code, stderr)
		assert.Contains(t, stdout, "step 1/10 epoch 0 loss")
		assert.Contains(t, stderr, "sargo: step 2: non-finite value in")
		assert.Contains(t, stdout, "stopped: step 2: non-finite value in")
	})
	t.Run("skip", func(t *testing.T) {
		code, stdout, stderr := runCLIOut(t, dir, nil, append(trainArgs, "--out", "skip", "--skip-nonfinite")...)
		assert.Equal(t, 1, code, stderr)
		assert.Contains(t, stderr, "skipped 2 non-finite steps, more than 10% of the 10 steps of this run")
		assert.Contains(t, stdout, "step 2 skipped: non-finite loss or gradient")
		assert.Contains(t, stdout, "step 2/10 epoch 0 skipped 1: no finite step since the last line")
		raw, err := os.ReadFile(filepath.Join(dir, "skip", train.MetricsFile))
		require.NoError(t, err)
		lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
		require.Len(t, lines, 2)
		assert.Contains(t, lines[0], `"loss":`)
		assert.NotContains(t, lines[1], `"loss":`, "a skipped step has no loss")
		assert.Contains(t, lines[1], `"skipped":1`)

		code, stderr = runCLI(t, dir, nil, append(trainArgs, "--out", "skip2", "--skip-nonfinite", "--max-skipped", "1", "--steps", "4")...)
		assert.Equal(t, 0, code, "--max-skipped 1 allows every step to be skipped: %s", stderr)
	})
}

// TestCLISampleTemperatureZero checks that --temperature 0 is greedy
// decoding: every seed gives the same images.
func TestCLISampleTemperatureZero(t *testing.T) {
	dir := trainedFixture(t)
	var outs [][]byte
	for _, seed := range []string{"1", "2"} {
		out := "greedy" + seed + ".png"
		code, stderr := runCLI(t, dir, nil, "--seed", seed, "sample", "--model", "run", "--n", "2", "--temperature", "0", "--out", out)
		require.Equal(t, 0, code, stderr)
		raw, err := os.ReadFile(filepath.Join(dir, out))
		require.NoError(t, err)
		outs = append(outs, raw)
	}
	assert.Equal(t, outs[0], outs[1], "greedy decoding does not depend on the seed")
}

// TestCLIStepsOverflow checks that --epochs whose step count overflows is
// an error, not a negative run length and an untrained checkpoint.
func TestCLIStepsOverflow(t *testing.T) {
	dir := trainedFixture(t)
	for _, args := range [][]string{
		{"train", "--preset", "tiny", "--tokenizer", "tok", "--data", "data", "--batch", "4", "--epochs", "9223372036854775807", "--out", "ovf"},
		{"train-tokenizer", "--preset", "tiny", "--data", "data", "--batch", "4", "--epochs", "9223372036854775807", "--out", "ovf"},
	} {
		code, stderr := runCLI(t, dir, nil, args...)
		assert.Equal(t, 1, code, stderr)
		assert.Contains(t, stderr, "exceed the 2147483648-step limit")
		assert.NoFileExists(t, filepath.Join(dir, "ovf", train.CheckpointFile))
		assert.NoFileExists(t, filepath.Join(dir, "ovf", tokenizer.CheckpointFile))
	}
}
