package tokenizer

import (
	"errors"
	"fmt"

	"sargo/sar/schedule"
)

// Decay names the learning-rate decay after warm-up.
const (
	DecayCosine = "cosine"
	DecayLinear = "linear"
)

// TrainConfig drives Train. Zero values of the optional fields take the
// defaults documented on them.
type TrainConfig struct {
	// Steps is the number of optimiser steps; when 0, Epochs passes over
	// the dataset are run instead (ceil(N/Batch) steps each).
	Steps  int `json:"steps"`
	Epochs int `json:"epochs"`
	Batch  int `json:"batch"`
	// LR is the peak learning rate, reached after Warmup steps and decayed
	// to LR·MinLRFrac at the last step along Decay ("cosine", the default,
	// or "linear").
	LR          float32 `json:"lr"`
	MinLRFrac   float32 `json:"min_lr_frac"`
	Decay       string  `json:"decay"`
	WeightDecay float32 `json:"weight_decay"`
	Warmup      int     `json:"warmup"`
	// ClipNorm is the global gradient-norm limit (0 disables clipping).
	ClipNorm float32 `json:"clip_norm"`
	// Seed fixes the data order, the scale drawn at each step and the
	// dead-code restarts (the weights come from New's seed).
	Seed uint64 `json:"seed"`
	// LogEvery is the logging period in steps (0: only the last step).
	LogEvery int `json:"log_every"`
	// SaveEvery is the checkpoint period in steps (0: only at the end).
	SaveEvery int `json:"save_every"`
	// Scales are the scales a step draws from (default: the VAR-like list
	// of the tokenizer's latent).
	Scales schedule.Schedule `json:"scales,omitempty"`
	// LargestProb is the probability of training a step at the largest
	// scale (default 0.5); the other scales share the rest equally.
	LargestProb float64 `json:"largest_prob"`
	// UsageWindow is the number of batches over which codebook usage is
	// counted (default 100); at the end of each window the codes chosen in
	// none of its batches are restarted, unless KeepDead is set.
	UsageWindow int  `json:"usage_window"`
	KeepDead    bool `json:"keep_dead"`
}

// withDefaults fills the optional fields for a tokenizer with latent side
// latent and a dataset of n images.
func (c TrainConfig) withDefaults(latent, n int) TrainConfig {
	if c.Batch > 0 && c.Steps == 0 && c.Epochs > 0 {
		c.Steps = c.Epochs * ((n + c.Batch - 1) / c.Batch)
	}
	if c.Decay == "" {
		c.Decay = DecayCosine
	}
	if len(c.Scales) == 0 {
		c.Scales = schedule.VARList(latent)
	}
	if c.LargestProb == 0 {
		c.LargestProb = 0.5
	}
	if c.UsageWindow == 0 {
		c.UsageWindow = 100
	}
	return c
}

// validate checks the filled-in config against the tokenizer's latent.
func (c TrainConfig) validate(latent int) error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("tokenizer train config: %s: "+format, append([]any{field}, args...)...))
	}
	if c.Steps < 1 {
		bad("Steps", "%d (with Epochs %d), want >= 1", c.Steps, c.Epochs)
	}
	if c.Batch < 1 {
		bad("Batch", "%d, want >= 1", c.Batch)
	}
	if !(c.LR > 0) {
		bad("LR", "%g, want > 0", c.LR)
	}
	if c.MinLRFrac < 0 || c.MinLRFrac > 1 {
		bad("MinLRFrac", "%g, want in [0, 1]", c.MinLRFrac)
	}
	if c.Decay != DecayCosine && c.Decay != DecayLinear {
		bad("Decay", "%q, want %q or %q", c.Decay, DecayCosine, DecayLinear)
	}
	if c.WeightDecay < 0 {
		bad("WeightDecay", "%g, want >= 0", c.WeightDecay)
	}
	if c.Warmup < 0 {
		bad("Warmup", "%d, want >= 0", c.Warmup)
	}
	if c.ClipNorm < 0 {
		bad("ClipNorm", "%g, want >= 0", c.ClipNorm)
	}
	if c.LogEvery < 0 || c.SaveEvery < 0 {
		bad("LogEvery/SaveEvery", "%d/%d, want >= 0", c.LogEvery, c.SaveEvery)
	}
	if c.LargestProb < 0 || c.LargestProb > 1 {
		bad("LargestProb", "%g, want in [0, 1]", c.LargestProb)
	}
	if c.UsageWindow < 1 {
		bad("UsageWindow", "%d, want >= 1", c.UsageWindow)
	}
	if err := c.Scales.Validate(latent); err != nil {
		bad("Scales", "%v", err)
	}
	return errors.Join(errs...)
}
