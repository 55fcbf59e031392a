package train

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/nn"
)

// lin0 is the authors' lr_wd_annealing for sche_type "lin0" as a fraction
// of the peak (wp0 0.005, a 5% plateau, final wpe).
func lin0(it, wp, maxIt int, wpe float64) float64 {
	if it < wp {
		return 0.005 + 0.995*float64(it)/float64(wp)
	}
	pasd := float64(it-wp) / float64(maxIt-1-wp)
	if pasd < 0.05 {
		return 1
	}
	return wpe + (1-wpe)*(1-pasd)/0.95
}

func TestRatesFlexVAR(t *testing.T) {
	c := DefaultConfig()
	c.LR, c.Warmup, c.LRFloor = 3e-4, 36, 0.1
	s, from := c.Rates(1800)
	assert.Zero(t, from)
	for _, it := range []int{0, 1, 35, 36, 100, 117, 900, 1799, 2500} {
		assert.InDelta(t, 3e-4*lin0(min(it, 1799), 36, 1800, 0.1), s.LR(it), 1e-12, "step %d", it)
	}
	legacy := c
	legacy.LRSchedule, legacy.MinLR = "", 1e-5
	s, _ = legacy.Rates(100)
	assert.Equal(t, nn.DecayLinear, s.Kind)
	assert.InDelta(t, 3e-4/36, s.LR(0), 1e-12)
	assert.InDelta(t, 1e-5, s.LR(100), 1e-12)
}

// TestContinueAsTheAuthors checks SAR post-training's learning rate:
// FlexVAR d16 ran 180 epochs (warm-up ep/50 = 3.6 epochs, peak 3e-4,
// floor 0.1×); SAR resumes from epoch 179 with 190 epochs in total, so it
// runs 11 epochs from about 4.7e-5 down to 3e-5, without warm-up.
func TestContinueAsTheAuthors(t *testing.T) {
	const e = 100 // steps per epoch
	tf := DefaultConfig()
	tf.Steps, tf.LR, tf.Warmup, tf.LRFloor = 180*e, 3e-4, 360, 0.1
	post := DefaultConfig()
	post.Method, post.Steps, post.LR, post.Warmup = MethodSAR, 11*e, 1, 5
	got := Continue(post, tf, 179*e, 180*e, 11*e)
	assert.Equal(t, MethodSAR, got.Method)
	assert.Equal(t, 179*e, got.LRFrom)
	assert.Equal(t, 190*e, got.LRTotal)
	s, from := got.Rates(got.Steps)
	first, last := s.LR(from), s.LR(from+got.Steps-1)
	assert.InDelta(t, 3e-4*lin0(179*e, 360, 190*e, 0.1), first, 1e-12)
	assert.InDelta(t, 4.7e-5, first, 0.1e-5)
	assert.InDelta(t, 3e-5, last, 1e-12)
	for i := 1; i < got.Steps; i++ {
		assert.LessOrEqual(t, s.LR(from+i), s.LR(from+i-1), "no warm-up: the rate only falls")
	}

	// A run stopped before its end continues its own schedule unstretched.
	mid := Continue(post, tf, 90*e, 180*e, 10*e)
	ms, mfrom := mid.Rates(mid.Steps)
	assert.Equal(t, 180*e, ms.Total)
	tfs, _ := tf.Rates(180 * e)
	assert.Equal(t, tfs.LR(95*e), ms.LR(mfrom+5*e))

	// Continuing a continuation keeps going down the same path.
	again := Continue(post, got, got.Steps, got.Steps, 5*e)
	as, afrom := again.Rates(again.Steps)
	assert.Equal(t, 190*e, afrom)
	assert.Equal(t, 195*e, as.Total)
}

func TestContinueFrom(t *testing.T) {
	tf := DefaultConfig()
	tf.Steps, tf.LR, tf.Warmup = 200, 1e-3, 20
	raw, err := json.Marshal(tf)
	require.NoError(t, err)
	var obj map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw, &obj))
	obj["model"] = json.RawMessage(`{"Depth": 2}`)
	raw, err = json.Marshal(obj)
	require.NoError(t, err)
	run := DefaultConfig()
	run.Method, run.Steps = MethodSAR, 12
	got, err := ContinueFrom(run, &nn.TrainState{Step: 200, Config: raw}, 1000)
	require.NoError(t, err)
	assert.Equal(t, 200, got.LRFrom)
	assert.Equal(t, 212, got.LRTotal)
	assert.Equal(t, 1e-3, got.LR)

	// A configuration from before named schedule shapes continues linearly.
	legacy := []byte(`{"method": "tf", "rollout": "last", "teacher": "argmax", "schedule": "random", "batch": 8,
		"steps": 50, "lr": 0.001, "min_lr": 0, "warmup": 5, "beta1": 0.9, "beta2": 0.95, "log_every": 1}`)
	got, err = ContinueFrom(run, &nn.TrainState{Step: 50, Config: legacy}, 1000)
	require.NoError(t, err)
	assert.Equal(t, "", got.LRSchedule)
	s, from := got.Rates(got.Steps)
	assert.Equal(t, nn.DecayLinear, s.Kind)
	assert.InDelta(t, 1e-3*(1-float64(45)/57), s.LR(from), 1e-12)

	_, err = ContinueFrom(run, &nn.TrainState{Step: 5}, 1000)
	assert.ErrorContains(t, err, "no training configuration")
	_, err = ContinueFrom(run, &nn.TrainState{Step: 5, Config: []byte(`{"model": {}}`)}, 1000)
	assert.ErrorContains(t, err, "no training configuration")
}

// TestTrainerTakesTheContinuedRates checks that a trainer on a continued
// configuration steps along the schedule from LRFrom.
func TestTrainerTakesTheContinuedRates(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Steps, cfg.Batch, cfg.LR, cfg.Warmup, cfg.LRFrom, cfg.LRTotal = 3, 4, 1e-3, 10, 90, 100
	tr, err := NewTrainer(fakeSetup(t, cfg))
	require.NoError(t, err)
	s, _ := cfg.Rates(3)
	for i := range 3 {
		res, err := tr.TrainStep()
		require.NoError(t, err)
		assert.Equal(t, s.LR(90+i), res.LR)
	}
}

// TestStepScheduleSampler checks that training batches follow the
// configured sampler: FlexVAR's can end below the largest scale.
func TestStepScheduleSampler(t *testing.T) {
	short := map[string]int{}
	for _, sampler := range []string{"flexvar", "keep-last"} {
		c := DefaultConfig()
		c.ScheduleSampler = sampler
		for step := range 400 {
			if stepSchedule(c, 8, step).Last() < 8 {
				short[sampler]++
			}
		}
	}
	assert.InDelta(t, 0.275*400, short["flexvar"], 40, "about 27.5% of the 8×8 schedules end at 7")
	assert.Zero(t, short["keep-last"])
}
