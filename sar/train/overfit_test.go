package train_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/sar"
	"sargo/sar/data"
	"sargo/sar/preset"
	"sargo/sar/tokenizer"
	"sargo/sar/train"
	"sargo/tensor"
)

// TestOverfitMNIST trains a tiny tokenizer for a few steps, then a tiny
// teacher-forcing model on 64 MNIST images, and expects the loss to fall
// to at most half its initial value within 48 steps (about 15 seconds on
// two idle cores; the wall-clock cap only guards against a hang on a
// loaded machine).
func TestOverfitMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for up to a minute")
	}
	ds, err := data.LoadMNIST(true)
	if err != nil {
		t.Skipf("MNIST unavailable: %v", err)
	}
	ds = ds.Subset(64)
	p, err := preset.Get("tiny")
	require.NoError(t, err)
	dev, err := tensor.Open("cpu")
	require.NoError(t, err)

	vq, err := tokenizer.New(p.Tokenizer, dev, 1)
	require.NoError(t, err)
	tt := p.TokenizerTrain
	tt.Steps, tt.Batch, tt.Warmup, tt.LogEvery, tt.SaveEvery = 6, 16, 1, 6, 0
	_, err = tokenizer.Train(context.Background(), vq, ds, tt, "", nil)
	require.NoError(t, err)
	vq.SetTrain(false)

	mc := p.Model
	mc.CondDrop = 0
	m, err := sar.NewModel(mc, dev, 1)
	require.NoError(t, err)
	cfg := p.Train
	cfg.Method, cfg.Schedule = train.MethodTF, train.ScheduleFixed
	cfg.Batch, cfg.Steps, cfg.LR, cfg.Warmup, cfg.WeightDecay = 16, 400, 3e-3, 5, 0
	tr, err := train.NewTrainer(train.Setup{Cfg: cfg, Net: m, Tok: vq, Inputs: sar.NextScaleInputs,
		NullClass: mc.NumClasses, Largest: mc.Largest, Data: ds, Dev: dev})
	require.NoError(t, err)

	const maxSteps = 48
	start := time.Now()
	deadline := start.Add(3 * time.Minute)
	var first float64
	var recent []float64
	for time.Now().Before(deadline) && tr.Step < maxSteps {
		r, err := tr.TrainStep()
		require.NoError(t, err)
		if r.Step == 0 {
			first = r.Loss
		}
		recent = append(recent, r.Loss)
		if len(recent) > 4 { // one epoch of 64 images
			recent = recent[1:]
		}
		if len(recent) == 4 && mean(recent) <= first/2 {
			break
		}
	}
	t.Logf("%d steps in %s: loss %.3f -> %.3f", tr.Step, time.Since(start).Round(time.Second), first, mean(recent))
	assert.LessOrEqual(t, mean(recent), first/2, "loss after %d steps", tr.Step)
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}
