package eval

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"sargo/kernels/kerneltest"
	"sargo/tensor"
	"sargo/tensor/tensortest"
)

// TestEvaluateLeavesNothing trains the classifier a few steps, builds the
// reference and runs the whole evaluation (with the exposure bias of the
// default, guided sampling teacher) on every device, then the exposure
// bias with argmax predictions and the held-out loss, and checks that
// each frees everything it makes on the device.
func TestEvaluateLeavesNothing(t *testing.T) {
	kerneltest.Run(t, func(t *testing.T, dev tensor.Backend) {
		s := tensor.NewScope(dev) // the models and the classifier
		defer s.Close()
		m, vq := tinyModelsOn(t, dev)
		test := noiseDataset(12)
		c, err := NewClassifier(ClassifierConfig{Channels: 1, ImageSize: 16, Widths: []int{4, 8, 8}, Features: 8, Classes: 3}, dev, 1)
		require.NoError(t, err)
		tensortest.NoLeaks(t, dev, func() {
			require.NoError(t, TrainClassifier(context.Background(), c, test, ClassifierTrainConfig{Steps: 2, Batch: 4, LR: 1e-3}, nil))
		})
		var ref *Reference
		tensortest.NoLeaks(t, dev, func() {
			ref, err = NewReference(c, test, 0)
			require.NoError(t, err)
		})
		opt := DefaultOptions()
		opt.N, opt.Batch, opt.TokenizerImages = 6, 4, 4
		opt.Schedule = []int{1, 2, 4}
		tensortest.NoLeaks(t, dev, func() {
			r, err := Evaluate(m, vq, c, ref, test, opt, nil)
			require.NoError(t, err)
			require.Equal(t, 6, r.N)
			require.NotNil(t, r.Exposure)
		})
		tensortest.NoLeaks(t, dev, func() {
			eo := DefaultExposureOptions()
			eo.Images, eo.Batch, eo.Teacher, eo.Schedule = 6, 4, "argmax", []int{1, 2, 4}
			_, err := ExposureBias(m, vq, test, eo)
			require.NoError(t, err)
		})
		tensortest.NoLeaks(t, dev, func() {
			_, err := HeldOutLoss(m, vq, test, 6, 4, []int{1, 2, 4})
			require.NoError(t, err)
		})
	})
}
