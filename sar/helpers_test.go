package sar

import (
	"math"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	_ "sargo/kernels/cpu"
	"sargo/sar/schedule"
	"sargo/tensor"
)

// dev is the device the tests run on.
func dev() tensor.Backend { return tensor.MustOpen("cpu") }

// tinyConfig is a small model for tests.
func tinyConfig() Config {
	return Config{Depth: 2, Width: 32, Heads: 2, MLPRatio: 4, NumClasses: 3, Vocab: 16, CVae: 4,
		Largest: 4, CondDrop: 0.1, AttnL2: true}
}

// tinyModel builds the tiny model in evaluation mode.
func tinyModel(t *testing.T, seed uint64) *Model {
	t.Helper()
	m, err := NewModel(tinyConfig(), dev(), seed)
	require.NoError(t, err)
	return m
}

// randLatents draws per-scale latents [B, CVae, s, s].
func randLatents(b, cvae int, scales schedule.Schedule, seed uint64) []*tensor.Tensor {
	z := make([]*tensor.Tensor, len(scales))
	off := uint64(0)
	for k, s := range scales {
		z[k] = tensor.Randn(dev(), seed, off, b, cvae, s, s)
		off += uint64(b * cvae * s * s)
	}
	return z
}

// labelsOf makes a labels tensor.
func labelsOf(ls ...int) *tensor.Tensor {
	v := make([]float32, len(ls))
	for i, l := range ls {
		v[i] = float32(l)
	}
	return tensor.FromSlice(dev(), v, len(v))
}

// maxAbsDiff is the largest |a−b| over two equally long slices.
func maxAbsDiff(t *testing.T, a, b []float32) float64 {
	t.Helper()
	require.Equal(t, len(a), len(b))
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i])-float64(b[i])))
	}
	return d
}

// itoa formats a small non-negative integer.
func itoa(k int) string { return strconv.Itoa(k) }
