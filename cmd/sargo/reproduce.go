package main

import (
	"context"
	"fmt"
	"os"
	"slices"

	"github.com/spf13/cobra"

	"sargo/sar/preset"
	"sargo/sar/reproduce"
	"sargo/tensor"
)

// reproduceFlags are the flags of `sargo reproduce`.
type reproduceFlags struct {
	preset, out, data string
	epochs, post      int
	evalN             int
	methods           []string
	reportOnly        bool
}

func newReproduceCmd(opts *globalOptions) *cobra.Command {
	f := &reproduceFlags{}
	cmd := &cobra.Command{
		Use:   "reproduce --preset mini|medium|gpu --out DIR",
		Short: "Run the SAR reproduction protocol end to end and write DIR/report.md with the five figures",
		Long: `reproduce runs the protocol of the SAR paper at a chosen size:

  1. a feature classifier for the metrics (sargo eval) and a VQ tokenizer,
  2. TF (teacher forcing, FlexVAR) for N epochs,
  3. SAR for the last k epochs from TF's checkpoint at N - k,
  4. SAR from scratch for N epochs,
  5. naive student forcing for N epochs,

evaluating every checkpoint (FID, accuracy, IS, precision and recall on the
features of sargo's classifier, and throughput), then writes DIR/report.md
with the table and the five figures of the seed paper.

Presets: tiny (tests, about a minute), mini (the quick smoke run: MNIST on
a 2-core CPU within an hour), gpu (MNIST at the small preset's sizes on
one large GPU).

The medium preset is the protocol with the power to decide instead:

  1. a feature classifier and a VQ tokenizer, as above,
  2. TF trained until its held-out loss plateaus (or a cap),
  3. from its last checkpoint, for 6% of its steps (the paper's 11 of 180
     epochs), on the tail of its learning-rate schedule: TF continued, SAR
     post-training and naive SF post-training, each with seeds 1, 2, 3,
     and SAR with sigma 0.003, 0.03, 0.1 and rollouts last:2 and all on
     seed 1,
  4. every final checkpoint evaluated with 10,000 samples (FID, accuracy,
     IS, precision, recall on sargo's classifier), the exposure bias on
     1,000 test images, and a grid of 100 samples per class,

then DIR/report.md with mean ± standard deviation over seeds, Welch
t-tests of SAR and SF against TF continued, the verdict, the sweep table
and the figures; DIR/study_results.json, DIR/evals/ and DIR/grids/ hold
the numbers and samples, DIR/work/ the runs and checkpoints.

Every preset is resumable: run the command again with the same --out to
continue where it stopped.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runReproduce(cmd, opts, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.preset, "preset", "mini", "protocol: tiny, mini, gpu, or medium (the study with seeds and t-tests)")
	fl.StringVar(&f.out, "out", "", "output directory")
	fl.StringVar(&f.data, "data", "mnist", "dataset: mnist or an image folder")
	fl.IntVar(&f.epochs, "epochs", 0, "override N")
	fl.IntVar(&f.post, "post-epochs", 0, "override k")
	fl.IntVar(&f.evalN, "eval-n", 0, "override the samples per evaluation")
	fl.BoolVar(&f.reportOnly, "report-only", false, "only write the report and figures from the runs already in --out")
	fl.StringSliceVar(&f.methods, "runs", nil, "runs to make, in order (default tf,tf_sar,sar,sf)")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

func runReproduce(cmd *cobra.Command, opts *globalOptions, f *reproduceFlags) error {
	if slices.Contains(reproduce.StudyNames(), f.preset) {
		return runStudy(cmd, opts, f)
	}
	p, err := reproduce.Get(f.preset)
	if err != nil {
		return fmt.Errorf("reproduce: %w", err)
	}
	if f.epochs > 0 {
		p.Epochs = f.epochs
	}
	if f.post > 0 {
		p.PostEpochs = f.post
	}
	if f.evalN > 0 {
		p.EvalN = f.evalN
	}
	p.Methods = f.methods
	if cmd.Flags().Lookup("seed") != nil && cmd.Flags().Changed("seed") {
		p.Preset.Train.Seed, p.Preset.TokenizerTrain.Seed = opts.seed, opts.seed
	}
	return inEnv(cmd, opts, f, p.Validate, p.EvalN, p.Preset, func(ctx context.Context, env reproduce.Env) error {
		if f.reportOnly {
			return reproduce.Report(ctx, p, f.out, env)
		}
		return reproduce.Run(ctx, p, f.out, env)
	})
}

// inEnv checks the protocol and its output directory, opens the device,
// checks that evalN images fit in memory, and runs the protocol with a
// context that SIGINT and SIGTERM cancel. A stopped run keeps its
// checkpoints, and running the command again continues it.
func inEnv(cmd *cobra.Command, opts *globalOptions, f *reproduceFlags, validate func() error, evalN int, pre preset.Preset,
	run func(context.Context, reproduce.Env) error) error {
	if err := checkOutDir("out", f.out); err != nil {
		return fmt.Errorf("reproduce: %w", err)
	}
	if err := validate(); err != nil {
		return fmt.Errorf("reproduce: %w", err)
	}
	dev, err := tensor.Open(opts.device)
	if err != nil {
		return fmt.Errorf("reproduce: %w", err)
	}
	if err := checkImagesMemory(dev, evalN, pre.Tokenizer); err != nil {
		return fmt.Errorf("reproduce: --eval-n: %w", err)
	}
	ctx, stop := signalContext(cmd.Context())
	defer stop()
	err = run(ctx, reproduce.Env{Dev: dev, Data: f.data, Log: cmd.OutOrStdout(), Command: os.Args})
	if err != nil && stopped(err) {
		return fmt.Errorf("%w; resume with: %s", err, commandLine(os.Args))
	}
	return err
}

// runStudy runs a study preset (sargo reproduce --preset medium).
func runStudy(cmd *cobra.Command, opts *globalOptions, f *reproduceFlags) error {
	st, err := reproduce.GetStudy(f.preset)
	if err != nil {
		return fmt.Errorf("reproduce: %w", err)
	}
	fl := cmd.Flags()
	for _, name := range []string{"epochs", "post-epochs", "runs"} {
		if fl.Changed(name) {
			return fmt.Errorf("reproduce: --%s applies to the epoch protocols (tiny, mini, gpu), not to %s", name, f.preset)
		}
	}
	if f.evalN > 0 {
		st.EvalN = f.evalN
	}
	if fl.Lookup("seed") != nil && fl.Changed("seed") {
		st.Preset.Train.Seed, st.Preset.TokenizerTrain.Seed = opts.seed, opts.seed
	}
	return inEnv(cmd, opts, f, st.Validate, st.EvalN, st.Preset, func(ctx context.Context, env reproduce.Env) error {
		if f.reportOnly {
			return reproduce.ReportStudy(ctx, st, f.out, env)
		}
		return reproduce.RunStudy(ctx, st, f.out, env)
	})
}
