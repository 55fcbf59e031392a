package tokenizer

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

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
