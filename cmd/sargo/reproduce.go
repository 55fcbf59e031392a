package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

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
		Use:   "reproduce --preset mini|gpu --out DIR",
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

Presets: tiny (tests, about a minute), mini (MNIST on a 2-core CPU within
an hour), gpu (MNIST at the small preset's sizes on one large GPU). The
command is resumable: run it again with the same --out to continue.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runReproduce(cmd, opts, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.preset, "preset", "mini", "protocol size: tiny, mini or gpu")
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
	if err := checkOutDir("out", f.out); err != nil {
		return fmt.Errorf("reproduce: %w", err)
	}
	dev, err := tensor.Open(opts.device)
	if err != nil {
		return fmt.Errorf("reproduce: %w", err)
	}
	if err := p.Validate(); err != nil {
		return fmt.Errorf("reproduce: %w", err)
	}
	if err := checkImagesMemory(dev, p.EvalN, p.Preset.Tokenizer); err != nil {
		return fmt.Errorf("reproduce: --eval-n: %w", err)
	}
	ctx, stop := signalContext(cmd.Context())
	defer stop()
	env := reproduce.Env{Dev: dev, Data: f.data, Log: cmd.OutOrStdout(), Command: os.Args}
	if f.reportOnly {
		return reproduce.Report(ctx, p, f.out, env)
	}
	err = reproduce.Run(ctx, p, f.out, env)
	if err != nil && stopped(err) {
		// The runs keep their checkpoints, and Run continues where it
		// stopped when run again.
		return fmt.Errorf("%w; resume with: %s", err, commandLine(os.Args))
	}
	return err
}
