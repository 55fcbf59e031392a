package main

import (
	"bytes"
	"image"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"sargo/sar/train"
)

// trained is the folder of the trained fixture, built once per test
// binary by trainedFixture and removed by TestMain.
var trained struct {
	once sync.Once
	dir  string
	err  string
}

// removeTrainedFixture removes the trained fixture's folder.
func removeTrainedFixture() {
	if trained.dir != "" {
		os.RemoveAll(trained.dir)
	}
}

// trainedFixture returns a new folder holding a copy of the trained
// fixture, made with the sargo command itself:
//
//	data/, data3/  2 and 3 classes of four random 32-px grey images
//	tok/           the tiny tokenizer trained on data/ for 2 steps
//	run/           SAR training of the tiny transformer on data/ for 4
//	               steps (batch 4), a checkpoint every 2 steps, a
//	               metrics line every step
func trainedFixture(t *testing.T) string {
	t.Helper()
	trained.once.Do(func() {
		dir, err := os.MkdirTemp("", "sargo-cli-fixture")
		if err != nil {
			trained.err = err.Error()
			return
		}
		trained.dir = dir
		r := rand.New(rand.NewPCG(3, 4))
		for folder, classes := range map[string][]string{"data": {"a", "b"}, "data3": {"a", "b", "c"}} {
			for _, class := range classes {
				for i := range 4 {
					img := image.NewGray(image.Rect(0, 0, 32, 32))
					for j := range img.Pix {
						img.Pix[j] = uint8(r.IntN(256))
					}
					var buf bytes.Buffer
					if err := png.Encode(&buf, img); err != nil {
						trained.err = err.Error()
						return
					}
					p := filepath.Join(dir, folder, class, strconv.Itoa(i)+".png")
					if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
						trained.err = err.Error()
						return
					}
					if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
						trained.err = err.Error()
						return
					}
				}
			}
		}
		for _, args := range [][]string{
			{"train-tokenizer", "--preset", "tiny", "--data", "data", "--steps", "2", "--batch", "4", "--out", "tok"},
			{"train", "--preset", "tiny", "--method", "sar", "--tokenizer", "tok", "--data", "data", "--steps", "4",
				"--batch", "4", "--save-every", "2", "--log-every", "1", "--out", "run"},
		} {
			if code, stderr := runCLI(t, dir, nil, args...); code != 0 {
				trained.err = "sargo " + args[0] + ": " + stderr
				return
			}
		}
	})
	require.Empty(t, trained.err, "building the trained fixture")
	dst := t.TempDir()
	require.NoError(t, os.CopyFS(dst, os.DirFS(trained.dir)))
	return dst
}

// interrupt turns the run in dir into one interrupted after step 2: its
// latest checkpoint is the step-2 one and its metrics stop there.
func interrupt(t *testing.T, dir string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, train.CheckpointDir, "step_000002.safetensors"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, train.CheckpointFile), raw, 0o644))
	ms, err := train.ReadMetrics(filepath.Join(dir, train.MetricsFile))
	require.NoError(t, err)
	lines, err := os.ReadFile(filepath.Join(dir, train.MetricsFile))
	require.NoError(t, err)
	keep := bytes.SplitAfter(lines, []byte{'\n'})[:2]
	require.Equal(t, 2, ms[1].Step)
	require.NoError(t, os.WriteFile(filepath.Join(dir, train.MetricsFile), bytes.Join(keep, nil), 0o644))
}
