package tokenizer

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"sargo/internal/atomicfile"
	"sargo/internal/rundir"
	"sargo/nn"
)

// MaxSteps bounds a training run's length (as train.MaxSteps does).
const MaxSteps = 1 << 31

// checkLength refuses a run longer than MaxSteps, including Epochs
// passes over n images whose step count overflows.
func (c TrainConfig) checkLength(n int) error {
	if c.Steps > MaxSteps {
		return fmt.Errorf("tokenizer train config: Steps %d, want at most %d", c.Steps, MaxSteps)
	}
	if c.Steps == 0 && c.Batch > 0 && c.Epochs > 0 {
		perEpoch := (n + c.Batch - 1) / c.Batch
		if c.Epochs > MaxSteps/perEpoch {
			return fmt.Errorf("tokenizer train config: Epochs %d of %d steps (%d images, batch %d) exceed the %d-step limit",
				c.Epochs, perEpoch, n, c.Batch, MaxSteps)
		}
	}
	return nil
}

// lockOutDir creates and locks the output folder and removes the
// temporary files of writes killed there, noting them on log.
func lockOutDir(dir string, log io.Writer) (*rundir.Lock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("tokenizer train: %w", err)
	}
	lock, err := rundir.Acquire(dir)
	if err != nil {
		return nil, fmt.Errorf("tokenizer train: %w", err)
	}
	removed, err := atomicfile.CleanDir(dir)
	if err != nil {
		lock.Release()
		return nil, fmt.Errorf("tokenizer train: remove temporary files: %w", err)
	}
	if len(removed) > 0 {
		fmt.Fprintf(log, "removed %d temporary files of interrupted writes in %s: %s\n", len(removed), dir, strings.Join(removed, ", "))
	}
	return lock, nil
}

// checkFinite reads the losses accumulated since the last log line and
// the weights, and returns an error when any is not finite.
func (t *trainer) checkFinite() error {
	v, err := t.acc.Read()
	if err != nil {
		return fmt.Errorf("tokenizer train: step %d: read statistics: %w", t.step, err)
	}
	if err := t.checkLosses(v); err != nil {
		return err
	}
	if name := nn.FirstNonFinite(t.params); name != "" {
		return t.nonFinite(name)
	}
	return nil
}

// checkLosses returns an error when a sum of the accumulator ([loss,
// recon, vq, grad norm]) is not finite.
func (t *trainer) checkLosses(v []float32) error {
	for i, name := range []string{"loss", "reconstruction loss", "quantizer loss", "gradient norm"} {
		if f := float64(v[i]); math.IsNaN(f) || math.IsInf(f, 0) {
			return t.nonFinite(name)
		}
	}
	return nil
}

// nonFinite is the error that stops a diverged run, naming the step (the
// last one taken, numbered from 1), the value, and the checkpoint kept.
func (t *trainer) nonFinite(what string) error {
	kept := "no checkpoint was written"
	if t.stats.Checkpoint != "" {
		kept = fmt.Sprintf("the last good checkpoint is %s (step %d)", t.stats.Checkpoint, t.stats.CheckpointStep)
	}
	return fmt.Errorf("tokenizer train: stopped: non-finite %s by step %d (training diverged; lower the learning rate); %s",
		what, t.step, kept)
}
