package tokenizer

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/autograd"
	"sargo/kernels/kerneltest"
	"sargo/sar/schedule"
	"sargo/tensor"
	"sargo/tensor/tensortest"
)

// TestTokenizerLeavesNothing trains, tokenizes, reconstructs and
// evaluates on every device and checks that each frees everything it
// makes on the device but its results.
func TestTokenizerLeavesNothing(t *testing.T) {
	kerneltest.Run(t, func(t *testing.T, dev tensor.Backend) {
		s := tensor.NewScope(dev) // the model and the images
		defer s.Close()
		cfg := smallConfig(4)
		m, err := New(cfg, dev, 2)
		require.NoError(t, err)
		ds := synthDataset(cfg, 5, 1)
		tc := quickTrain()
		tc.Steps = 3
		tensortest.NoLeaks(t, dev, func() {
			_, err := Train(context.Background(), m, ds, tc, "", nil)
			require.NoError(t, err)
		})
		x := randImages(t, dev, cfg, 2, 7)
		tensortest.NoLeaks(t, dev, func() {
			ids, z := m.Tokenize(x, schedule.Schedule{1, 2})
			y := m.Reconstruct(x, 1)
			for _, r := range append(append(ids, z...), y) {
				_, err := r.Read()
				require.NoError(t, err)
				r.Release()
			}
		})
		tensortest.NoLeaks(t, dev, func() {
			_, err := Evaluate(m, ds, 2, 4, 2)
			require.NoError(t, err)
		})
	})
}

// TestDecodeHoldsOneBlock decodes without a graph and checks that only the
// images outlive the call and that the device's peak stays near one
// block's activations: each block runs in its own scope, so a full-size
// decode does not hold every block's activations at once.
func TestDecodeHoldsOneBlock(t *testing.T) {
	kerneltest.Run(t, func(t *testing.T, dev tensor.Backend) {
		s := tensor.NewScope(dev)
		defer s.Close()
		m := loadSmallVAE(t, dev)
		L := m.Cfg.Latent()
		z := tensor.Randn(dev, 1, 0, 2, m.Cfg.CVae, L, L)
		require.NoError(t, dev.Sync())
		before := dev.MemStats()
		dev.ResetPeak()
		y := m.Decode(nil, autograd.Const(z)).Value
		_, err := y.Read()
		require.NoError(t, err)
		after := dev.MemStats()
		assert.Equal(t, int64(1), after.Live()-before.Live(), "storages live after Decode: want the images only")
		// The largest activation of one image: Base channels at full
		// resolution. Holding every block's activations reaches about 53
		// of them with this model; one block at a time, about 8.
		act := int64(4 * m.Cfg.Base * m.Cfg.ImageSize * m.Cfg.ImageSize)
		peak := after.PeakBytes - before.LiveBytes
		assert.LessOrEqual(t, peak, 16*act, "peak device bytes of Decode: %.1f activations of one image", float64(peak)/float64(act))
	})
}
