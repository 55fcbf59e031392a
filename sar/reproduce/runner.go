package reproduce

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

	"sargo/sar"
	"sargo/sar/data"
	"sargo/sar/eval"
	"sargo/sar/imgio"
	"sargo/sar/tokenizer"
	"sargo/sar/train"
	"sargo/tensor"
)

// Env is what a reproduction runs with.
type Env struct {
	Dev tensor.Backend
	// Data is the dataset spec of eval.LoadSplits ("mnist").
	Data string
	// Log receives progress (nil discards it).
	Log io.Writer
	// Command is recorded in the report.
	Command []string
}

// state is a reproduction in progress.
type state struct {
	p      Protocol
	env    Env
	out    string
	log    io.Writer
	full   *data.Dataset // the whole training split (classifier, tokenizer)
	train  *data.Dataset // the transformer's training images
	test   *data.Dataset
	clf    *eval.Classifier
	ref    *eval.Reference
	vq     *tokenizer.VQ
	spe    int // steps per epoch
	phases []Phase
	// recon and usage are the tokenizer's test metrics, measured once.
	recon, usage float64
	// record appends every phase to PhasesFile (a run, not a report).
	record bool
}

// PhasesFile holds the timed phases of every Run in the output folder,
// one JSON Phase per line.
const PhasesFile = "phases.jsonl"

// Phase is one timed part of the protocol.
type Phase struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
}

// Run executes the protocol in out. It is resumable: a finished tokenizer,
// classifier or run is reused, an interrupted run is resumed from its
// checkpoint, and checkpoints already in a run's eval.jsonl are not
// evaluated again. It ends by writing out/report.md and the figures.
func Run(ctx context.Context, p Protocol, out string, env Env) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if env.Log == nil {
		env.Log = io.Discard
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("reproduce: %w", err)
	}
	raw, _ := json.MarshalIndent(p, "", "  ")
	if err := imgio.WriteFileAtomic(filepath.Join(out, "protocol.json"), append(raw, '\n')); err != nil {
		return fmt.Errorf("reproduce: %w", err)
	}
	s := &state{p: p, env: env, out: out, log: env.Log, record: true}
	return inScope(env.Dev, func() error { // the tokenizer, classifier and reference
		start := time.Now()
		if err := s.setup(ctx); err != nil {
			return err
		}
		for _, r := range p.runs() {
			if err := s.run(ctx, r); err != nil {
				return err
			}
		}
		fmt.Fprintf(s.log, "\nruns finished in %s\n", time.Since(start).Round(time.Second))
		return s.report(ctx)
	})
}

// Report writes out/report.md and the figures from the runs already in
// out, training and evaluating nothing (the classifier and tokenizer must
// exist there).
func Report(ctx context.Context, p Protocol, out string, env Env) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if env.Log == nil {
		env.Log = io.Discard
	}
	s := &state{p: p, env: env, out: out, log: env.Log}
	return inScope(env.Dev, func() error {
		if err := s.setup(ctx); err != nil {
			return err
		}
		return s.report(ctx)
	})
}

// phase is timed for a phase whose results are files (a run trained or
// evaluated): what f makes on the device is freed when it returns.
func (s *state) phase(name string, f func() error) error {
	return s.timed(name, func() error { return inScope(s.env.Dev, f) })
}

// inScope runs f in a tensor scope of dev: what f makes on the device
// (models, tokenizers, their temporaries) is freed when it returns.
func inScope(dev tensor.Backend, f func() error) error {
	s := tensor.NewScope(dev)
	defer s.Close()
	return f()
}

// timed runs f and records its duration as a phase.
func (s *state) timed(name string, f func() error) error {
	t := time.Now()
	fmt.Fprintf(s.log, "\n== %s (%s)\n", name, t.UTC().Format("15:04:05"))
	err := f()
	ph := Phase{name, time.Since(t).Seconds()}
	s.phases = append(s.phases, ph)
	if s.record {
		if line, jerr := json.Marshal(ph); jerr == nil {
			if f, ferr := os.OpenFile(filepath.Join(s.out, PhasesFile), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); ferr == nil {
				f.Write(append(line, '\n'))
				f.Close()
			}
		}
	}
	if err == nil {
		fmt.Fprintf(s.log, "== %s done in %s\n", name, time.Since(t).Round(time.Second))
	}
	return err
}

// setup loads the data and prepares the classifier, the reference
// features and the tokenizer.
func (s *state) setup(ctx context.Context) error {
	tc := s.p.Preset.Tokenizer
	var err error
	if s.full, s.test, err = eval.LoadSplits(s.env.Data, tc.ImageSize, tc.ImageChannels); err != nil {
		return fmt.Errorf("reproduce: %w", err)
	}
	s.train = s.full.Subset(s.p.TrainImages)
	if s.p.Preset.Train.Batch > s.train.Len() {
		return fmt.Errorf("reproduce: batch %d exceeds the %d training images", s.p.Preset.Train.Batch, s.train.Len())
	}
	s.spe = s.train.Len() / s.p.Preset.Train.Batch
	err = s.timed("feature classifier", func() error {
		cfg := eval.DefaultClassifierTrainConfig()
		cfg.Steps = s.p.ClassifierSteps
		cfg.LogEvery = max(1, cfg.Steps/5)
		s.clf, err = eval.CachedClassifier(ctx, filepath.Join(s.out, "classifier"), s.full, s.test, cfg, s.env.Dev, s.log)
		if err != nil {
			return err
		}
		s.ref, err = eval.NewReference(s.clf, s.test, s.p.EvalN)
		return err
	})
	if err != nil {
		return fmt.Errorf("reproduce: %w", err)
	}
	if err := s.timed("tokenizer", func() error { return s.tokenizer(ctx) }); err != nil {
		return fmt.Errorf("reproduce: %w", err)
	}
	s.recon, s.usage, err = eval.TokenizerQuality(s.vq, s.test, s.p.TokenizerImages)
	if err != nil {
		return fmt.Errorf("reproduce: %w", err)
	}
	return nil
}

// tokenizerDir is where the tokenizer lives.
func (s *state) tokenizerDir() string { return filepath.Join(s.out, "tokenizer") }

// tokenizer trains the tokenizer unless a finished one is there.
func (s *state) tokenizer(ctx context.Context) error {
	dir := s.tokenizerDir()
	path := filepath.Join(dir, tokenizer.CheckpointFile)
	tt := s.p.Preset.TokenizerTrain
	if vq, st, err := tokenizer.Load(path, s.env.Dev); err == nil && st != nil && st.Step >= tt.Steps {
		fmt.Fprintf(s.log, "tokenizer %s already trained (%d steps)\n", path, st.Step)
		s.vq = vq
		s.vq.SetTrain(false)
		return nil
	}
	vq, err := tokenizer.New(s.p.Preset.Tokenizer, s.env.Dev, tt.Seed)
	if err != nil {
		return err
	}
	if _, err := tokenizer.Train(ctx, vq, s.full, tt, dir, s.log); err != nil {
		return err
	}
	vq.SetTrain(false)
	s.vq = vq
	return nil
}

// runDir is the directory of a run.
func (s *state) runDir(run string) string { return filepath.Join(s.out, run) }

// plan is the training configuration of one run and where it starts.
type plan struct {
	cfg    train.Config
	init   string  // checkpoint of the initial weights
	offset float64 // epoch at which the run starts on the protocol's axis
}

// planFor sets the method, length and checkpoint period of a run.
func (s *state) planFor(run string) (plan, error) {
	if s.p.Epochs > train.MaxSteps/s.spe {
		return plan{}, fmt.Errorf("%d epochs of %d steps exceed the %d-step limit", s.p.Epochs, s.spe, train.MaxSteps)
	}
	c := s.p.Preset.Train
	c.Steps, c.Epochs = s.p.Epochs*s.spe, 0
	c.SaveEvery = s.p.EvalEvery * s.spe
	c.Warmup = min(c.Warmup, c.Steps/10)
	pl := plan{cfg: c}
	switch run {
	case RunTF:
		pl.cfg.Method = train.MethodTF
	case RunSAR:
		pl.cfg.Method = train.MethodSAR
	case RunSF:
		pl.cfg.Method = train.MethodSF
	case RunTFSAR:
		// SAR continues TF's learning-rate path from step (N − k)·E: the
		// same schedule, no warm-up, so that the two runs differ only in
		// the objective.
		from := (s.p.Epochs - s.p.PostEpochs) * s.spe
		pl.cfg.Method = train.MethodSAR
		pl.cfg.Steps = s.p.PostEpochs * s.spe
		pl.cfg = train.Continue(pl.cfg, c, from, c.Steps, pl.cfg.Steps)
		pl.init = filepath.Join(s.runDir(RunTF), train.CheckpointDir, fmt.Sprintf("step_%06d.safetensors", from))
		pl.offset = float64(s.p.Epochs - s.p.PostEpochs)
		if _, err := os.Stat(pl.init); err != nil {
			return pl, fmt.Errorf("SAR post-training needs TF's checkpoint at epoch %d: %w", s.p.Epochs-s.p.PostEpochs, err)
		}
	default:
		return pl, fmt.Errorf("unknown run %q", run)
	}
	return pl, nil
}

// run trains one run (unless finished) and evaluates its checkpoints.
func (s *state) run(ctx context.Context, run string) error {
	pl, err := s.planFor(run)
	if err != nil {
		return fmt.Errorf("reproduce %s: %w", run, err)
	}
	dir := s.runDir(run)
	err = s.phase("train "+run, func() error { return s.trainRun(ctx, run, dir, pl) })
	if err != nil {
		return fmt.Errorf("reproduce %s: %w", run, err)
	}
	err = s.phase("evaluate "+run, func() error { return s.evaluateRun(run, dir, pl) })
	if err != nil {
		return fmt.Errorf("reproduce %s: %w", run, err)
	}
	return nil
}

// trainRun trains, resumes or skips a finished run.
func (s *state) trainRun(ctx context.Context, run, dir string, pl plan) error {
	ckpt := filepath.Join(dir, train.CheckpointFile)
	resume := false
	if _, err := os.Stat(ckpt); err == nil {
		st, err := sar.ReadTrainState(ckpt)
		if err != nil {
			return err
		}
		if st.Step >= pl.cfg.Steps {
			fmt.Fprintf(s.log, "%s already trained (%d steps)\n", run, st.Step)
			return nil
		}
		resume = true
	}
	mc := s.p.Preset.Model
	tc := s.vq.Cfg
	mc.Vocab, mc.CVae, mc.Largest, mc.NumClasses = tc.Codebook, tc.CVae, tc.Latent(), len(s.train.Classes)
	m, err := sar.NewModel(mc, s.env.Dev, pl.cfg.Seed)
	if err != nil {
		return err
	}
	setup := train.Setup{Cfg: pl.cfg, Net: m, Tok: s.vq, Inputs: sar.NextScaleInputs, NullClass: mc.NumClasses,
		Largest: tc.Latent(), Data: s.train, Dev: s.env.Dev}
	info := train.RunInfo{Tokenizer: filepath.Join(s.tokenizerDir(), tokenizer.CheckpointFile), Command: s.env.Command,
		Extra: map[string]any{"protocol": s.p.Name, "run": run, "model": mc, "data": s.train.Name}}
	o := train.RunOptions{Out: dir, Resume: resume, Info: info, Log: s.log}
	if !resume {
		o.Init = pl.init
	}
	fmt.Fprintf(s.log, "%s: %s, %d steps (%d epochs of %d), lr %g\n", run, pl.cfg.Method, pl.cfg.Steps, pl.cfg.Steps/s.spe, s.spe, pl.cfg.LR)
	_, err = train.Run(ctx, setup, o)
	return err
}

// checkpoint is one evaluable checkpoint of a run.
type checkpoint struct {
	path string
	step int
}

// checkpoints lists a run's numbered checkpoints and its final one, by
// step.
func (s *state) checkpoints(dir string) ([]checkpoint, error) {
	matches, err := filepath.Glob(filepath.Join(dir, train.CheckpointDir, "step_*.safetensors"))
	if err != nil {
		return nil, err
	}
	var out []checkpoint
	for _, m := range matches {
		var step int
		if _, err := fmt.Sscanf(filepath.Base(m), "step_%06d.safetensors", &step); err == nil {
			out = append(out, checkpoint{m, step})
		}
	}
	final := filepath.Join(dir, train.CheckpointFile)
	st, err := sar.ReadTrainState(final)
	if err != nil {
		return nil, err
	}
	out = append(out, checkpoint{final, st.Step})
	sort.Slice(out, func(i, j int) bool { return out[i].step < out[j].step })
	return out, nil
}

// evaluateRun evaluates every checkpoint not yet in the run's history.
// SAR post-training's curve starts with TF's evaluation at N − k.
func (s *state) evaluateRun(run, dir string, pl plan) error {
	hist := filepath.Join(dir, eval.HistoryFile)
	done := map[int]bool{}
	if ps, err := eval.ReadHistory(hist); err == nil {
		for _, p := range ps {
			done[p.Step] = true
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if run == RunTFSAR && !done[0] {
		tfs, err := eval.ReadHistory(filepath.Join(s.runDir(RunTF), eval.HistoryFile))
		if err != nil {
			return err
		}
		for _, p := range tfs {
			if p.Epoch == pl.offset {
				p.Step, p.Model = 0, run
				if err := eval.AppendHistory(hist, p); err != nil {
					return err
				}
				done[0] = true
			}
		}
	}
	cks, err := s.checkpoints(dir)
	if err != nil {
		return err
	}
	for _, ck := range cks {
		if done[ck.step] {
			continue
		}
		if err := inScope(s.env.Dev, func() error { return s.evaluateCheckpoint(run, ck, pl, hist) }); err != nil {
			return err
		}
	}
	return nil
}

// evaluateCheckpoint evaluates one checkpoint of a run and appends it to
// the run's history.
func (s *state) evaluateCheckpoint(run string, ck checkpoint, pl plan, hist string) error {
	m, _, err := sar.LoadModel(ck.path, s.env.Dev)
	if err != nil {
		return err
	}
	opt := eval.DefaultOptions()
	opt.N, opt.Batch, opt.Seed, opt.TokenizerImages = s.p.EvalN, s.p.EvalBatch, 1, s.p.TokenizerImages
	r, err := eval.Evaluate(m, s.vq, s.clf, s.ref, nil, opt, s.log)
	if err != nil {
		return err
	}
	r.TokenizerRecon, r.CodebookUsage = s.recon, s.usage
	r.Model, r.Step = run, ck.step
	epoch := pl.offset + float64(ck.step)/float64(s.spe)
	fmt.Fprintf(s.log, "%s epoch %g (step %d): FID %.3f, accuracy %.4f, IS %.3f, precision %.3f, recall %.3f, %.1f images/s\n",
		run, epoch, ck.step, r.FID, r.Accuracy, r.IS, r.Precision, r.Recall, r.ImagesPerS)
	return eval.AppendHistory(hist, eval.Point{Epoch: epoch, Report: *r})
}

// join writes a command line.
func join(args []string) string { return strings.Join(args, " ") }
