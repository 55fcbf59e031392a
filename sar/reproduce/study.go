package reproduce

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"sargo/sar"
	"sargo/sar/preset"
	"sargo/sar/train"
)

// Study is the reproduction protocol with the power to decide between SAR
// and teacher forcing (TF). A TF base run follows its learning-rate
// schedule down to the floor and trains on at the floor until its
// held-out loss plateaus; then, from its last checkpoint and for PostFrac
// of its steps (the paper's proportion: 11 SAR epochs after 180), TF
// continued, SAR post-training and naive student-forcing (SF)
// post-training run with every seed, on the same learning-rate path (the
// tail of the base run's schedule, stretched to end with them, as
// train.Continue does for the authors' runs). Every final checkpoint is evaluated with
// EvalN samples (FID, accuracy, IS, precision and recall on sargo's
// classifier) and the exposure bias on ExposureImages test images, and
// gets a sample grid of GridPerClass per class. SAR's sigma and rollout
// are swept on the first seed.
type Study struct {
	Name string `json:"name"`
	// Preset holds the tokenizer, the transformer and the base training
	// configuration (its method, length and seed are set per run).
	Preset preset.Preset `json:"preset"`
	// TrainImages uses the first TrainImages training images (0: all).
	TrainImages int `json:"train_images"`
	// ScheduleSteps is the length of the base run's learning-rate
	// schedule (the preset's shape: warm-up, peak, linear decay to the
	// floor at its last step); past it the rate stays at the floor (0:
	// BaseSteps). BaseSteps caps the base run. Its held-out loss (teacher
	// forcing on the first ValImages test images, VAR schedule) is
	// measured every ValEvery steps; from ScheduleSteps on it stops once
	// the best of the last PlateauWindow measurements is less than
	// PlateauDelta (relative) below the best before them.
	ScheduleSteps int     `json:"schedule_steps,omitempty"`
	BaseSteps     int     `json:"base_steps"`
	ValEvery      int     `json:"val_every"`
	ValImages     int     `json:"val_images"`
	PlateauWindow int     `json:"plateau_window"`
	PlateauDelta  float64 `json:"plateau_delta"`
	// PostFrac is the length of every post-training run as a fraction of
	// the base run's steps.
	PostFrac float64 `json:"post_frac"`
	// Seeds key each post-training run's data order, schedules,
	// condition dropout and teacher draws, and its evaluation's samples.
	Seeds []uint64 `json:"seeds"`
	// Sigmas and Rollouts are SAR's sweep on the first seed (the main
	// runs use the preset's sigma and rollout).
	Sigmas   []float32 `json:"sigmas"`
	Rollouts []string  `json:"rollouts"`
	// EvalN samples per evaluation in batches of EvalBatch; GridPerClass
	// samples per class in each final checkpoint's grid; ExposureImages
	// test images for the exposure bias.
	EvalN          int `json:"eval_n"`
	EvalBatch      int `json:"eval_batch"`
	GridPerClass   int `json:"grid_per_class"`
	ExposureImages int `json:"exposure_images"`
	// ClassifierSteps trains the feature classifier; TokenizerImages is
	// the number of test images the tokenizer's metrics use.
	ClassifierSteps int `json:"classifier_steps"`
	TokenizerImages int `json:"tokenizer_images"`
}

// StudyNames lists the studies GetStudy knows.
func StudyNames() []string { return []string{"medium"} }

// GetStudy returns a named study:
//
//   - medium: MNIST. A tokenizer of base width 16 (CVae 8, 256 codes, 400
//     steps of 16); a transformer of 2 blocks of width 64 (4 heads)
//     trained with TF at batch 32 on all 60,000 training images, peak lr
//     1e-3 on FlexVAR's lin0 schedule of 4,000 steps (down to the floor,
//     0.1 of the peak), then on at the floor until 3 held-out
//     measurements (every 200 steps, 1,000 test images) improve by less
//     than 0.5%, at most 10,000 steps in all; then 6% of its steps for TF
//     continued, SAR and naive SF with seeds 1, 2 and 3, and SAR with
//     sigma 0.003, 0.03, 0.1 and rollouts last:2 and all on seed 1; per
//     final checkpoint (the base's and 14 post-training runs') 10,000
//     samples, a grid of 100 per class and the exposure bias on 1,000
//     test images.
//
// Width 64 rather than 128 is what lets the base run reach its plateau
// in the time: on the shared 2-vCPU AMD EPYC (Zen 3, AVX2) development
// machine under load, width 128 still improved its held-out loss by 2% per
// 200 steps at 2,000 steps (1.57 nats per token; 47 minutes), and width 64
// trained on a schedule of 8,000 steps was still improving at its end
// (1.38; 93 minutes, 0.69 s a step on both cores). By those timings the
// whole protocol takes about four hours on that machine.
func GetStudy(name string) (Study, error) {
	switch name {
	case "medium":
		p, err := preset.Get("small")
		if err != nil {
			return Study{}, err
		}
		p.Name = "medium"
		p.Tokenizer.Base, p.Tokenizer.CVae, p.Tokenizer.Codebook = 16, 8, 256
		tt := &p.TokenizerTrain
		tt.Steps, tt.Batch, tt.LR, tt.Warmup, tt.LogEvery, tt.SaveEvery = 400, 16, 2e-3, 40, 40, 0
		p.Model.Depth, p.Model.Width, p.Model.Heads = 2, 64, 4
		p.Model.Vocab, p.Model.CVae = p.Tokenizer.Codebook, p.Tokenizer.CVae
		p.Model.InitGamma = sar.ScriptInitGamma(p.Model.Depth)
		t := &p.Train
		t.Batch, t.LR, t.Warmup, t.LogEvery, t.SaveEvery, t.SampleEvery = 32, 1e-3, 150, 20, 0, 0
		return Study{Name: name, Preset: p, TrainImages: 0,
			ScheduleSteps: 4000, BaseSteps: 10000, ValEvery: 200, ValImages: 1000, PlateauWindow: 3, PlateauDelta: 0.005,
			PostFrac: 0.06, Seeds: []uint64{1, 2, 3},
			Sigmas: []float32{0.003, 0.01, 0.03, 0.1}, Rollouts: []string{"last", "last:2", "all"},
			EvalN: 10000, EvalBatch: 250, GridPerClass: 100, ExposureImages: 1000,
			ClassifierSteps: 1000, TokenizerImages: 1000}, nil
	}
	return Study{}, fmt.Errorf("study %q: unknown, want one of %v", name, StudyNames())
}

// Validate checks the study.
func (s Study) Validate() error {
	checks := []struct {
		bad  bool
		what string
	}{
		{s.BaseSteps < 1, fmt.Sprintf("base_steps %d: want >= 1", s.BaseSteps)},
		{s.ScheduleSteps < 0 || s.ScheduleSteps > s.BaseSteps, fmt.Sprintf("schedule_steps %d: want in [0, base_steps %d]", s.ScheduleSteps, s.BaseSteps)},
		{s.ValEvery < 1, fmt.Sprintf("val_every %d: want >= 1", s.ValEvery)},
		{s.ValImages < 1, fmt.Sprintf("val_images %d: want >= 1", s.ValImages)},
		{s.PlateauWindow < 1, fmt.Sprintf("plateau_window %d: want >= 1", s.PlateauWindow)},
		{!(s.PlateauDelta >= 0 && s.PlateauDelta < 1), fmt.Sprintf("plateau_delta %g: want in [0, 1)", s.PlateauDelta)},
		{!(s.PostFrac > 0 && s.PostFrac <= 1), fmt.Sprintf("post_frac %g: want in (0, 1]", s.PostFrac)},
		{len(s.Seeds) < 2, fmt.Sprintf("%d seeds: want at least 2 for the t-tests", len(s.Seeds))},
		{s.EvalN < 4 || s.EvalBatch < 1, fmt.Sprintf("eval_n %d, eval_batch %d", s.EvalN, s.EvalBatch)},
		{s.GridPerClass < 1, fmt.Sprintf("grid_per_class %d: want >= 1", s.GridPerClass)},
		{s.ExposureImages < 1, fmt.Sprintf("exposure_images %d: want >= 1", s.ExposureImages)},
		{s.ClassifierSteps < 1, fmt.Sprintf("classifier_steps %d: want >= 1", s.ClassifierSteps)},
	}
	for _, c := range checks {
		if c.bad {
			return fmt.Errorf("study %s: %s", s.Name, c.what)
		}
	}
	seen := map[uint64]bool{}
	for _, sd := range s.Seeds {
		if seen[sd] {
			return fmt.Errorf("study %s: seed %d repeated", s.Name, sd)
		}
		seen[sd] = true
	}
	for _, r := range s.Rollouts {
		if _, err := train.ParseRollout(r); err != nil {
			return fmt.Errorf("study %s: %w", s.Name, err)
		}
	}
	for _, sg := range s.Sigmas {
		if sg < 0 {
			return fmt.Errorf("study %s: sigma %g: want >= 0", s.Name, sg)
		}
	}
	return s.Preset.Validate()
}

// The method groups of a study's post-training runs.
const (
	GroupTF  = "tf"  // teacher forcing continued
	GroupSAR = "sar" // SAR post-training
	GroupSF  = "sf"  // naive student forcing post-training
)

// postRun is one post-training run of a study.
type postRun struct {
	Name    string  `json:"name"`
	Group   string  `json:"group"` // GroupTF, GroupSAR or GroupSF; "" for a sweep run
	Method  string  `json:"method"`
	Seed    uint64  `json:"seed"`
	Sigma   float32 `json:"sigma"`
	Rollout string  `json:"rollout"`
}

// runs lists the post-training runs: every method with every seed, then
// the sweep runs on the first seed that the main runs do not already
// cover.
func (s Study) runs() []postRun {
	base := s.Preset.Train
	var out []postRun
	for _, g := range []struct{ group, method string }{{GroupTF, train.MethodTF}, {GroupSAR, train.MethodSAR}, {GroupSF, train.MethodSF}} {
		for _, sd := range s.Seeds {
			out = append(out, postRun{Name: fmt.Sprintf("%s_s%d", g.group, sd), Group: g.group, Method: g.method, Seed: sd,
				Sigma: base.Sigma, Rollout: base.Rollout})
		}
	}
	first := s.Seeds[0]
	for _, sg := range s.Sigmas {
		if sg != base.Sigma {
			out = append(out, postRun{Name: fmt.Sprintf("sar_sigma%s_s%d", strconv.FormatFloat(float64(sg), 'g', -1, 32), first),
				Method: train.MethodSAR, Seed: first, Sigma: sg, Rollout: base.Rollout})
		}
	}
	for _, r := range s.Rollouts {
		if r != base.Rollout {
			out = append(out, postRun{Name: fmt.Sprintf("sar_rollout_%s_s%d", strings.ReplaceAll(r, ":", ""), first),
				Method: train.MethodSAR, Seed: first, Sigma: base.Sigma, Rollout: r})
		}
	}
	return out
}

// sweep lists, for the sweep table, the runs with each sigma and each
// rollout on the first seed (the main SAR run stands for the preset's
// values).
func (s Study) sweep() (sigmas, rollouts []postRun) {
	all := s.runs()
	main := func(r postRun) bool {
		return r.Group == GroupSAR && r.Seed == s.Seeds[0]
	}
	for _, r := range all {
		if (main(r) || r.Group == "") && r.Rollout == s.Preset.Train.Rollout && slices.Contains(s.Sigmas, r.Sigma) {
			sigmas = append(sigmas, r)
		}
		if (main(r) || r.Group == "") && r.Sigma == s.Preset.Train.Sigma && slices.Contains(s.Rollouts, r.Rollout) {
			rollouts = append(rollouts, r)
		}
	}
	slices.SortFunc(sigmas, func(a, b postRun) int { return cmpFloat(float64(a.Sigma), float64(b.Sigma)) })
	slices.SortFunc(rollouts, func(a, b postRun) int {
		return slices.Index(s.Rollouts, a.Rollout) - slices.Index(s.Rollouts, b.Rollout)
	})
	return sigmas, rollouts
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// horizon is the length of the base run's learning-rate schedule.
func (s Study) horizon() int {
	if s.ScheduleSteps > 0 {
		return s.ScheduleSteps
	}
	return s.BaseSteps
}

// postSteps is the length of every post-training run after a base run of
// base steps.
func (s Study) postSteps(base int) int {
	return max(1, int(s.PostFrac*float64(base)+0.5))
}

// plateaued reports whether held-out losses (in measurement order) have
// stopped improving: the best of the last PlateauWindow is less than
// PlateauDelta (relative) below the best before them.
func (s Study) plateaued(losses []float64) bool {
	w := s.PlateauWindow
	if len(losses) <= w {
		return false
	}
	before := slices.Min(losses[:len(losses)-w])
	recent := slices.Min(losses[len(losses)-w:])
	return recent > before*(1-s.PlateauDelta)
}

// protocol is the Protocol whose setup (data, classifier, reference,
// tokenizer) the study shares.
func (s Study) protocol() Protocol {
	return Protocol{Name: s.Name, Preset: s.Preset, TrainImages: s.TrainImages, Epochs: 2, PostEpochs: 1, EvalEvery: 1,
		EvalN: s.EvalN, EvalBatch: s.EvalBatch, ClassifierSteps: s.ClassifierSteps, TokenizerImages: s.TokenizerImages}
}
