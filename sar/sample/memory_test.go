package sample

import (
	"testing"

	"github.com/stretchr/testify/require"

	"sargo/kernels/kerneltest"
	"sargo/tensor"
	"sargo/tensor/tensortest"
)

// TestGenerateLeavesNothing samples with and without guidance, with
// either guidance ramp and greedy rule, and from given scales (on the CPU; the last, which takes every path, on every
// device) and checks that only the Result outlives Generate: the KV
// cache, the logits and the decoder's activations are freed.
func TestGenerateLeavesNothing(t *testing.T) {
	kerneltest.Run(t, func(t *testing.T, d tensor.Backend) {
		s := tensor.NewScope(d) // the models and the start latents
		defer s.Close()
		m, vq := modelsOn(t, d)
		labels := []int{0, 1, 2}
		ids, z := vq.Tokenize(tensor.Rand(d, 3, 0, 3, 1, 16, 16), baseOptions().Schedule[:2])
		for _, tt := range []struct {
			name         string
			cfg          float32
			ramp, greedy string
			start        *Start
			cpuOnly      bool
		}{
			{"guided", 1.5, "", "", nil, true},
			{"unguided", 0, "", "", nil, true},
			{"guided, linear ramp, never greedy", 2, RampLinear, GreedyNever, nil, true},
			{"guided from two scales", 1.5, "", "", &Start{Z: z, IDs: ids}, false},
		} {
			if tt.cpuOnly && d.Name() != "cpu" {
				continue
			}
			t.Run(tt.name, func(t *testing.T) {
				opt := baseOptions()
				opt.CFG, opt.Ramp, opt.Greedy = tt.cfg, tt.ramp, tt.greedy
				tensortest.NoLeaks(t, d, func() {
					res, err := Generate(m, vq, labels, opt, tt.start)
					require.NoError(t, err)
					imgs, err := DecodeScales(vq, res.Z)
					require.NoError(t, err)
					_, err = res.Images.Read()
					require.NoError(t, err)
					res.Release()
					for _, img := range imgs {
						img.Release()
					}
				})
			})
		}
	})
}
