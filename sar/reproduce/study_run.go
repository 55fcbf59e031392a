package reproduce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"sargo/sar"
	"sargo/sar/eval"
	"sargo/sar/imgio"
	"sargo/sar/sample"
	"sargo/sar/schedule"
	"sargo/sar/tokenizer"
	"sargo/sar/train"
	"sargo/sar/viz"
)

// The files and folders of a study's output folder. Everything a report
// shows is at the top; WorkDir holds the tokenizer, the classifier and
// every run with its checkpoints.
const (
	StudyFile   = "study.json"         // the Study
	ResultsFile = "study_results.json" // StudyResults
	EvalDir     = "evals"              // NAME.json: eval.Report with the exposure bias
	GridDir     = "grids"              // NAME.png: GridPerClass samples per class
	WorkDir     = "work"
	baseDir     = "base" // in WorkDir: the TF base run
	runsDir     = "runs" // in WorkDir: the post-training runs
	valFile     = "val.jsonl"
	doneFile    = "done.json"
	// BaseName names the base run's evaluation and grid.
	BaseName = "base"
)

// valPoint is one held-out measurement of the base run.
type valPoint struct {
	Step int     `json:"step"`
	Loss float64 `json:"loss"`
}

// baseResult is how the base run ended.
type baseResult struct {
	// Steps is the step it stopped at; Plateau says whether the plateau
	// rule stopped it (else BaseSteps did).
	Steps   int        `json:"steps"`
	Plateau bool       `json:"plateau"`
	Val     []valPoint `json:"val"`
}

// studyState is a study in progress: the shared setup of the protocols
// (in WorkDir) and the study's own output folder.
type studyState struct {
	*state
	st  Study
	dir string
}

// RunStudy executes the study in out and writes its report. It is
// resumable: the tokenizer, the classifier, a finished base run, every
// finished post-training run, evaluation and grid are reused, and an
// interrupted run is resumed from its last checkpoint (the base run keeps
// one at every held-out measurement).
func RunStudy(ctx context.Context, st Study, out string, env Env) error {
	if err := st.Validate(); err != nil {
		return err
	}
	ss, err := newStudyState(st, out, env, true)
	if err != nil {
		return err
	}
	raw, _ := json.MarshalIndent(st, "", "  ")
	if err := imgio.WriteFileAtomic(filepath.Join(out, StudyFile), append(raw, '\n')); err != nil {
		return fmt.Errorf("study: %w", err)
	}
	return inScope(env.Dev, func() error { // the tokenizer, classifier and reference
		if err := ss.setup(ctx); err != nil {
			return err
		}
		var base baseResult
		err := ss.phase("train base", func() error {
			var err error
			base, err = ss.base(ctx)
			return err
		})
		if err != nil {
			return fmt.Errorf("study base: %w", err)
		}
		if err := ss.evaluate(ctx, BaseName, filepath.Join(ss.workDir(baseDir), train.CheckpointFile), st.Seeds[0]); err != nil {
			return err
		}
		for _, r := range st.runs() {
			if err := ss.post(ctx, r, base); err != nil {
				return err
			}
			if err := ss.evaluate(ctx, r.Name, filepath.Join(ss.runDir(r.Name), train.CheckpointFile), r.Seed); err != nil {
				return err
			}
		}
		return ss.report(ctx)
	})
}

// ReportStudy writes the report from what is already in out, training and
// evaluating nothing.
func ReportStudy(ctx context.Context, st Study, out string, env Env) error {
	if err := st.Validate(); err != nil {
		return err
	}
	ss, err := newStudyState(st, out, env, false)
	if err != nil {
		return err
	}
	return inScope(env.Dev, func() error {
		if err := ss.setup(ctx); err != nil {
			return err
		}
		return ss.report(ctx)
	})
}

func newStudyState(st Study, out string, env Env, record bool) (*studyState, error) {
	if env.Log == nil {
		env.Log = io.Discard
	}
	work := filepath.Join(out, WorkDir)
	for _, d := range []string{work, filepath.Join(out, EvalDir), filepath.Join(out, GridDir)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("study: %w", err)
		}
	}
	s := &state{p: st.protocol(), env: env, out: work, log: env.Log, record: record}
	return &studyState{state: s, st: st, dir: out}, nil
}

// workDir is a folder of WorkDir.
func (ss *studyState) workDir(name string) string { return filepath.Join(ss.out, name) }

// runDir is a post-training run's folder.
func (ss *studyState) runDir(name string) string { return filepath.Join(ss.out, runsDir, name) }

// modelConfig is the transformer's configuration for the study's
// tokenizer and data.
func (ss *studyState) modelConfig() sar.Config {
	mc := ss.st.Preset.Model
	tc := ss.vq.Cfg
	mc.Vocab, mc.CVae, mc.Largest, mc.NumClasses = tc.Codebook, tc.CVae, tc.Latent(), len(ss.train.Classes)
	return mc
}

// baseConfig is the base run's training configuration.
func (ss *studyState) baseConfig() train.Config {
	c := ss.st.Preset.Train
	c.Method, c.Steps, c.Epochs, c.SaveEvery = train.MethodTF, ss.st.BaseSteps, 0, 0
	c.LRFrom, c.LRTotal = 0, ss.st.horizon()
	c.Warmup = min(c.Warmup, c.LRTotal/10)
	return c
}

// base trains the TF base run in chunks of ValEvery steps, measuring the
// held-out loss after each, until the loss plateaus at the floor rate
// (from the schedule's end on) or BaseSteps.
func (ss *studyState) base(ctx context.Context) (baseResult, error) {
	dir := ss.workDir(baseDir)
	var res baseResult
	if raw, err := os.ReadFile(filepath.Join(dir, doneFile)); err == nil {
		if err := json.Unmarshal(raw, &res); err != nil {
			return res, fmt.Errorf("%s: %w", filepath.Join(dir, doneFile), err)
		}
		fmt.Fprintf(ss.log, "base run already trained (%d steps)\n", res.Steps)
		return res, nil
	}
	val, err := readVal(filepath.Join(dir, valFile))
	if err != nil {
		return res, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return res, err
	}
	cfg := ss.baseConfig()
	mc := ss.modelConfig()
	ckpt := filepath.Join(dir, train.CheckpointFile)
	measure := func(m *sar.Model, step int) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		loss, err := eval.HeldOutLoss(m, ss.vq, ss.test, ss.st.ValImages, 250, nil)
		if err != nil {
			return err
		}
		val = append(val, valPoint{Step: step, Loss: loss})
		fmt.Fprintf(ss.log, "base run step %d: held-out loss %.4f\n", step, loss)
		return appendJSONLine(filepath.Join(dir, valFile), val[len(val)-1])
	}
	for {
		step := 0
		if st, err := sar.ReadTrainState(ckpt); err == nil {
			step = st.Step
		}
		// Measurements past the checkpoint (from a run stopped after it was
		// measured but before it was saved) are dropped.
		for len(val) > 0 && val[len(val)-1].Step > step {
			val = val[:len(val)-1]
		}
		// A run stopped between measurements continues to the next one.
		due := step > 0 && (step%ss.st.ValEvery == 0 || step >= cfg.Steps)
		if due && (len(val) == 0 || val[len(val)-1].Step != step) {
			err := inScope(ss.env.Dev, func() error {
				m, _, err := sar.LoadModel(ckpt, ss.env.Dev)
				if err != nil {
					return err
				}
				return measure(m, step)
			})
			if err != nil {
				return res, err
			}
		}
		losses := make([]float64, len(val))
		for i, v := range val {
			losses[i] = v.Loss
		}
		plateau := step >= ss.st.horizon() && ss.st.plateaued(losses)
		if due && (plateau || step >= cfg.Steps) {
			res = baseResult{Steps: step, Plateau: plateau, Val: val}
			raw, _ := json.MarshalIndent(res, "", "  ")
			if err := imgio.WriteFileAtomic(filepath.Join(dir, doneFile), append(raw, '\n')); err != nil {
				return res, err
			}
			how := "reached the cap"
			if res.Plateau {
				how = "plateaued"
			}
			fmt.Fprintf(ss.log, "base run: held-out loss %s at step %d (%.4f)\n", how, step, losses[len(losses)-1])
			return res, nil
		}
		next := min(cfg.Steps, (step/ss.st.ValEvery+1)*ss.st.ValEvery)
		err = inScope(ss.env.Dev, func() error { // the model of this segment
			m, err := sar.NewModel(mc, ss.env.Dev, cfg.Seed)
			if err != nil {
				return err
			}
			o := train.RunOptions{Out: dir, Resume: step > 0, Until: next, Log: ss.log, Info: ss.info(BaseName, mc)}
			sum, err := train.Run(ctx, ss.trainSetup(cfg, m), o)
			if err != nil {
				return err
			}
			return measure(m, sum.Step)
		})
		if err != nil {
			return res, err
		}
	}
}

// trainSetup is a training setup of the study's model, tokenizer and
// training images.
func (ss *studyState) trainSetup(cfg train.Config, m *sar.Model) train.Setup {
	return train.Setup{Cfg: cfg, Net: m, Tok: ss.vq, Inputs: sar.NextScaleInputs, NullClass: m.Cfg.NumClasses,
		Largest: ss.vq.Cfg.Latent(), Data: ss.train, Dev: ss.env.Dev}
}

// info is a run's run.json.
func (ss *studyState) info(run string, mc sar.Config) train.RunInfo {
	return train.RunInfo{Tokenizer: filepath.Join(ss.tokenizerDir(), tokenizer.CheckpointFile), Command: ss.env.Command,
		Extra: map[string]any{"study": ss.st.Name, "run": run, "model": mc, "data": ss.train.Name}}
}

// postConfig is a post-training run's configuration: the base run's, with
// the run's method, seed, sigma and rollout, for postSteps steps on the
// tail of the base run's learning-rate schedule. A base run that trained
// on at the floor past its schedule's end continues as if it had stopped
// there: its schedule stretched to end with the post-training run, as
// the authors' SAR runs resume FlexVAR's finished schedule.
func (ss *studyState) postConfig(r postRun, base baseResult) train.Config {
	bc := ss.baseConfig()
	c := bc
	c.Method, c.Seed, c.Sigma, c.Rollout = r.Method, r.Seed, r.Sigma, r.Rollout
	c.Steps = ss.st.postSteps(base.Steps)
	return train.Continue(c, bc, min(base.Steps, bc.LRTotal), bc.LRTotal, c.Steps)
}

// post trains (or resumes, or skips when finished) one post-training run
// from the base run's last checkpoint.
func (ss *studyState) post(ctx context.Context, r postRun, base baseResult) error {
	dir := ss.runDir(r.Name)
	cfg := ss.postConfig(r, base)
	ckpt := filepath.Join(dir, train.CheckpointFile)
	resume := false
	if st, err := sar.ReadTrainState(ckpt); err == nil {
		if st.Step >= cfg.Steps {
			fmt.Fprintf(ss.log, "%s already trained (%d steps)\n", r.Name, st.Step)
			return nil
		}
		resume = true
	}
	return ss.phase("train "+r.Name, func() error {
		mc := ss.modelConfig()
		m, err := sar.NewModel(mc, ss.env.Dev, r.Seed)
		if err != nil {
			return err
		}
		o := train.RunOptions{Out: dir, Resume: resume, Log: ss.log, Info: ss.info(r.Name, mc)}
		if !resume {
			o.Init = filepath.Join(ss.workDir(baseDir), train.CheckpointFile)
		}
		sched, from := cfg.Rates(cfg.Steps)
		fmt.Fprintf(ss.log, "%s: %s, seed %d, sigma %g, rollout %s, %d steps from base step %d, lr %.3g to %.3g\n",
			r.Name, r.Method, r.Seed, r.Sigma, r.Rollout, cfg.Steps, base.Steps, sched.LR(from), sched.LR(from+cfg.Steps-1))
		_, err = train.Run(ctx, ss.trainSetup(cfg, m), o)
		return err
	})
}

// evaluate scores a final checkpoint once (EvalDir/name.json) and draws
// its grid once (GridDir/name.png).
func (ss *studyState) evaluate(ctx context.Context, name, ckpt string, seed uint64) error {
	evalPath := filepath.Join(ss.dir, EvalDir, name+".json")
	gridPath := filepath.Join(ss.dir, GridDir, name+".png")
	_, errE := os.Stat(evalPath)
	_, errG := os.Stat(gridPath)
	if errE == nil && errG == nil {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return ss.phase("evaluate "+name, func() error {
		m, st, err := sar.LoadModel(ckpt, ss.env.Dev)
		if err != nil {
			return err
		}
		sc := schedule.VARList(ss.vq.Cfg.Latent())
		if errE != nil {
			opt := eval.DefaultOptions()
			opt.N, opt.Batch, opt.Seed, opt.Schedule = ss.st.EvalN, ss.st.EvalBatch, seed, sc
			r, err := eval.Evaluate(m, ss.vq, ss.clf, ss.ref, nil, opt, ss.log)
			if err != nil {
				return err
			}
			eo := opt.Exposure
			eo.Images, eo.Schedule, eo.Seed = ss.st.ExposureImages, sc, seed
			if r.Exposure, err = eval.ExposureBias(m, ss.vq, ss.test, eo); err != nil {
				return err
			}
			r.Model, r.Step = name, st.Step
			r.TokenizerRecon, r.CodebookUsage = ss.recon, ss.usage
			fmt.Fprintf(ss.log, "%s: FID %.3f, accuracy %.4f, IS %.3f, precision %.3f, recall %.3f; exposure gap SSR %+.4f, chained %+.4f\n",
				name, r.FID, r.Accuracy, r.IS, r.Precision, r.Recall, r.Exposure.MeanGapSSR, r.Exposure.MeanGapChained)
			raw, err := json.MarshalIndent(r, "", "  ")
			if err != nil {
				return err
			}
			if err := imgio.WriteFileAtomic(evalPath, append(raw, '\n')); err != nil {
				return err
			}
		}
		if errG != nil {
			// As sargo sample --n GridPerClass --scale 1 draws it.
			so := sample.Options{Schedule: sc, CFG: 1.5, Temperature: 1, Seed: seed}
			if err := viz.SampleGrid(gridPath, m, ss.vq, ss.st.GridPerClass, so, 1); err != nil {
				return err
			}
		}
		return nil
	})
}

// readVal reads the base run's held-out measurements (none when the file
// is missing; a torn last line is dropped).
func readVal(path string) ([]valPoint, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []valPoint
	for _, line := range strings.Split(string(raw), "\n") {
		var v valPoint
		if strings.TrimSpace(line) == "" || json.Unmarshal([]byte(line), &v) != nil {
			continue
		}
		out = append(out, v)
	}
	return out, nil
}

// appendJSONLine appends v as one JSON line to path.
func appendJSONLine(path string, v any) error {
	line, err := json.Marshal(v)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
