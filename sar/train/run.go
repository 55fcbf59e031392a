package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"sargo/internal/atomicfile"
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
	Method    string    `json:"method"`
	Tokenizer string    `json:"tokenizer"`
	Init      string    `json:"init,omitempty"`
	Started   time.Time `json:"started"`
	Resumed   []resumed `json:"resumed,omitempty"`
	Command   []string  `json:"command,omitempty"`
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
}

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

// Run trains in the run directory o.Out: it writes config.json and
// run.json, appends to metrics.jsonl every LogEvery steps, saves the
// latest checkpoint (and a numbered copy) every SaveEvery steps and at the
// end, and sample grids every SampleEvery steps. A non-finite loss or
// gradient stops it with a *NonFiniteError naming the step and tensor,
// leaving the last good checkpoint in place (unless SkipNonFinite). A
// cancelled ctx saves a checkpoint and returns ctx's error.
func Run(ctx context.Context, s Setup, o RunOptions) (Summary, error) {
	sum := Summary{Dir: o.Out}
	if o.Out == "" {
		return sum, errors.New("run: no output directory")
	}
	for _, d := range []string{o.Out, filepath.Join(o.Out, CheckpointDir), filepath.Join(o.Out, SampleDir)} {
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
	cfgJSON, err := json.MarshalIndent(s.Cfg, "", "  ")
	if err != nil {
		return sum, fmt.Errorf("run: encode config: %w", err)
	}
	ckpt := filepath.Join(o.Out, CheckpointFile)
	info := o.Info
	info.Method, info.Init = s.Cfg.Method, o.Init
	if err := prepareRun(o, tr, ckpt, &info); err != nil {
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
	if err := truncateMetrics(mpath, tr.Step); err != nil {
		return sum, fmt.Errorf("run: %w", err)
	}
	mf, err := os.OpenFile(mpath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return sum, fmt.Errorf("run: %w", err)
	}
	defer mf.Close()

	save := func() error {
		st := &nn.TrainState{Step: tr.Step, RNGOffset: tr.RNGOffset(), Config: cfgJSON, Optimizer: tr.Opt}
		if err := s.Net.Save(ckpt, st); err != nil {
			return fmt.Errorf("run: save checkpoint at step %d: %w", tr.Step, err)
		}
		sum.Checkpoint = ckpt
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

	until := tr.Total
	if o.Until > 0 && o.Until < until {
		until = o.Until
	}
	sum.Total = tr.Total
	prog := newProgress(o.Log, o.Terminal, tr.Step, tr.Total)
	prog.note("%s training: steps %d to %d of %d, batch %d, %d steps per epoch, run directory %s",
		s.Cfg.Method, tr.Step, until, tr.Total, s.Cfg.Batch, tr.StepsPerEpoch(), o.Out)
	start := time.Now()
	var m meter
	for tr.Step < until {
		if err := ctx.Err(); err != nil {
			if serr := save(); serr != nil {
				return sum, errors.Join(err, serr)
			}
			prog.note("interrupted at step %d; checkpoint %s", tr.Step, ckpt)
			sum.Step = tr.Step
			return sum, err
		}
		res, err := tr.TrainStep()
		if err != nil {
			var nf *NonFiniteError
			if errors.As(err, &nf) {
				prog.note("stopped: %v; the last good checkpoint is %s", nf, ckpt)
			}
			sum.Step = tr.Step
			return sum, err
		}
		if res.Skipped {
			prog.note("step %d skipped: non-finite loss or gradient", res.Step)
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
			st := &nn.TrainState{Step: tr.Step, RNGOffset: tr.RNGOffset(), Config: cfgJSON, Optimizer: tr.Opt}
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
	if err := save(); err != nil {
		return sum, err
	}
	if err := sample(fmt.Sprintf("step_%06d.png", tr.Step)); err != nil {
		return sum, err
	}
	sum.Step = tr.Step
	sum.Seconds = time.Since(start).Seconds()
	prog.note("done: step %d, checkpoint %s", tr.Step, ckpt)
	return sum, nil
}

// sameRun checks that cfg continues the run configured in path: only the
// logging, saving, sampling and non-finite-handling fields may change.
func sameRun(path string, cfg Config) error {
	prev, err := LoadConfigFile(path, Config{})
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	prev.LogEvery, prev.SaveEvery, prev.SampleEvery, prev.SkipNonFinite = cfg.LogEvery, cfg.SaveEvery, cfg.SampleEvery, cfg.SkipNonFinite
	a, _ := json.Marshal(prev)
	b, _ := json.Marshal(cfg)
	var ma, mb map[string]any
	_ = json.Unmarshal(a, &ma)
	_ = json.Unmarshal(b, &mb)
	var diff []string
	for k, v := range ma {
		if fmt.Sprint(v) != fmt.Sprint(mb[k]) {
			diff = append(diff, fmt.Sprintf("%s: stored %v, given %v", k, v, mb[k]))
		}
	}
	if len(diff) > 0 {
		sort.Strings(diff)
		return fmt.Errorf("the configuration differs from %s (%s); resume with the stored values", path, strings.Join(diff, "; "))
	}
	return nil
}

// prepareRun restores a resumed run or loads initial weights, and refuses
// to overwrite an existing run by accident.
func prepareRun(o RunOptions, tr *Trainer, ckpt string, info *RunInfo) error {
	_, statErr := os.Stat(ckpt)
	exists := statErr == nil
	switch {
	case o.Resume:
		if !exists {
			return fmt.Errorf("resume: no checkpoint %s", ckpt)
		}
		if err := sameRun(filepath.Join(o.Out, ConfigFile), tr.Cfg); err != nil {
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
	case exists:
		return fmt.Errorf("run directory %s already holds %s: pass --resume to continue it or choose another --out", o.Out, CheckpointFile)
	}
	info.Started = time.Now().UTC()
	if o.Init != "" {
		if err := nn.LoadCheckpoint(o.Init, tr.Params(), nil); err != nil {
			return fmt.Errorf("init weights: %w", err)
		}
	}
	return nil
}
