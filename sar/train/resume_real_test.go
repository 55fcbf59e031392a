package train_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/nn"
	"sargo/sar"
	"sargo/sar/train"
)

// TestResumeRealModel runs the tiny preset's transformer (SAR with a
// sampling teacher) for N steps straight, and for N/2 steps, then resumed
// for the rest, and expects bit-identical weights and optimiser moments,
// with and without drop-path (whose stream position comes from the step).
func TestResumeRealModel(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a real model")
	}
	for _, dropPath := range []float32{0, 0.2} {
		t.Run(fmt.Sprintf("droppath=%g", dropPath), func(t *testing.T) { resumeRealModel(t, dropPath) })
	}
}

func resumeRealModel(t *testing.T, dropPath float32) {
	const n = 4
	setup := func() train.Setup {
		s := realSetup(t, "tiny", 0, 0, 4, train.MethodSAR, func(c *sar.Config) { c.DropPath = dropPath })
		s.Cfg.Steps, s.Cfg.Teacher, s.Cfg.Rollout, s.Cfg.Sigma = n, train.TeacherSample, "all", 0.5
		s.Cfg.LogEvery, s.Cfg.SaveEvery, s.Cfg.Warmup = 1, 0, 1
		return s
	}
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	_, err := train.Run(context.Background(), setup(), train.RunOptions{Out: a})
	require.NoError(t, err)
	_, err = train.Run(context.Background(), setup(), train.RunOptions{Out: b, Until: n / 2})
	require.NoError(t, err)
	_, err = train.Run(context.Background(), setup(), train.RunOptions{Out: b, Resume: true})
	require.NoError(t, err)

	fa, err := nn.ReadSafetensorsFile(filepath.Join(a, train.CheckpointFile))
	require.NoError(t, err)
	fb, err := nn.ReadSafetensorsFile(filepath.Join(b, train.CheckpointFile))
	require.NoError(t, err)
	require.Len(t, fb.Tensors, len(fa.Tensors))
	ib := fb.Index()
	for _, ta := range fa.Tensors {
		tb, ok := ib[ta.Name]
		require.True(t, ok, ta.Name)
		assert.Equal(t, ta.Raw, tb.Raw, "%s differs after resuming", ta.Name)
	}
	assert.Equal(t, fa.Metadata["step"], fb.Metadata["step"])
}
