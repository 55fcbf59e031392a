package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/spf13/cobra"

	"sargo/sar"
	"sargo/sar/data"
	"sargo/sar/preset"
	"sargo/sar/sample"
	"sargo/sar/schedule"
	"sargo/sar/tokenizer"
	"sargo/sar/train"
	"sargo/tensor"
)

// trainFlags are the flags of `sargo train`.
type trainFlags struct {
	tokenizer, method, out, init, rollout, teacher string
	preset, data, config, schedule                 string
	sigma                                          float32
	steps, epochs, batch                           int
	lr                                             float64
	resume, skipNonFinite                          bool
	logEvery, saveEvery, sampleEvery               int
}

func newTrainCmd(opts *globalOptions) *cobra.Command {
	f := &trainFlags{}
	cmd := &cobra.Command{
		Use:   "train --tokenizer DIR --method tf|sf|sar --out DIR",
		Short: "Train the scale-wise transformer with teacher forcing, naive student forcing or SAR",
		Long: `train fits the class-conditional scale-wise transformer on tokens of a trained
tokenizer, with one of three methods:

  tf   teacher forcing (FlexVAR): one forward over a random schedule with
       ground-truth inputs.
  sf   naive student forcing: every scale's input comes from the model's own
       prediction at the scale before; trained against ground truth.
  sar  SAR: a teacher-forcing pass, then Stagger-Scale Rollout (the
       teacher's predictions, upsampled one scale, are the student inputs)
       and the Contrastive Student-Forcing Loss against the teacher's ids:
       L = L_TF + sigma·L_CSFL. --rollout picks the rolled-out transitions:
       last (the authors' choice), last:K or all.

--init starts from a checkpoint's weights (fresh optimiser, step 0): SAR
post-training of a TF model is --method sar --init TFRUN/model.safetensors.

The sizes come from --preset (tiny, small, paper), then --config FILE (a
JSON preset: {"model": {...}, "train": {...}}), then the flags given. The
run directory receives config.json, run.json, model.safetensors (latest),
checkpoints/, samples/ and metrics.jsonl; --resume continues it exactly.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runTrain(cmd, opts, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.tokenizer, "tokenizer", "", "tokenizer directory (holding tokenizer.safetensors) or checkpoint")
	fl.StringVar(&f.method, "method", "tf", "training method: tf, sf or sar")
	fl.StringVar(&f.out, "out", "", "run directory")
	fl.StringVar(&f.init, "init", "", "checkpoint to take the initial weights from (fresh optimiser, step 0)")
	fl.StringVar(&f.rollout, "rollout", "last", "SAR transitions rolled out: last, last:K or all")
	fl.Float32Var(&f.sigma, "sigma", 0.01, "weight of the CSFL term")
	fl.StringVar(&f.teacher, "teacher", "argmax", "teacher ids: argmax, or sample (CFG, top-k, top-p)")
	fl.StringVar(&f.preset, "preset", "small", "size preset: tiny, small or paper")
	fl.StringVar(&f.config, "config", "", "JSON preset file applied over --preset")
	fl.StringVar(&f.data, "data", "mnist", "training data: mnist, or a folder with one sub-folder of images per class")
	fl.StringVar(&f.schedule, "schedule", "random", "training schedules: random (FlexVAR) or fixed (the VAR-like list)")
	fl.IntVar(&f.steps, "steps", 0, "training steps")
	fl.IntVar(&f.epochs, "epochs", 0, "training epochs (when --steps is not given)")
	fl.IntVar(&f.batch, "batch", 0, "batch size")
	fl.Float64Var(&f.lr, "lr", 0, "peak learning rate")
	fl.IntVar(&f.logEvery, "log-every", 0, "steps between metric lines")
	fl.IntVar(&f.saveEvery, "save-every", 0, "steps between checkpoints")
	fl.IntVar(&f.sampleEvery, "sample-every", 0, "steps between sample grids")
	fl.BoolVar(&f.resume, "resume", false, "continue the run in --out from its latest checkpoint")
	fl.BoolVar(&f.skipNonFinite, "skip-nonfinite", false, "skip steps with a non-finite loss or gradient instead of stopping")
	_ = cmd.MarkFlagRequired("tokenizer")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

// resolvePreset builds the configuration: preset, then --config, then the
// flags that were given; a resumed run starts from its stored config.json.
func resolvePreset(cmd *cobra.Command, opts *globalOptions, f *trainFlags) (preset.Preset, error) {
	p, err := preset.Get(f.preset)
	if err != nil {
		return p, err
	}
	if f.config != "" {
		if p, err = preset.Load(f.config, p); err != nil {
			return p, err
		}
	}
	stored := filepath.Join(f.out, train.ConfigFile)
	if f.resume && f.config == "" && exists(stored) {
		if p.Train, err = train.LoadConfigFile(stored, p.Train); err != nil {
			return p, err
		}
	}
	fl := cmd.Flags()
	t := &p.Train
	set := func(name string, apply func()) {
		if fl.Changed(name) {
			apply()
		}
	}
	set("method", func() { t.Method = f.method })
	set("rollout", func() { t.Rollout = f.rollout })
	set("sigma", func() { t.Sigma = f.sigma })
	set("teacher", func() { t.Teacher = f.teacher })
	set("schedule", func() { t.Schedule = f.schedule })
	set("steps", func() { t.Steps = f.steps })
	set("epochs", func() { t.Epochs, t.Steps = f.epochs, 0 })
	set("batch", func() { t.Batch = f.batch })
	set("lr", func() { t.LR = f.lr })
	set("log-every", func() { t.LogEvery = f.logEvery })
	set("save-every", func() { t.SaveEvery = f.saveEvery })
	set("sample-every", func() { t.SampleEvery = f.sampleEvery })
	set("skip-nonfinite", func() { t.SkipNonFinite = f.skipNonFinite })
	if sf := cmd.Flag("seed"); sf != nil && sf.Changed {
		t.Seed = opts.seed
	}
	if f.steps > 0 && fl.Changed("epochs") {
		return p, errors.New("train: give --steps or --epochs, not both")
	}
	return p, nil
}

func runTrain(cmd *cobra.Command, opts *globalOptions, f *trainFlags) error {
	p, err := resolvePreset(cmd, opts, f)
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	dev, err := tensor.Open(opts.device)
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
	defer stop()
	job := trainJob{Preset: p, Tokenizer: f.tokenizer, Data: f.data, Init: f.init, Out: f.out, Resume: f.resume,
		Seed: p.Train.Seed, Command: os.Args}
	_, err = job.run(ctx, dev, nil, cmd.OutOrStdout())
	return err
}

// loadData opens the training images: MNIST's training split, or a folder
// with one sub-folder per class, resized to the tokenizer's images.
func loadData(name string, tc tokenizer.Config) (*data.Dataset, error) {
	if name == "mnist" {
		return data.LoadMNIST(true)
	}
	ds, err := data.LoadFolder(name, tc.ImageSize, tc.ImageChannels)
	if err != nil {
		return nil, fmt.Errorf("--data %s: %w", name, err)
	}
	return ds, nil
}

// trainJob is one transformer training run, shared by train and demo.
type trainJob struct {
	Preset    preset.Preset
	Tokenizer string // directory or checkpoint
	Data      string // mnist or a folder (when no dataset is passed to run)
	Init      string
	Out       string
	Resume    bool
	Seed      uint64
	Command   []string
}

// run loads the tokenizer and the data (unless ds is given), builds (or,
// for --init and --resume, shapes from the checkpoint) the model, and
// trains it in the run directory.
func (j trainJob) run(ctx context.Context, dev tensor.Backend, ds *data.Dataset, log io.Writer) (train.Summary, error) {
	tokPath, _ := checkpointIn(j.Tokenizer, tokenizer.CheckpointFile)
	vq, _, err := tokenizer.Load(tokPath, dev)
	if err != nil {
		return train.Summary{}, fmt.Errorf("train: %w", err)
	}
	vq.SetTrain(false)
	tc := vq.Cfg
	if ds == nil {
		if ds, err = loadData(j.Data, tc); err != nil {
			return train.Summary{}, fmt.Errorf("train: %w", err)
		}
	}
	if ds.C != tc.ImageChannels || ds.H != tc.ImageSize || ds.W != tc.ImageSize {
		return train.Summary{}, fmt.Errorf("train: dataset %s has %dx%dx%d images, the tokenizer %s wants %dx%dx%d",
			ds.Name, ds.C, ds.H, ds.W, tokPath, tc.ImageChannels, tc.ImageSize, tc.ImageSize)
	}
	mc := j.Preset.Model
	mc.Vocab, mc.CVae, mc.Largest = tc.Codebook, tc.CVae, tc.Latent()
	mc.NumClasses = len(ds.Classes)
	from := j.Init
	if j.Resume {
		from = filepath.Join(j.Out, train.CheckpointFile)
	}
	if from != "" {
		if mc, err = sar.ReadConfig(from); err != nil {
			return train.Summary{}, fmt.Errorf("train: %w", err)
		}
		if err := preset.Match(mc, tc); err != nil {
			return train.Summary{}, fmt.Errorf("train: checkpoint %s and tokenizer %s: %w", from, tokPath, err)
		}
	}
	m, err := sar.NewModel(mc, dev, j.Seed)
	if err != nil {
		return train.Summary{}, fmt.Errorf("train: %w", err)
	}
	setup := train.Setup{Cfg: j.Preset.Train, Net: m, Tok: vq, Inputs: sar.NextScaleInputs,
		NullClass: mc.NumClasses, Largest: tc.Latent(), Data: ds, Dev: dev}
	info := train.RunInfo{Tokenizer: tokPath, Command: j.Command,
		Extra: map[string]any{"preset": j.Preset.Name, "model": mc, "data": ds.Name}}
	return train.Run(ctx, setup, train.RunOptions{
		Out: j.Out, Resume: j.Resume, Init: j.Init, Info: info,
		Sample: func(path string) error { return sampleGrid(m, vq, path, j.Seed) },
		Log:    log, Terminal: isTerminalWriter(log),
	})
}

// sampleGrid writes one row of 8 samples per class with the fixed
// schedule (CFG 1.5, top-k 0, top-p 0) to path.
func sampleGrid(m *sar.Model, vq *tokenizer.VQ, path string, seed uint64) error {
	const perClass = 8
	var labels []int
	for c := 0; c < m.Cfg.NumClasses; c++ {
		for range perClass {
			labels = append(labels, c)
		}
	}
	opt := sample.Options{Schedule: schedule.VARList(vq.Cfg.Latent()), CFG: 1.5, Seed: seed}
	s := tensor.NewScope(vq.Device())
	defer s.Close()
	res, err := sample.Generate(m, vq, labels, opt, nil)
	if err != nil {
		return err
	}
	grid, err := gridOf(res.Images, labels, m.Cfg.NumClasses, perClass, 2)
	if err != nil {
		return err
	}
	return grid.Save(path)
}

// isTerminalWriter reports whether w is a terminal (a progress bar is
// drawn then).
func isTerminalWriter(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && train.IsTerminal(f)
}
