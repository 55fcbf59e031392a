package train

import (
	"errors"
	"fmt"
	"math"
	"time"

	"sargo/autograd"
	"sargo/nn"
	"sargo/sar/data"
	"sargo/tensor"
)

// rngStride is the number of Philox offsets reserved for each step: step
// t draws from [t·rngStride, (t+1)·rngStride).
const rngStride = 1 << 32

// dropPathOffset is where a step's drop-path draws start within its range.
const dropPathOffset = 1 << 31

// dropPathSeeker is a network with drop-path whose random stream position
// can be set (*sar.Model).
type dropPathSeeker interface{ SetDropPathOffset(off uint64) }

// Setup is everything a Trainer is built from.
type Setup struct {
	Cfg Config
	Net Network
	Tok Tokenizer
	// Inputs builds teacher-forcing inputs; nil uses UpsampleInputs.
	Inputs InputBuilder
	// NullClass is the number of classes (the null label).
	NullClass int
	// Largest is the largest latent side (the tokenizer's latent).
	Largest int
	Data    *data.Dataset
	Dev     tensor.Backend
	// Parallel, when set, trains data-parallel over several devices or
	// processes.
	Parallel *Parallel
}

// Trainer runs optimisation steps. Its state (weights, optimiser moments,
// Step) is all a resumed run needs: batches, schedules and random draws
// are functions of the seed and the step.
type Trainer struct {
	Cfg Config
	Obj *Objective
	Opt *nn.AdamW
	// LR is the learning-rate schedule; step t of the run takes the rate
	// of its step LRFrom+t (Config.Rates).
	LR     nn.Schedule
	LRFrom int
	Step   int
	Total  int
	setup  Setup
	params []nn.NamedParam
	load   *loader
	par    *parallelState // nil unless data-parallel
}

// StepResult is what one step reports (host scalars).
type StepResult struct {
	Step     int
	Epoch    int
	Loss     float64
	LossTF   float64
	LossSF   float64
	LossCSFL float64
	LR       float64
	GradNorm float64
	Tokens   int
	Skipped  bool
	Elapsed  time.Duration
	// DataWait is the part of Elapsed spent waiting for the batch's images
	// to be decoded (data.Loader prepares the next batch during a step, so
	// it is near zero unless decoding is slower than the step).
	DataWait time.Duration
}

// NonFiniteError reports a step whose loss or gradient is not finite.
type NonFiniteError struct {
	// Step numbers the step from 1, as progress lines and checkpoints do:
	// the step that would have completed Step steps.
	Step   int
	Tensor string // "loss_tf", "loss_csfl", ... or the parameter name
}

func (e *NonFiniteError) Error() string {
	return fmt.Sprintf("step %d: non-finite value in %s", e.Step, e.Tensor)
}

// NewTrainer checks the setup and makes a trainer at step 0 with fresh
// optimiser moments.
func NewTrainer(s Setup) (*Trainer, error) {
	if s.Net == nil || s.Tok == nil || s.Dev == nil {
		return nil, errors.New("trainer: network, tokenizer and device are required")
	}
	if s.Largest <= 0 {
		return nil, fmt.Errorf("trainer: largest latent %d: want > 0", s.Largest)
	}
	obj, err := NewObjective(s.Cfg, s.Net, s.Tok, s.NullClass)
	if err != nil {
		return nil, err
	}
	if n := len(s.Data.Classes); n > s.NullClass {
		return nil, fmt.Errorf("trainer: the data %s has %d classes, the model %d: its class embedding has no row for labels %d to %d",
			s.Data.Name, n, s.NullClass, s.NullClass, n-1)
	}
	ld, err := newLoader(s.Data, s.Cfg.Batch, s.Cfg.Seed)
	if err != nil {
		return nil, err
	}
	params := s.Net.Parameters()
	opt, err := nn.NewAdamW(params, nn.AdamWConfig{LR: float32(s.Cfg.LR), Beta1: s.Cfg.Beta1, Beta2: s.Cfg.Beta2,
		Eps: 1e-8, WeightDecay: s.Cfg.WeightDecay})
	if err != nil {
		return nil, fmt.Errorf("trainer: %w", err)
	}
	total, err := runLength(s.Cfg, s.Data.Len())
	if err != nil {
		return nil, err
	}
	lr, from := s.Cfg.Rates(total)
	t := &Trainer{Cfg: s.Cfg, Obj: obj, Opt: opt, Total: total, setup: s, params: params, load: ld,
		LR: lr, LRFrom: from}
	if s.Parallel != nil {
		if err := t.joinParallel(s); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// Params are the trained parameters.
func (t *Trainer) Params() []nn.NamedParam { return t.params }

// RNGOffset is the first Philox offset of the next step.
func (t *Trainer) RNGOffset() uint64 { return uint64(t.Step) * rngStride }

// StepsPerEpoch is the number of batches in one pass over the data.
func (t *Trainer) StepsPerEpoch() int { return t.load.stepsPerEpoch() }

// batch builds step t's batch on the device, in the caller's scope;
// wait is the time spent waiting for its images.
func (t *Trainer) batch(step int) (b *Batch, epoch int, wait time.Duration, err error) {
	global := t.load.BatchSize()
	first, last := t.shard(global)
	start := time.Now()
	x, labels, epoch, err := t.load.part(step, first, last)
	if err != nil {
		return nil, 0, 0, err
	}
	wait = time.Since(start)
	ds := t.setup.Data
	dev := t.setup.Dev
	xt := tensor.FromSlice(dev, x, len(labels), ds.C, ds.H, ds.W)
	lf := make([]float32, len(labels))
	for i, l := range labels {
		lf[i] = float32(l)
	}
	lt := tensor.FromSlice(dev, lf, len(labels))
	dropped := t.setup.Net.DropLabels(lt, t.Cfg.Seed, t.RNGOffset()+uint64(first))
	scales := stepSchedule(t.Cfg, t.setup.Largest, step)
	b = NewBatch(t.setup.Tok, t.setup.Inputs, xt, dropped, scales)
	b.Classes = lt
	b.Start, b.Global = first, global
	return b, epoch, wait, nil
}

// TrainStep runs one optimisation step: forward, backward, one read of
// the loss terms and the squared gradient norm, clipping and AdamW. A
// non-finite loss or gradient returns a *NonFiniteError without updating
// (or, with SkipNonFinite, skips the step and reports Skipped).
// Data-parallel, every local replica runs the step at once. What the step
// makes is freed before it returns; the parameters, their moments and no
// gradient remain.
func (t *Trainer) TrainStep() (StepResult, error) {
	if t.par != nil && len(t.par.peers) > 0 {
		return t.stepReplicas()
	}
	return t.step()
}

// step is TrainStep on this trainer's own device.
func (t *Trainer) step() (StepResult, error) {
	start := time.Now()
	t.setup.Net.SetTrain(true)
	dev := t.setup.Dev
	s := tensor.NewScope(dev) // the batch
	defer s.Close()
	b, epoch, wait, err := t.batch(t.Step)
	if err != nil {
		return StepResult{Step: t.Step}, fmt.Errorf("step %d: %w", t.Step, err)
	}
	res := StepResult{Step: t.Step, Epoch: epoch, LR: t.LR.LR(t.LRFrom + t.Step), DataWait: wait}

	g := autograd.NewGraph(dev)
	defer g.Close()
	// Drop-path draws come from the step's own range too, so a resumed run
	// continues the same stream.
	if d, ok := t.setup.Net.(dropPathSeeker); ok {
		d.SetDropPathOffset(t.RNGOffset() + dropPathOffset + t.streamShift())
	}
	// The objective's own draws start after the label-dropout draws.
	l := t.Obj.Loss(g, b, t.RNGOffset()+1<<24)
	nn.ZeroGrads(t.params)
	t.attach(g)
	if err := g.Backward(l.Total); err != nil {
		return res, fmt.Errorf("step %d: backward: %w", t.Step+1, err)
	}
	if err := t.syncGradients(); err != nil {
		return res, fmt.Errorf("step %d: %w", t.Step, err)
	}
	res.Tokens = l.Tokens

	// One read per step: the loss terms and the squared gradient norm.
	names := []string{"loss"}
	vals := []*tensor.Tensor{l.Total.Value}
	for _, x := range []struct {
		name string
		v    *autograd.Var
	}{{"loss_tf", l.TF}, {"loss_sf", l.SF}, {"loss_csfl", l.CSFL}} {
		if x.v != nil {
			names, vals = append(names, x.name), append(vals, x.v.Value)
		}
	}
	if sq := nn.GradSquaredNorm(t.params); sq != nil {
		names, vals = append(names, "gradient"), append(vals, sq)
	}
	host, err := readScalars(vals)
	g.Close() // the activations; the gradients stay with the parameters
	if err == nil {
		host, err = t.agree(host, &res)
	}
	if err != nil {
		return res, fmt.Errorf("step %d: %w", t.Step+1, err)
	}
	for i, name := range names {
		v := float64(host[i])
		switch name {
		case "loss":
			res.Loss = v
		case "loss_tf":
			res.LossTF = v
		case "loss_sf":
			res.LossSF = v
		case "loss_csfl":
			res.LossCSFL = v
		case "gradient":
			res.GradNorm = math.Sqrt(v)
		}
	}
	for i, name := range names {
		if f := float64(host[i]); math.IsNaN(f) || math.IsInf(f, 0) {
			if p := nn.FirstNonFinite(t.params); p != "" {
				name = p
			}
			nf := &NonFiniteError{Step: t.Step + 1, Tensor: name}
			if !t.Cfg.SkipNonFinite {
				nn.ZeroGrads(t.params)
				return res, nf
			}
			nn.ZeroGrads(t.params)
			res.Skipped = true
			t.Step++
			res.Elapsed = time.Since(start)
			return res, nil
		}
	}
	// Clipping as torch.nn.utils.clip_grad_norm_, applied inside the update.
	if err := t.Opt.UpdateScaled(float32(res.LR), nn.ClipCoef(res.GradNorm, t.Cfg.Clip)); err != nil {
		return res, fmt.Errorf("step %d: %w", t.Step+1, err)
	}
	nn.ZeroGrads(t.params)
	t.Step++
	res.Elapsed = time.Since(start)
	return res, nil
}

// readScalars copies one-element tensors to the host in one read.
func readScalars(ts []*tensor.Tensor) ([]float32, error) {
	flat := make([]*tensor.Tensor, len(ts))
	for i, t := range ts {
		flat[i] = t.Reshape(1)
	}
	v, err := tensor.Concat(0, flat...).Read()
	if err != nil {
		return nil, fmt.Errorf("read losses: %w", err)
	}
	return v, nil
}
