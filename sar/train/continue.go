package train

import (
	"errors"
	"fmt"

	"sargo/nn"
)

// Rates is the learning-rate schedule of a run of total steps, and the
// schedule step of the run's first step: step t of the run has rate
// s.LR(from + t).
func (c Config) Rates(total int) (s nn.Schedule, from int) {
	n := total
	if c.LRTotal > 0 {
		n = c.LRTotal
	}
	s = nn.Schedule{Peak: c.LR, Warmup: min(c.Warmup, n), Total: n}
	switch c.LRSchedule {
	case LRFlexVAR:
		s.Kind, s.Floor, s.WarmupFrom, s.Plateau = nn.DecayPlateauLinear, c.LRFloor*c.LR, flexVARWarmupFrom, flexVARPlateau
	default:
		s.Kind, s.Floor = nn.DecayLinear, c.MinLR
	}
	return s, c.LRFrom
}

// Continue returns run set to go on along the learning-rate path of the
// run configured by init, which stopped at its step initStep of
// initTotal: the same peak, warm-up, shape and floor, starting at the
// schedule step where init stopped, so no warm-up is repeated. When
// init's schedule ends before run's steps do, it is stretched to end with
// them, as the authors' SAR post-training resumes FlexVAR's schedule of
// 180 epochs with an epoch count of 190 (d16: 4.7e-5 falling to 3e-5).
// Only the learning-rate fields of run change.
func Continue(run, init Config, initStep, initTotal, steps int) Config {
	sched, from := init.Rates(initTotal)
	run.LR, run.LRSchedule, run.LRFloor, run.MinLR, run.Warmup = init.LR, init.LRSchedule, init.LRFloor, init.MinLR, init.Warmup
	run.LRFrom = from + initStep
	run.LRTotal = max(sched.Total, run.LRFrom+steps)
	return run
}

// ContinueFrom is Continue for the run that wrote a checkpoint: st is the
// checkpoint's state (its step and the training configuration Run
// records), n the number of training images (for a run sized in epochs).
func ContinueFrom(run Config, st *nn.TrainState, n int) (Config, error) {
	init, err := CheckpointConfig(st)
	if err != nil {
		return run, err
	}
	return Continue(run, init, st.Step, init.TotalSteps(n), run.TotalSteps(n)), nil
}

// CheckpointConfig decodes the training configuration a checkpoint
// written by Run records. Fields the checkpoint lacks are zero, which is
// what they meant before they existed (the linear learning-rate shape and
// the keep-last schedule sampler).
func CheckpointConfig(st *nn.TrainState) (Config, error) {
	if st == nil {
		return Config{}, errors.New("the checkpoint records no training configuration")
	}
	cm, err := ParseCheckpointMeta(st.Config, Config{})
	if err != nil {
		return Config{}, err
	}
	if cm.Train == nil {
		return Config{}, errors.New("the checkpoint records no training configuration (no method)")
	}
	if err := cm.Train.Validate(); err != nil {
		return Config{}, fmt.Errorf("checkpoint training configuration: %w", err)
	}
	return *cm.Train, nil
}
