package tokenizer

import (
	"context"
	"io"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"sargo/sar/data"
)

// TestOverfitMNIST trains the tiny preset on 64 MNIST images and requires
// the reconstruction loss at the largest scale to fall to half or less.
func TestOverfitMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for several seconds")
	}
	full, err := data.LoadMNIST(true)
	if err != nil {
		t.Skipf("MNIST unavailable: %v", err)
	}
	ds := full.Subset(64)
	cfg, tc, err := Preset("tiny")
	require.NoError(t, err)
	// The loss halves well within 40 steps of 8 images (about 10 s of
	// CPU time).
	tc.Steps, tc.Batch, tc.LogEvery = 40, 8, 10
	m, err := New(cfg, cpu(t), 1)
	require.NoError(t, err)
	L := cfg.Latent()
	before, err := Evaluate(m, ds, L, 0, 64)
	require.NoError(t, err)

	start := time.Now()
	var logw io.Writer // the training log is shown with -v
	if testing.Verbose() {
		logw = os.Stderr
	}
	stats, err := Train(context.Background(), m, ds, tc, "", logw)
	require.NoError(t, err)
	took := time.Since(start)
	after, err := Evaluate(m, ds, L, 0, 64)
	require.NoError(t, err)
	t.Logf("%d steps in %v: recon at %d×%d %.4f → %.4f; last logged %+v", stats.Steps, took, L, L, before, after, stats.Last)
	require.LessOrEqual(t, after, before/2, "reconstruction loss did not halve")
}
