package train

import (
	"math"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	_ "sargo/kernels/opengl"
	"sargo/kernels/vulkan"
	"sargo/sar"
	"sargo/tensor"
)

// gpuTrainTol bounds the largest difference, relative to the largest
// magnitude of the tensor, between a GPU run and the CPU run of the same
// steps: fp32 kernels that sum in other orders drift apart by about 1e-6
// per step, and AdamW's normalised updates spread a small gradient
// difference over every weight.
const gpuTrainTol = 1e-3

// TestGPUTrainingMatchesCPU trains the real transformer for a few SAR
// steps (teacher forcing, then a rollout with the argmax teacher and the
// contrastive loss) on each GPU backend and on the CPU, from the same
// initial weights and batches, and compares the losses of every step and
// the final weights. Every GPU backend is held to the same tolerance.
func TestGPUTrainingMatchesCPU(t *testing.T) {
	const steps = 4
	want := trainOn(t, tensor.MustOpen("cpu"), steps)
	for _, kind := range []string{"vulkan", "opengl"} {
		t.Run(kind, func(t *testing.T) {
			dev, err := tensor.Open(kind)
			if err != nil {
				if os.Getenv("SARGO_REQUIRE_"+strings.ToUpper(kind)) == "1" {
					require.NoError(t, err)
				}
				t.Skipf("no %s device: %v", kind, err)
			}
			requireSameTraining(t, dev, want, trainOn(t, dev, steps))
			require.NoError(t, dev.Sync())
		})
	}
	// The discrete-GPU memory mode (device-local storage, staged
	// transfers) on any Vulkan device; the validation layer, when on, must
	// say nothing.
	t.Run("vulkan_discrete", func(t *testing.T) {
		if testing.Short() {
			t.Skip("runs once more in the default memory mode")
		}
		dev, err := vulkan.Open(0, vulkan.Options{Memory: vulkan.MemoryDiscrete})
		if err != nil {
			if os.Getenv("SARGO_REQUIRE_VULKAN") == "1" {
				require.NoError(t, err)
			}
			t.Skipf("no vulkan device: %v", err)
		}
		defer func() {
			require.NoError(t, dev.Close())
			require.Empty(t, dev.ValidationMessages(), "validation messages")
		}()
		requireSameTraining(t, dev, want, trainOn(t, dev, steps))
		require.NoError(t, dev.Sync())
	})
}

// requireSameTraining compares the losses and final weights of a run on
// dev with the CPU's run.
func requireSameTraining(t *testing.T, dev tensor.Backend, want, got trainRun) {
	t.Helper()
	for i := range want.losses {
		assert.InDelta(t, want.losses[i], got.losses[i], gpuTrainTol*math.Abs(want.losses[i]), "loss of step %d", i+1)
	}
	worst := 0.0
	for name, w := range want.weights {
		g := got.weights[name]
		require.Len(t, g, len(w), name)
		scale, diff := 1e-6, 0.0
		for i := range w {
			scale = math.Max(scale, math.Abs(float64(w[i])))
			diff = math.Max(diff, math.Abs(float64(w[i])-float64(g[i])))
		}
		worst = math.Max(worst, diff/scale)
		assert.LessOrEqual(t, diff/scale, gpuTrainTol, "%s: relative difference %.2e", name, diff/scale)
	}
	t.Logf("%s (%s): losses %v (cpu %v); largest relative weight difference %.2e", dev.Name(), dev.Describe(), got.losses, want.losses, worst)
}

// trainRun is what a short run ends with.
type trainRun struct {
	losses  []float64
	weights map[string][]float32
}

// trainOn runs steps SAR training steps of a tiny transformer on dev over
// the fake data and tokenizer.
func trainOn(t *testing.T, dev tensor.Backend, steps int) trainRun {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Method, cfg.Teacher, cfg.Rollout, cfg.Sigma = MethodSAR, TeacherArgmax, "last", 0.5
	cfg.Batch, cfg.Steps, cfg.Warmup, cfg.LR, cfg.Seed = 8, steps, 1, 1e-3, 3
	m, err := sar.NewModel(sar.Config{Depth: 2, Width: 32, Heads: 2, MLPRatio: 2, NumClasses: fakeClasses, Vocab: fakeVocab,
		CVae: fakeCVae, Largest: fakeLargest, CondDrop: 0.1, AttnL2: true}, dev, 1)
	require.NoError(t, err)
	m.SetTrain(true)
	tr, err := NewTrainer(Setup{Cfg: cfg, Net: m, Tok: newFakeTok(dev, fakeVocab, fakeCVae), NullClass: fakeClasses,
		Largest: fakeLargest, Data: fakeData(32, fakeClasses), Dev: dev})
	require.NoError(t, err)
	var run trainRun
	for range steps {
		r, err := tr.TrainStep()
		require.NoError(t, err)
		require.False(t, r.Skipped)
		run.losses = append(run.losses, r.Loss)
	}
	run.weights = map[string][]float32{}
	for _, p := range tr.Params() {
		d, err := p.Var.Value.Read()
		require.NoError(t, err)
		run.weights[p.Name] = d
	}
	return run
}
