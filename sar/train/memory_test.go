package train

import (
	"testing"

	"github.com/stretchr/testify/require"

	"sargo/kernels/kerneltest"
	"sargo/nn"
	"sargo/tensor"
	"sargo/tensor/tensortest"
)

// TestStepLeavesNothing runs steps of every method on every device and
// checks that a step frees everything it makes: afterwards only what
// existed before it is live (the parameters, their moments and the data;
// TrainStep clears the gradients).
func TestStepLeavesNothing(t *testing.T) {
	kerneltest.Run(t, func(t *testing.T, dev tensor.Backend) {
		for _, tt := range []struct{ method, rollout, teacher string }{
			{MethodTF, "last", TeacherArgmax},
			{MethodSF, "last", TeacherSample},
			{MethodSAR, "all", TeacherSample},
			{MethodSAR, "last", TeacherArgmax},
		} {
			t.Run(tt.method+"/"+tt.rollout+"/"+tt.teacher, func(t *testing.T) {
				s := tensor.NewScope(dev) // the model, the data and the trainer
				defer s.Close()
				cfg := DefaultConfig()
				cfg.Method, cfg.Rollout, cfg.Teacher, cfg.Batch = tt.method, tt.rollout, tt.teacher, 4
				cfg.TeacherCFG, cfg.TeacherTopK = 1.5, 5
				cfg.Clip = 1
				setup := fakeSetupOn(t, cfg, dev)
				params := setup.Net.Parameters()
				before := dev.MemStats().LiveBytes
				tr, err := NewTrainer(setup)
				require.NoError(t, err)
				moments := dev.MemStats().LiveBytes - before
				require.Equal(t, 2*int64(nn.NumParams(params))*4, moments, "AdamW keeps two moments per parameter")
				for range 3 {
					tensortest.NoLeaks(t, dev, func() {
						res, err := tr.TrainStep()
						require.NoError(t, err)
						require.Positive(t, res.Loss)
					})
				}
			})
		}
	})
}
