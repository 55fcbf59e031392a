package vulkan

import (
	"crypto/sha256"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/autograd"
	"sargo/nn"
	"sargo/sar"
	"sargo/sar/schedule"
	"sargo/tensor"
)

// faultRun is a tiny transformer trained with AdamW on one device, with a
// checkpoint after every few steps, as the training loop keeps one.
type faultRun struct {
	dev     tensor.Backend
	m       *sar.Model
	opt     *nn.AdamW
	labels  *tensor.Tensor
	targets *tensor.Tensor
	inputs  *autograd.Var
	scales  schedule.Schedule
	step    int
}

const faultBatch = 4

func faultModelConfig() sar.Config {
	return sar.Config{Depth: 1, Width: 32, Heads: 2, MLPRatio: 2, NumClasses: 3, Vocab: 16, CVae: 4,
		Largest: 4, CondDrop: 0.1, AttnL2: true}
}

// newFaultRun builds the run on dev; with from set, it continues the
// checkpoint from (weights, moments and step).
func newFaultRun(t *testing.T, dev tensor.Backend, from string) *faultRun {
	t.Helper()
	cfg := faultModelConfig()
	m, err := sar.NewModel(cfg, dev, 1)
	require.NoError(t, err)
	m.SetTrain(true)
	opt, err := nn.NewAdamW(m.Parameters(), nn.DefaultAdamWConfig())
	require.NoError(t, err)
	r := &faultRun{dev: dev, m: m, opt: opt, scales: schedule.Schedule{1, 2, 4}}
	if from != "" {
		st := nn.TrainState{Optimizer: opt}
		require.NoError(t, nn.LoadCheckpoint(from, m.Parameters(), &st))
		r.step = st.Step
	}
	r.labels = tensor.FromSlice(dev, []float32{0, 1, 2, 1}, faultBatch)
	z := make([]*tensor.Tensor, len(r.scales))
	for k, s := range r.scales {
		z[k] = tensor.Randn(dev, 7, uint64(k)<<20, faultBatch, cfg.CVae, s, s)
	}
	r.inputs = autograd.Const(sar.NextScaleInputs(z, r.scales))
	var tokens []float32
	for i := range faultBatch * r.scales.Tokens() {
		tokens = append(tokens, float32(i*7%cfg.Vocab))
	}
	r.targets = tensor.FromSlice(dev, tokens, len(tokens))
	return r
}

// trainStep runs one step and returns its loss or the device's error.
func (r *faultRun) trainStep() (float32, error) {
	g := autograd.NewGraph(r.dev)
	defer g.Close()
	off := uint64(r.step) << 24
	r.m.SetDropPathOffset(off)
	logits := r.m.Forward(g, r.m.DropLabels(r.labels, 1, off), r.scales, r.inputs)
	n := faultBatch * r.scales.Tokens()
	loss := g.CrossEntropy(g.Reshape(logits, n, r.m.Cfg.Vocab), r.targets, autograd.DefaultCEOptions())
	if err := g.Backward(loss); err != nil {
		return 0, err
	}
	if err := r.opt.Update(); err != nil {
		return 0, err
	}
	nn.ZeroGrads(r.m.Parameters())
	v, err := loss.Value.Read()
	if err != nil {
		return 0, err
	}
	r.step++
	return v[0], nil
}

// save writes the run's checkpoint to path.
func (r *faultRun) save(path string) error {
	return r.m.Save(path, &nn.TrainState{Step: r.step, Optimizer: r.opt})
}

func fileHash(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return sha256.Sum256(b)
}

// TestDeviceLostStopsTheRun injects a lost device into a training loop on
// Vulkan: the error reaches the loop (no panic) naming the submit and its
// ops, saving afterwards fails without touching the last checkpoint, which
// loads; a fresh device resumes from it and ends, to fp32 tolerance, where
// an uninterrupted run on Vulkan ends.
func TestDeviceLostStopsTheRun(t *testing.T) {
	const total, faultAt, saveEvery = 8, 5, 2
	dir := t.TempDir()
	ckpt := filepath.Join(dir, "model.safetensors")

	b, err := Open(0, Options{Validation: true})
	skipOrFail(t, err)
	run := newFaultRun(t, b, "")
	var stepErr error
	for run.step < total {
		if run.step == faultAt {
			b.SetFaultAfter(1) // the next submit fails
		}
		if _, stepErr = run.trainStep(); stepErr != nil {
			break
		}
		if run.step%saveEvery == 0 {
			require.NoError(t, run.save(ckpt))
		}
	}
	require.Error(t, stepErr, "the injected fault reaches the training loop")
	assert.ErrorIs(t, stepErr, errDeviceLost)
	assert.Contains(t, stepErr.Error(), "vulkan: submit batch")
	assert.Contains(t, stepErr.Error(), "dispatches: ")
	assert.Contains(t, stepErr.Error(), "VK_ERROR_DEVICE_LOST")
	t.Logf("step %d: %v", run.step, stepErr)
	require.Equal(t, faultAt, run.step, "no step completes after the fault")

	before := fileHash(t, ckpt)
	require.Error(t, run.save(ckpt), "saving from a lost device fails")
	assert.Equal(t, before, fileHash(t, ckpt), "the last checkpoint is untouched")
	tmp, _ := filepath.Glob(filepath.Join(dir, ".*tmp*"))
	assert.Empty(t, tmp, "no temporary file is left")
	assert.ErrorIs(t, b.Close(), errDeviceLost)
	assert.ErrorIs(t, b.Sync(), errDeviceLost, "the closed device keeps its error")

	_, st, err := sar.LoadModel(ckpt, tensor.MustOpen("cpu"))
	require.NoError(t, err, "the last checkpoint loads")
	require.Equal(t, faultAt-faultAt%saveEvery, st.Step)

	resumed := resumeOnVulkan(t, ckpt, total)
	straight := resumeOnVulkan(t, "", total)
	var overall float64
	defer func() { t.Logf("largest relative difference, resumed vs uninterrupted: %g", overall) }()
	for name, want := range straight {
		got := resumed[name]
		require.Len(t, got, len(want), name)
		var worst float64
		for i := range want {
			d := math.Abs(float64(got[i] - want[i]))
			worst = math.Max(worst, d/math.Max(1e-3, math.Abs(float64(want[i]))))
		}
		overall = math.Max(overall, worst)
		assert.LessOrEqual(t, worst, 1e-4, "%s: resumed and uninterrupted runs differ (relative %g)", name, worst)
	}
}

// resumeOnVulkan trains on a new validated device from the checkpoint
// (or from the start) to step total and returns the parameters.
func resumeOnVulkan(t *testing.T, from string, total int) map[string][]float32 {
	t.Helper()
	b := openValidated(t)
	run := newFaultRun(t, b, from)
	for run.step < total {
		_, err := run.trainStep()
		require.NoError(t, err)
	}
	out := map[string][]float32{}
	for _, p := range run.m.Parameters() {
		d, err := p.Var.Value.Read()
		require.NoError(t, err)
		out[p.Name] = d
	}
	return out
}
