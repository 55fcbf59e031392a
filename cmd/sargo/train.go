package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"sargo/dist"
	"sargo/nn"
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
	preset, data, config, schedule, sampler        string
	sigma                                          float32
	steps, epochs, batch                           int
	lr, lrFloor, maxSkipped                        float64
	resume, skipNonFinite, noAugment               bool
	logEvery, saveEvery, sampleEvery               int
	parallel                                       parallelFlags
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

--init starts from a checkpoint's weights with a fresh optimiser, and by
default continues the learning-rate schedule of the run that wrote it from
its last step, without a new warm-up (the schedule is stretched when it
ends before the new run does), as the authors' SAR post-training resumes
FlexVAR's schedule at its tail. --lr starts a fresh schedule with that
peak instead. SAR post-training of a TF model is
--method sar --init TFRUN/model.safetensors.

--init also takes a released FlexVAR / SAR model (FlexVARd16-epo179.pth, a
PyTorch checkpoint, or its safetensors conversion) with --tokenizer
FlexVAE.pth; the model's sizes come from the file, and for d16, d20 and d24
the schedule continued is FlexVAR's (the d16, d20, d24 presets) from the
epoch the file records, as the authors' SAR post-training does (a
conversion records none: give --lr).

A --data folder holds one sub-folder of PNG or JPEG images of any size per
class (ImageNet's train/ folder); the images are decoded in parallel while
training, the next batch prepared during the current step, each brought to
the tokenizer's size by ADM's random crop (smaller side resized to a random
size in [R, R/0.88], random R×R window) and a random horizontal flip, drawn
from the seed and the step (--no-augment: centre crops). MNIST is not
augmented.

The defaults train as the authors' released code runs: FlexVAR's random
schedules, which can end below the largest scale (--schedule-sampler
flexvar; keep-last always ends there), the "lin0" learning-rate shape
(warm-up from 0.005×, 5% at the peak, linear to --lr-floor × the peak),
and a SAR teacher that samples with CFG 1.2, top-k 900 and top-p 0.96 on
a doubled batch (--teacher argmax takes the argmax).

The sizes come from --preset (tiny, small, paper, d16, d20, d24), then --config FILE (a
JSON preset: {"model": {...}, "train": {...}}), then the flags given. The
run directory receives config.json, run.json, model.safetensors (latest),
checkpoints/, samples/ and metrics.jsonl; --resume continues it exactly,
from the configuration its checkpoint records (flags, --preset or
--config that disagree with it are refused, naming each difference).

Every checkpoint records the fingerprint of the tokenizer's weights:
--init and --resume refuse a tokenizer other than the one the checkpoint
was trained with, as sample and eval do. A second train on the same --out
fails at once, naming the process that holds it. SIGINT and SIGTERM write
a checkpoint and exit non-zero with the command that resumes the run.

--skip-nonfinite skips a step whose loss or gradient is not finite
instead of stopping; more than --max-skipped of the steps skipped stops
the run (training is diverging).

Data-parallel: --devices vulkan:0,vulkan:1 trains one replica per device
in this process, and under Open MPI's mpirun (mpirun -np N sargo train
...) every process is a rank with its own devices. Each replica trains on
its share of every batch (--batch is the global batch and must split
evenly), gradients are averaged during the backward pass, rank 0 writes
the run directory, and SIGINT, SIGTERM or SIGUSR1 on any rank stops all
of them after the same step.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runTrain(cmd, opts, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.tokenizer, "tokenizer", "", "tokenizer directory (holding tokenizer.safetensors) or checkpoint")
	fl.StringVar(&f.method, "method", "tf", "training method: tf, sf or sar")
	fl.StringVar(&f.out, "out", "", "run directory")
	fl.StringVar(&f.init, "init", "", "checkpoint to take the initial weights from (fresh optimiser; its run's learning-rate schedule continues unless --lr is given)")
	fl.StringVar(&f.rollout, "rollout", "last", "SAR transitions rolled out: last, last:K or all")
	fl.Float32Var(&f.sigma, "sigma", 0.01, "weight of the CSFL term")
	fl.StringVar(&f.teacher, "teacher", train.TeacherSample, "teacher ids: sample (CFG 1.2, top-k 900, top-p 0.96, as the authors' runs) or argmax")
	fl.StringVar(&f.preset, "preset", "small", "size preset: tiny, small, paper, d16, d20 or d24")
	fl.StringVar(&f.config, "config", "", "JSON preset file applied over --preset")
	fl.StringVar(&f.data, "data", "mnist", "training data: mnist, or a folder with one sub-folder of images per class")
	fl.BoolVar(&f.noAugment, "no-augment", false, "read a --data folder with centre crops instead of random crops and flips")
	fl.StringVar(&f.schedule, "schedule", "random", "training schedules: random (FlexVAR) or fixed (the VAR-like list)")
	fl.StringVar(&f.sampler, "schedule-sampler", string(schedule.SamplerFlexVAR), "random schedules over the token budget: flexvar (may drop the largest scale, as the authors' trainer) or keep-last")
	fl.IntVar(&f.steps, "steps", 0, "training steps")
	fl.IntVar(&f.epochs, "epochs", 0, "training epochs (when --steps is not given)")
	fl.IntVar(&f.batch, "batch", 0, "batch size")
	fl.Float64Var(&f.lr, "lr", 0, "peak learning rate (with --init: a fresh schedule instead of the init run's)")
	fl.Float64Var(&f.lrFloor, "lr-floor", 0, "final learning rate as a fraction of the peak (the authors' wpe: 0.1 for d16/d20, 0.01 for d24)")
	fl.IntVar(&f.logEvery, "log-every", 0, "steps between metric lines")
	fl.IntVar(&f.saveEvery, "save-every", 0, "steps between checkpoints")
	fl.IntVar(&f.sampleEvery, "sample-every", 0, "steps between sample grids")
	fl.BoolVar(&f.resume, "resume", false, "continue the run in --out from its latest checkpoint")
	fl.BoolVar(&f.skipNonFinite, "skip-nonfinite", false, "skip steps with a non-finite loss or gradient instead of stopping")
	fl.Float64Var(&f.maxSkipped, "max-skipped", train.DefaultMaxSkipped, "with --skip-nonfinite, the largest share of the steps that may be skipped before the run stops")
	f.parallel.add(cmd)
	_ = cmd.MarkFlagRequired("tokenizer")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

// resolvePreset builds the configuration: preset, then --config, then the
// flags that were given. A resumed run starts from the configuration its
// checkpoint records (resumePreset); flags, a --preset or a --config that
// disagree with it are an error naming every difference.
func resolvePreset(cmd *cobra.Command, opts *globalOptions, f *trainFlags) (preset.Preset, error) {
	p, err := preset.Get(f.preset)
	if err != nil {
		return p, err
	}
	var stored preset.Preset
	var diffs []string
	switch {
	case f.resume:
		if p, stored, diffs, err = resumePreset(cmd, f, p); err != nil {
			return p, err
		}
	case f.config != "":
		if p, err = preset.Load(f.config, p); err != nil {
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
	set("schedule-sampler", func() { t.ScheduleSampler = f.sampler })
	set("lr-floor", func() { t.LRFloor = f.lrFloor })
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
	if !(f.maxSkipped >= 0 && f.maxSkipped <= 1) {
		return p, fmt.Errorf("--max-skipped %g: want a share in [0, 1]", f.maxSkipped)
	}
	if f.resume {
		diffs = append(diffs, train.DiffRunConfig(stored.Train, p.Train)...)
		if len(diffs) > 0 {
			return p, fmt.Errorf("resume: the flags and files given disagree with checkpoint %s:\n  %s\nresume without them (the checkpoint's configuration is used), or start a new run with another --out",
				filepath.Join(f.out, train.CheckpointFile), strings.Join(diffs, "\n  "))
		}
	}
	return p, nil
}

func runTrain(cmd *cobra.Command, opts *globalOptions, f *trainFlags) error {
	if err := checkOutDir("out", f.out); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	p, err := resolvePreset(cmd, opts, f)
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	par, err := startParallel(&f.parallel, opts.device)
	if err != nil {
		return par.finish(fmt.Errorf("train: %w", err), cmd.OutOrStdout())
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), par.signals()...)
	defer stop()
	job := trainJob{Preset: p, Tokenizer: f.tokenizer, Data: f.data, Init: f.init, Out: f.out, Resume: f.resume,
		FreshSchedule: cmd.Flags().Changed("lr"), NoAugment: f.noAugment, Seed: p.Train.Seed, Command: os.Args,
		MaxSkipped: f.maxSkipped, Parallel: par}
	out := cmd.OutOrStdout()
	if par.world.Rank() != 0 {
		out = io.Discard
	}
	sum, err := job.run(ctx, par.devices[0], nil, out)
	if err != nil && stopped(err) && sum.Checkpoint != "" {
		err = stoppedError(ctx, "train", sum.Step, "checkpoint "+sum.Checkpoint, resumeCommand(os.Args))
	}
	return par.finish(err, cmd.OutOrStdout())
}

// loadData opens the training images: MNIST's training split, or a folder
// with one sub-folder per class of images of any size, decoded while
// training and brought to the tokenizer's size with ADM's random crop and
// a random horizontal flip (with augment; a centre crop without), as
// FlexVAR and SAR train on ImageNet.
func loadData(name string, tc tokenizer.Config, augment bool) (*data.Dataset, error) {
	if name == "mnist" {
		return data.LoadMNIST(true)
	}
	ds, err := data.OpenFolder(name, tc.ImageSize, tc.ImageChannels, data.Augment{RandomCrop: augment, Flip: augment})
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
	// FreshSchedule gives a run with Init its own learning-rate schedule
	// instead of continuing the init run's.
	FreshSchedule bool
	// NoAugment reads a folder without random crops and flips.
	NoAugment bool
	Seed      uint64
	Command   []string
	// MaxSkipped is train.RunOptions.MaxSkipped.
	MaxSkipped float64
	// Parallel, when set, trains data-parallel (nil: one device).
	Parallel *parallel
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
	fingerprint, err := vq.Fingerprint()
	if err != nil {
		return train.Summary{}, fmt.Errorf("train: %w", err)
	}
	from := j.Init
	if j.Resume {
		from = filepath.Join(j.Out, train.CheckpointFile)
	}
	if from != "" {
		// A released VQ-16 does not say its image size: the model's does.
		// (Errors reading from are reported by rank 0 below; other ranks
		// may not have the file.)
		if mc, err := sar.ReadConfig(from); err == nil {
			fitTokenizer(vq, mc)
		}
	}
	tc := vq.Cfg
	if ds == nil {
		if ds, err = loadData(j.Data, tc, !j.NoAugment); err != nil {
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
	world := dist.Alone()
	if j.Parallel != nil {
		world = j.Parallel.world
	}
	if from != "" && world.Rank() == 0 {
		if mc, err = sar.ReadConfig(from); err != nil {
			return train.Summary{}, fmt.Errorf("train: %w", err)
		}
		if err := preset.Match(mc, tc); err != nil {
			return train.Summary{}, fmt.Errorf("train: checkpoint %s and tokenizer %s: %w", from, tokPath, err)
		}
		if n := len(ds.Classes); n > mc.NumClasses {
			return train.Summary{}, fmt.Errorf("train: the data %s has %d classes, checkpoint %s has %d: the extra classes have no embedding (their labels would train the null class)",
				ds.Name, n, from, mc.NumClasses)
		}
	}
	if err := mc.Validate(); err != nil {
		return train.Summary{}, fmt.Errorf("train: %w", err)
	}
	if err := mc.CheckMemory(dev, 4); err != nil {
		return train.Summary{}, fmt.Errorf("train: %w", err)
	}
	if err := shareConfig(world, &j.Preset, &mc, tokPath); err != nil {
		return train.Summary{}, fmt.Errorf("train: %w", err)
	}
	m, err := sar.NewModel(mc, dev, j.Seed)
	if err != nil {
		return train.Summary{}, fmt.Errorf("train: %w", err)
	}
	cfg := j.Preset.Train
	if j.Init != "" && !j.Resume && !j.FreshSchedule {
		st, err := initTrainState(j.Init, mc, ds.Len())
		if err != nil {
			return train.Summary{}, fmt.Errorf("train: %w", err)
		}
		if cfg, err = train.ContinueFrom(cfg, st, ds.Len()); err != nil {
			return train.Summary{}, fmt.Errorf("train: --init %s: %w; pass --lr to start a fresh learning-rate schedule", j.Init, err)
		}
		sched, from := cfg.Rates(cfg.TotalSteps(ds.Len()))
		fmt.Fprintf(log, "continuing the learning-rate schedule of %s from its step %d: %.3g falling to %.3g\n",
			j.Init, st.Step, sched.LR(from), sched.LR(from+cfg.TotalSteps(ds.Len())-1))
	}
	setup := train.Setup{Cfg: cfg, Net: m, Tok: vq, Inputs: sar.NextScaleInputs,
		NullClass: mc.NumClasses, Largest: tc.Latent(), Data: ds, Dev: dev}
	if j.Parallel != nil && j.Parallel.on() {
		reps, err := j.Parallel.replicas(tokPath, mc, j.Seed)
		if err != nil {
			return train.Summary{}, fmt.Errorf("train: %w", err)
		}
		setup.Parallel = &train.Parallel{World: world, Replicas: reps, BucketBytes: j.Parallel.bucket, Trace: j.Parallel.trace}
	}
	info := train.RunInfo{Tokenizer: tokPath, TokenizerFingerprint: fingerprint, Command: j.Command,
		Extra: map[string]any{"preset": j.Preset.Name, "model": mc, "data": ds.Name}}
	return train.Run(ctx, setup, train.RunOptions{
		Out: j.Out, Resume: j.Resume, Init: j.Init, Info: info, MaxSkipped: j.MaxSkipped,
		Sample: func(path string) error { return sampleGrid(m, vq, path, j.Seed) },
		Log:    log, Terminal: isTerminalWriter(log),
	})
}

// fitTokenizer gives a VQ-16 tokenizer, which is convolutional and whose
// released file does not say its image size, the images of the model's
// largest latent.
func fitTokenizer(vq *tokenizer.VQ, mc sar.Config) {
	if vq.Cfg.Arch == tokenizer.ArchVQ16 && mc.Largest > 0 {
		vq.Cfg.ImageSize = mc.Largest * vq.Cfg.Downsample
	}
}

// initTrainState is the training state the run of an --init checkpoint
// stopped at, whose learning-rate schedule the new run continues: the
// checkpoint's own for sargo's, and for a released d16, d20 or d24 model
// the schedule of FlexVAR's training of that depth (its preset) at the
// start of the epoch the file records, as the authors' SAR post-training
// restarts the epoch of FlexVARd16-epo179.pth's name.
func initTrainState(path string, mc sar.Config, images int) (*nn.TrainState, error) {
	if !sar.IsPublished(path) {
		return sar.ReadTrainState(path)
	}
	p, err := preset.Get("d" + strconv.Itoa(mc.Depth))
	if err != nil || p.Model.Width != mc.Width {
		return nil, fmt.Errorf("--init %s: no published training schedule for a model of depth %d and width %d; pass --lr to start a fresh one", path, mc.Depth, mc.Width)
	}
	epoch, ok := sar.PublishedEpoch(path)
	if !ok {
		return nil, fmt.Errorf("--init %s records no epoch (a conversion?); pass --lr to start a fresh learning-rate schedule", path)
	}
	cfg, err := json.Marshal(p.Train)
	if err != nil {
		return nil, err
	}
	steps := p.Train.TotalSteps(images) / max(p.Train.Epochs, 1)
	return &nn.TrainState{Step: max(epoch-1, 0) * steps, Config: cfg}, nil
}

// sampleGrid writes one row of samples per class with the fixed schedule
// (CFG 1.5, top-k 0, top-p 0) to path: 8 per class for up to 10 classes
// of small images; with more classes, 10 of them evenly spaced, and one
// sample per class for images over 64 pixels.
func sampleGrid(m *sar.Model, vq *tokenizer.VQ, path string, seed uint64) error {
	perClass, classes := 8, min(m.Cfg.NumClasses, 10)
	if vq.Cfg.ImageSize > 64 {
		perClass = 1
	}
	var labels []int
	for i := range classes {
		c := i * m.Cfg.NumClasses / classes
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
	cols, scale := perClass, 2
	if perClass == 1 {
		cols, scale = classes, 1
	}
	grid, err := gridOf(res.Images, labels, m.Cfg.NumClasses, cols, scale)
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
