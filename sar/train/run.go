package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"sargo/internal/atomicfile"
	"sargo/internal/rundir"
	"sargo/nn"
	"sargo/tensor"
)

// The files of a run directory.
const (
	ConfigFile     = "config.json"       // the resolved training configuration
	RunFile        = "run.json"          // RunInfo
	CheckpointFile = "model.safetensors" // latest checkpoint (weights + TrainState)
	MetricsFile    = "metrics.jsonl"     // one Metric per line
	CheckpointDir  = "checkpoints"       // step_NNNNNN.safetensors every SaveEvery steps
	SampleDir      = "samples"           // step_NNNNNN.png every SampleEvery steps
)

// RunInfo is run.json: what started the run.
type RunInfo struct {
	Method string `json:"method"`
	// Tokenizer is the tokenizer checkpoint. Callers give it as a path
	// usable from the working directory; Run writes it relative to the
	// run directory (absolute when it cannot be made relative), so that
	// the run directory can be used from anywhere.
	Tokenizer string `json:"tokenizer"`
	// TokenizerFingerprint is tokenizer.VQ.Fingerprint of the tokenizer's
	// weights. When set, Run records it in every checkpoint, and refuses
	// to resume or initialise from a checkpoint that records another.
	TokenizerFingerprint string    `json:"tokenizer_fingerprint,omitempty"`
	Init                 string    `json:"init,omitempty"`
	Started              time.Time `json:"started"`
	Resumed              []resumed `json:"resumed,omitempty"`
	Command              []string  `json:"command,omitempty"`
	// Extra holds caller-defined facts (preset name, model config, ...).
	Extra map[string]any `json:"extra,omitempty"`
}

type resumed struct {
	At   time.Time `json:"at"`
	Step int       `json:"step"`
}

// RunOptions says where and how Run keeps a run.
type RunOptions struct {
	// Out is the run directory.
	Out string
	// Resume continues from Out's latest checkpoint: weights, optimiser
	// moments and step; data order and random draws follow from the step.
	Resume bool
	// Init loads weights only (fresh optimiser, step 0) from a checkpoint,
	// such as a TF model for SAR post-training.
	Init string
	// Info is written to run.json (Method and Init are filled in).
	Info RunInfo
	// Sample, when set, writes a sample grid PNG of the current weights to
	// path; Run calls it every SampleEvery steps and at the end.
	Sample func(path string) error
	// Log receives progress; Terminal draws a bar instead of log lines.
	Log      io.Writer
	Terminal bool
	// Until stops the run after this step (0 runs to the end), saving a
	// checkpoint, as an interruption would.
	Until int
	// MaxSkipped is the largest share of the steps of this invocation that
	// SkipNonFinite may skip: one more skip stops the run with a
	// *SkippedError (0 means DefaultMaxSkipped; 1 never stops).
	MaxSkipped float64
}

// DefaultMaxSkipped is RunOptions.MaxSkipped's default: 10% of the steps.
const DefaultMaxSkipped = 0.1

// Summary is what a finished (or stopped) run reports.
type Summary struct {
	Dir        string
	Step       int
	Total      int
	Last       Metric
	Checkpoint string
	Samples    []string
	Seconds    float64
}

// Run trains in the run directory o.Out: it locks the directory (a second
// process on it fails at once, naming the holder), removes temporary
// files that interrupted writes left there, writes config.json and
// run.json, appends to metrics.jsonl every LogEvery steps, saves the
// latest checkpoint (and a numbered copy) every SaveEvery steps and at
// the end, and sample grids every SampleEvery steps. Every checkpoint
// records the training configuration and, when o.Info names one, the
// tokenizer's fingerprint. A non-finite loss or gradient stops it with a
// *NonFiniteError naming the step and tensor, leaving the last good
// checkpoint in place (unless SkipNonFinite; then skipping more than
// o.MaxSkipped of the steps stops it with a *SkippedError). A cancelled
// ctx saves a checkpoint and returns an error wrapping ctx's cause.
func Run(ctx context.Context, s Setup, o RunOptions) (Summary, error) {
	sum := Summary{Dir: o.Out}
	ckpt := filepath.Join(o.Out, CheckpointFile)
	if err := checkRunDir(o, ckpt); err != nil {
		return sum, err
	}
	if !s.Parallel.lead() {
		return follow(ctx, s, o)
	}
	ref := tokenizerRef(o.Info)
	if o.Init != "" && !o.Resume {
		if err := checkInit(o.Init, ref, s.Cfg); err != nil {
			return sum, err
		}
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return sum, fmt.Errorf("run: %w", err)
	}
	lock, err := rundir.Acquire(o.Out)
	if err != nil {
		return sum, fmt.Errorf("run: %w", err)
	}
	defer lock.Release()
	if err := cleanRunDir(o.Out, o.Log); err != nil {
		return sum, fmt.Errorf("run: %w", err)
	}
	for _, d := range []string{filepath.Join(o.Out, CheckpointDir), filepath.Join(o.Out, SampleDir)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return sum, fmt.Errorf("run: %w", err)
		}
	}
	sc := tensor.NewScope(s.Dev) // the run's state: optimiser moments
	defer sc.Close()
	tr, err := NewTrainer(s)
	if err != nil {
		return sum, err
	}
	defer tr.releaseParallel()
	cfgJSON, err := json.MarshalIndent(s.Cfg, "", "  ")
	if err != nil {
		return sum, fmt.Errorf("run: encode config: %w", err)
	}
	info := o.Info
	info.Method, info.Init = s.Cfg.Method, o.Init
	info.Tokenizer = relativeTo(o.Out, info.Tokenizer)
	ckptConfig, err := withTokenizer(s.Cfg, ref)
	if err != nil {
		return sum, fmt.Errorf("run: encode config: %w", err)
	}
	if err := prepareRun(o, tr, ckpt, ref, &info); err != nil {
		return sum, err
	}
	lastGood := -1 // step of the last checkpoint written or resumed from
	if o.Resume {
		lastGood = tr.Step
	}
	if err := tr.broadcastState(); err != nil {
		return sum, err
	}
	if err := atomicfile.WriteFile(filepath.Join(o.Out, ConfigFile), append(cfgJSON, '\n')); err != nil {
		return sum, fmt.Errorf("run: %w", err)
	}
	infoJSON, _ := json.MarshalIndent(info, "", "  ")
	if err := atomicfile.WriteFile(filepath.Join(o.Out, RunFile), append(infoJSON, '\n')); err != nil {
		return sum, fmt.Errorf("run: %w", err)
	}
	mpath := filepath.Join(o.Out, MetricsFile)
	if err := truncateMetrics(mpath, tr.Step, o.Log); err != nil {
		return sum, fmt.Errorf("run: %w", err)
	}
	mf, err := os.OpenFile(mpath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return sum, fmt.Errorf("run: %w", err)
	}
	defer mf.Close()

	save := func() error {
		st := &nn.TrainState{Step: tr.Step, RNGOffset: tr.RNGOffset(), Config: ckptConfig, Optimizer: tr.Opt}
		if err := s.Net.Save(ckpt, st); err != nil {
			return fmt.Errorf("run: save checkpoint at step %d: %w", tr.Step, err)
		}
		sum.Checkpoint = ckpt
		lastGood = tr.Step
		return nil
	}
	sample := func(name string) error {
		if o.Sample == nil {
			return nil
		}
		s.Net.SetTrain(false)
		p := filepath.Join(o.Out, SampleDir, name)
		if err := o.Sample(p); err != nil {
			return fmt.Errorf("run: samples at step %d: %w", tr.Step, err)
		}
		sum.Samples = append(sum.Samples, p)
		return nil
	}
	lastGoodNote := func() string {
		if lastGood < 0 {
			return "no checkpoint was written (save_every sets how often one is)"
		}
		return fmt.Sprintf("the last good checkpoint is %s (step %d)", ckpt, lastGood)
	}

	until := tr.Total
	if o.Until > 0 && o.Until < until {
		until = o.Until
	}
	maxSkipped := o.MaxSkipped
	if maxSkipped <= 0 {
		maxSkipped = DefaultMaxSkipped
	}
	first, skipped := tr.Step, 0
	sum.Total = tr.Total
	prog := newProgress(o.Log, o.Terminal, tr.Step, tr.Total)
	prog.note("%s training: steps %d to %d of %d, batch %d, %d steps per epoch, run directory %s",
		s.Cfg.Method, tr.Step+1, until, tr.Total, s.Cfg.Batch, tr.StepsPerEpoch(), o.Out)
	if note := tr.parallelNote(); note != "" {
		prog.note("%s", note)
	}
	start := time.Now()
	var m meter
	for tr.Step < until {
		sum.Step = tr.Step
		if err := tr.interrupted(ctx); err != nil {
			cause := err
			if c := context.Cause(ctx); c != nil {
				cause = c
				if errors.Is(err, ErrStopped) {
					cause = fmt.Errorf("%w: %w", ErrStopped, c)
				}
			}
			if serr := save(); serr != nil {
				return sum, errors.Join(cause, serr)
			}
			prog.note("interrupted (%v) at step %d; checkpoint %s", cause, tr.Step, ckpt)
			return sum, fmt.Errorf("run: stopped at step %d: %w", tr.Step, cause)
		}
		res, err := tr.TrainStep()
		if err != nil {
			var nf *NonFiniteError
			if errors.As(err, &nf) {
				prog.note("stopped: %v; %s", nf, lastGoodNote())
			}
			return sum, err
		}
		if res.Skipped {
			skipped++
			prog.note("step %d skipped: non-finite loss or gradient (%d skipped of %d steps so far)", res.Step+1, skipped, tr.Step-first)
			if float64(skipped) > maxSkipped*float64(until-first) {
				serr := &SkippedError{Skipped: skipped, Steps: until - first, MaxShare: maxSkipped}
				prog.note("stopped: %v; %s", serr, lastGoodNote())
				sum.Step = tr.Step
				return sum, serr
			}
		}
		m.add(res, s.Cfg.Method)
		prog.step(tr.Step, res)
		done := tr.Step
		if done%s.Cfg.LogEvery == 0 || done == tr.Total {
			mt := m.flush(res, time.Since(start).Seconds())
			sum.Last = mt
			line, _ := json.Marshal(mt)
			if _, err := mf.Write(append(line, '\n')); err != nil {
				return sum, fmt.Errorf("run: write %s: %w", mpath, err)
			}
			prog.log(mt)
		}
		if s.Cfg.SaveEvery > 0 && done%s.Cfg.SaveEvery == 0 && done < until {
			if err := save(); err != nil {
				return sum, err
			}
			st := &nn.TrainState{Step: tr.Step, RNGOffset: tr.RNGOffset(), Config: ckptConfig, Optimizer: tr.Opt}
			numbered := filepath.Join(o.Out, CheckpointDir, fmt.Sprintf("step_%06d.safetensors", done))
			if err := s.Net.Save(numbered, st); err != nil {
				return sum, fmt.Errorf("run: save checkpoint at step %d: %w", done, err)
			}
		}
		if s.Cfg.SampleEvery > 0 && done%s.Cfg.SampleEvery == 0 && done < until {
			if err := sample(fmt.Sprintf("step_%06d.png", done)); err != nil {
				return sum, err
			}
		}
	}
	sum.Step = tr.Step
	if err := save(); err != nil {
		return sum, err
	}
	if err := sample(fmt.Sprintf("step_%06d.png", tr.Step)); err != nil {
		return sum, err
	}
	sum.Seconds = time.Since(start).Seconds()
	prog.note("done: step %d, checkpoint %s", tr.Step, ckpt)
	return sum, nil
}

// checkInit refuses an initial checkpoint trained with another tokenizer.
// A PyTorch checkpoint (a released model) records none.
func checkInit(path string, ref TokenizerRef, cfg Config) error {
	if isPth, err := nn.IsPyTorch(path); err == nil && isPth {
		return nil
	}
	meta, err := ReadCheckpointMeta(path, cfg)
	if err != nil {
		return fmt.Errorf("init weights: %w", err)
	}
	if err := meta.CheckTokenizer(path, ref.Path, ref.Fingerprint); err != nil {
		return fmt.Errorf("init weights: %w", err)
	}
	return nil
}

// weightLoader is a Network that loads initial weights itself, from
// checkpoints of more formats than nn.LoadCheckpoint reads (*sar.Model).
type weightLoader interface {
	LoadWeights(path string) error
}

// SkippedError stops a run with SkipNonFinite that skipped more than the
// allowed share of its steps: it is diverging, not hitting a rare bad
// batch.
type SkippedError struct {
	Skipped, Steps int
	MaxShare       float64
}

func (e *SkippedError) Error() string {
	return fmt.Sprintf("skipped %d non-finite steps, more than %g%% of the %d steps of this run: training diverges (lower the learning rate, or raise the allowed share)",
		e.Skipped, 100*e.MaxShare, e.Steps)
}

// prepareRun restores a resumed run or loads initial weights, refusing
// to overwrite an existing run by accident and a checkpoint trained with
// another tokenizer. It runs under the run directory's lock.
func prepareRun(o RunOptions, tr *Trainer, ckpt string, ref TokenizerRef, info *RunInfo) error {
	if err := checkRunDir(o, ckpt); err != nil {
		return err
	}
	if o.Resume {
		meta, err := ReadCheckpointMeta(ckpt, tr.Cfg)
		if err != nil {
			return fmt.Errorf("resume: %w", err)
		}
		if err := meta.CheckTokenizer(ckpt, ref.Path, ref.Fingerprint); err != nil {
			return fmt.Errorf("resume: %w", err)
		}
		if err := sameRun(o.Out, ckpt, meta, tr.Cfg); err != nil {
			return fmt.Errorf("resume: %w", err)
		}
		st := nn.TrainState{Optimizer: tr.Opt}
		if err := nn.LoadCheckpoint(ckpt, tr.Params(), &st); err != nil {
			return fmt.Errorf("resume: %w", err)
		}
		tr.Step = st.Step
		if prev, err := os.ReadFile(filepath.Join(o.Out, RunFile)); err == nil {
			var old RunInfo
			if json.Unmarshal(prev, &old) == nil {
				info.Started, info.Init = old.Started, old.Init
				info.Resumed = append(old.Resumed, resumed{At: time.Now().UTC(), Step: st.Step})
			}
		}
		return nil
	}
	info.Started = time.Now().UTC()
	if o.Init != "" {
		var err error
		if w, ok := tr.setup.Net.(weightLoader); ok {
			err = w.LoadWeights(o.Init) // also reads weights written by PyTorch
		} else {
			err = nn.LoadCheckpoint(o.Init, tr.Params(), nil)
		}
		if err != nil {
			return fmt.Errorf("init weights: %w", err)
		}
	}
	return nil
}
