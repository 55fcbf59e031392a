package train

import (
	"fmt"
	"strconv"
	"strings"

	"sargo/internal/regfile"
	"sargo/internal/strictjson"
	"sargo/sar/schedule"
)

// The training methods.
const (
	MethodTF  = "tf"  // teacher forcing (FlexVAR)
	MethodSF  = "sf"  // naive student forcing, trained against ground truth
	MethodSAR = "sar" // Stagger-Scale Rollout + Contrastive Student-Forcing Loss
)

// The ways of turning teacher logits into token ids.
const (
	TeacherArgmax = "argmax"
	TeacherSample = "sample"
)

// The schedule kinds of training batches.
const (
	ScheduleRandom = "random" // schedule.Random per batch (FlexVAR)
	ScheduleFixed  = "fixed"  // schedule.VARList every batch
)

// The shapes of the learning-rate schedule.
const (
	// LRFlexVAR is FlexVAR's and SAR's "lin0": a linear warm-up from
	// 0.005·LR to LR over Warmup steps, LR held for 5% of the remaining
	// steps, then a straight line to LRFloor·LR at the last step.
	LRFlexVAR = "flexvar"
	// LRLinear is a linear warm-up from LR/Warmup to LR, then a straight
	// line to MinLR at the last step. The empty name means LRLinear, the
	// only shape of configurations written before shapes were named.
	LRLinear = "linear"
)

// The shape constants of LRFlexVAR (wp0 and the "lin0" plateau of the
// authors' lr_control.py).
const (
	flexVARWarmupFrom = 0.005
	flexVARPlateau    = 0.05
)

// Config is the complete, JSON-serialisable configuration of a
// transformer training run. The zero value is not valid; start from
// DefaultConfig or a preset.
type Config struct {
	Method string `json:"method"`
	// Rollout picks the transitions SAR rolls out: "last" (the default,
	// one transition into the largest scale), "last:K" or "all".
	Rollout string `json:"rollout"`
	// Sigma weighs the CSFL term: L = L_TF + Sigma·L_CSFL.
	Sigma float32 `json:"sigma"`
	// Teacher turns pass-1 logits (SAR) or the model's own logits (SF)
	// into ids: argmax, or sample (CFG, then top-k and top-p).
	Teacher     string  `json:"teacher"`
	TeacherCFG  float32 `json:"teacher_cfg"`
	TeacherTopK int     `json:"teacher_top_k"`
	TeacherTopP float32 `json:"teacher_top_p"`
	// Schedule is random (a new FlexVAR schedule per batch) or fixed.
	Schedule string `json:"schedule"`
	// ScheduleSampler is how random schedules fit FlexVAR's token budget:
	// flexvar (the authors' trainer: about a third of the schedules of a
	// 16×16 latent end at 11 to 15) or keep-last (every schedule ends at
	// the largest scale); see schedule.Random.
	ScheduleSampler string `json:"schedule_sampler"`

	Batch int `json:"batch"`
	// Steps is the run length; when 0, Epochs·(dataset size / Batch).
	Steps  int `json:"steps"`
	Epochs int `json:"epochs"`

	// LR is the peak learning rate. LRSchedule is the shape of the
	// schedule (LRFlexVAR or LRLinear); LRFloor is LRFlexVAR's final rate
	// as a fraction of LR (the authors' wpe: 0.1 for d16 and d20, 0.01
	// for d24), MinLR LRLinear's final rate.
	LR         float64 `json:"lr"`
	LRSchedule string  `json:"lr_schedule"`
	LRFloor    float64 `json:"lr_floor"`
	MinLR      float64 `json:"min_lr"`
	Warmup     int     `json:"warmup"`
	// LRFrom and LRTotal place the run on a longer schedule: step t of the
	// run takes the rate of step LRFrom+t of a schedule of LRTotal steps
	// (0: the run's own length). Continue sets them so that a run started
	// from a checkpoint continues that run's schedule.
	LRFrom      int     `json:"lr_from,omitempty"`
	LRTotal     int     `json:"lr_total,omitempty"`
	WeightDecay float32 `json:"weight_decay"`
	Beta1       float32 `json:"beta1"`
	Beta2       float32 `json:"beta2"`
	Clip        float64 `json:"clip"`

	Seed uint64 `json:"seed"`

	LogEvery    int `json:"log_every"`
	SaveEvery   int `json:"save_every"`
	SampleEvery int `json:"sample_every"`
	// SkipNonFinite skips a step whose loss or gradient is not finite
	// instead of stopping the run.
	SkipNonFinite bool `json:"skip_nonfinite"`
}

// DefaultConfig is TF training as the authors' code runs it: FlexVAR's
// random schedules with its sampler, AdamW (0.9, 0.95), weight decay
// 0.05, gradient clip 2, the "lin0" learning-rate schedule with a floor
// of 0.1·LR; and SAR's defaults for the other methods as their released
// runs execute them (sigma 0.01, last-transition rollout, a sampling
// teacher with CFG 1.2, top-k 900, top-p 0.96).
func DefaultConfig() Config {
	return Config{
		Method: MethodTF, Rollout: "last", Sigma: 0.01,
		Teacher: TeacherSample, TeacherCFG: 1.2, TeacherTopK: 900, TeacherTopP: 0.96,
		Schedule: ScheduleRandom, ScheduleSampler: string(schedule.SamplerFlexVAR),
		Batch: 32, Steps: 1000,
		LR: 3e-4, LRSchedule: LRFlexVAR, LRFloor: 0.1, Warmup: 100,
		WeightDecay: 0.05, Beta1: 0.9, Beta2: 0.95, Clip: 2,
		Seed:     0,
		LogEvery: 10, SaveEvery: 500, SampleEvery: 0,
	}
}

// Validate checks every field and names the first bad one.
func (c Config) Validate() error {
	switch c.Method {
	case MethodTF, MethodSF, MethodSAR:
	default:
		return fmt.Errorf("train config: method %q: want tf, sf or sar", c.Method)
	}
	if _, err := ParseRollout(c.Rollout); err != nil {
		return fmt.Errorf("train config: %w", err)
	}
	switch c.Teacher {
	case TeacherArgmax, TeacherSample:
	default:
		return fmt.Errorf("train config: teacher %q: want argmax or sample", c.Teacher)
	}
	switch c.Schedule {
	case ScheduleRandom, ScheduleFixed:
	default:
		return fmt.Errorf("train config: schedule %q: want random or fixed", c.Schedule)
	}
	if _, err := schedule.ParseSampler(c.ScheduleSampler); err != nil {
		return fmt.Errorf("train config: %w", err)
	}
	switch c.LRSchedule {
	case LRFlexVAR, LRLinear, "":
	default:
		return fmt.Errorf("train config: lr_schedule %q: want %s or %s", c.LRSchedule, LRFlexVAR, LRLinear)
	}
	checks := []struct {
		bad  bool
		what string
	}{
		{c.Sigma < 0, fmt.Sprintf("sigma %g: want >= 0", c.Sigma)},
		{c.TeacherCFG < 0, fmt.Sprintf("teacher_cfg %g: want >= 0", c.TeacherCFG)},
		{c.TeacherTopK < 0, fmt.Sprintf("teacher_top_k %d: want >= 0", c.TeacherTopK)},
		{c.TeacherTopP < 0 || c.TeacherTopP > 1, fmt.Sprintf("teacher_top_p %g: want in [0, 1]", c.TeacherTopP)},
		{c.Batch <= 0, fmt.Sprintf("batch %d: want > 0", c.Batch)},
		{c.Steps < 0, fmt.Sprintf("steps %d: want >= 0", c.Steps)},
		{c.Epochs < 0, fmt.Sprintf("epochs %d: want >= 0", c.Epochs)},
		{c.Steps == 0 && c.Epochs == 0, "steps and epochs are both 0: set one"},
		{!(c.LR > 0), fmt.Sprintf("lr %g: want > 0", c.LR)},
		{c.MinLR < 0 || c.MinLR > c.LR, fmt.Sprintf("min_lr %g: want in [0, lr=%g]", c.MinLR, c.LR)},
		{!(c.LRFloor >= 0 && c.LRFloor <= 1), fmt.Sprintf("lr_floor %g: want in [0, 1] (a fraction of lr)", c.LRFloor)},
		{c.Warmup < 0, fmt.Sprintf("warmup %d: want >= 0", c.Warmup)},
		{c.LRFrom < 0, fmt.Sprintf("lr_from %d: want >= 0", c.LRFrom)},
		{c.LRTotal < 0, fmt.Sprintf("lr_total %d: want >= 0", c.LRTotal)},
		{c.WeightDecay < 0, fmt.Sprintf("weight_decay %g: want >= 0", c.WeightDecay)},
		{c.Beta1 < 0 || c.Beta1 >= 1, fmt.Sprintf("beta1 %g: want in [0, 1)", c.Beta1)},
		{c.Beta2 < 0 || c.Beta2 >= 1, fmt.Sprintf("beta2 %g: want in [0, 1)", c.Beta2)},
		{c.Clip < 0, fmt.Sprintf("clip %g: want >= 0 (0 disables clipping)", c.Clip)},
		{c.LogEvery <= 0, fmt.Sprintf("log_every %d: want > 0", c.LogEvery)},
		{c.SaveEvery < 0, fmt.Sprintf("save_every %d: want >= 0", c.SaveEvery)},
		{c.SampleEvery < 0, fmt.Sprintf("sample_every %d: want >= 0", c.SampleEvery)},
	}
	for _, ch := range checks {
		if ch.bad {
			return fmt.Errorf("train config: %s", ch.what)
		}
	}
	return nil
}

// TotalSteps is the run length for a dataset of n images: Steps when
// set, else Epochs full passes of n/Batch steps (at least one step).
func (c Config) TotalSteps(n int) int {
	if c.Steps > 0 {
		return c.Steps
	}
	return c.Epochs * max(1, n/c.Batch)
}

// Rollout says which scale transitions SAR rolls out. Last is the number
// of final transitions (s_{n-K} → ... → s_n); All rolls out every
// transition (K = n − 1).
type Rollout struct {
	Last int
	All  bool
}

// ParseRollout reads "last", "last:K" (K ≥ 1) or "all".
func ParseRollout(s string) (Rollout, error) {
	switch {
	case s == "last":
		return Rollout{Last: 1}, nil
	case s == "all":
		return Rollout{All: true}, nil
	case strings.HasPrefix(s, "last:"):
		k, err := strconv.Atoi(strings.TrimPrefix(s, "last:"))
		if err != nil || k < 1 {
			return Rollout{}, fmt.Errorf("rollout %q: K must be a positive integer (last:K)", s)
		}
		return Rollout{Last: k}, nil
	}
	return Rollout{}, fmt.Errorf("rollout %q: want last, last:K or all", s)
}

// String writes the form ParseRollout reads.
func (r Rollout) String() string {
	switch {
	case r.All:
		return "all"
	case r.Last == 1:
		return "last"
	}
	return "last:" + strconv.Itoa(r.Last)
}

// Transitions returns the indices j (1 ≤ j < n) of the scales that are
// rolled out in a schedule of n scales: scale j's student input comes
// from the teacher's prediction at scale j−1.
func (r Rollout) Transitions(n int) []int {
	k := r.Last
	if r.All || k > n-1 {
		k = n - 1
	}
	js := make([]int, 0, max(k, 0))
	for j := n - k; j < n; j++ {
		js = append(js, j)
	}
	return js
}

// LoadConfigFile decodes a JSON file over base: fields absent from the
// file keep base's values; unknown fields and anything after the JSON
// object are errors.
func LoadConfigFile(path string, base Config) (Config, error) {
	f, err := regfile.Open(path)
	if err != nil {
		return base, fmt.Errorf("train config: %w", err)
	}
	defer f.Close()
	c := base
	if err := strictjson.Decode(f, &c); err != nil {
		return base, fmt.Errorf("train config %s: %w", path, err)
	}
	return c, nil
}
