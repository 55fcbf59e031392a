package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"sargo/sar/data"
	"sargo/sar/preset"
	"sargo/sar/tokenizer"
	"sargo/sar/train"
	"sargo/tensor"
)

// demoFlags are the flags of `sargo demo`.
type demoFlags struct {
	out                         string
	tokSteps, tfSteps, sarSteps int
	images                      int
}

// The demo's default step counts. The demo shrinks the small preset to
// fit its time budget (15 minutes on a 2-core CPU): the tokenizer's first
// stage has 16 channels and trains at batch 32, and the transformer has 3
// blocks of width 128 (4 heads); the schedule, latent, vocabulary and
// CVae stay those of the small preset.
const (
	demoTokenizerSteps = 300
	demoTFSteps        = 300
	demoSARSteps       = 60
	demoTokenizerBase  = 16
	demoTokenizerBatch = 32
	demoWidth          = 128
	demoDepth          = 3
	demoHeads          = 4
)

func newDemoCmd(opts *globalOptions) *cobra.Command {
	f := &demoFlags{}
	cmd := &cobra.Command{
		Use:   "demo --out DIR",
		Short: "Train a tokenizer, a TF model and its SAR post-training on MNIST, with samples and a loss plot",
		Long: `demo runs the whole pipeline on MNIST with the small preset, shrunk to finish
within 15 minutes on a 2-core CPU (a 16-channel tokenizer and a 3-block,
128-wide transformer):

  1. a VQ tokenizer (DIR/tokenizer),
  2. a transformer trained with teacher forcing (DIR/tf),
  3. SAR post-training of that checkpoint (DIR/sar: --method sar --init),

then writes a sample grid of each model (DIR/tf.png, DIR/sar.png, one row per
class) and the training losses of both runs (DIR/loss.png), and prints where
everything is. Each run directory can be continued with sargo train --resume.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDemo(cmd, opts, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.out, "out", "demo", "output directory")
	fl.IntVar(&f.tokSteps, "tokenizer-steps", demoTokenizerSteps, "tokenizer training steps")
	fl.IntVar(&f.tfSteps, "tf-steps", demoTFSteps, "teacher-forcing steps")
	fl.IntVar(&f.sarSteps, "sar-steps", demoSARSteps, "SAR post-training steps")
	fl.IntVar(&f.images, "images", 0, "use only the first N training images (0: all)")
	return cmd
}

func runDemo(cmd *cobra.Command, opts *globalOptions, f *demoFlags) error {
	start := time.Now()
	out := cmd.OutOrStdout()
	if err := checkOutDir("out", f.out); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	ctx, stop := signalContext(cmd.Context())
	defer stop()
	dev, err := tensor.Open(opts.device)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	ds, err := data.LoadMNIST(true)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	ds = ds.Subset(f.images)
	p, err := preset.Get("small")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	p.Tokenizer.Base = demoTokenizerBase
	p.Model.Width, p.Model.Depth, p.Model.Heads = demoWidth, demoDepth, demoHeads
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintf(out, "demo: MNIST (%d images) on %s, preset small, output in %s\n", ds.Len(), dev.Name(), f.out)

	// 1. Tokenizer.
	phase := time.Now()
	tokDir := filepath.Join(f.out, "tokenizer")
	if err := os.MkdirAll(tokDir, 0o755); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	vq, err := tokenizer.New(p.Tokenizer, dev, opts.seed)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	tt := p.TokenizerTrain
	tt.Steps, tt.Epochs, tt.Batch, tt.Seed = f.tokSteps, 0, demoTokenizerBatch, opts.seed
	tt.Warmup = min(tt.Warmup, f.tokSteps/10)
	tt.LogEvery, tt.SaveEvery = max(1, f.tokSteps/10), 0
	fmt.Fprintf(out, "\n[1/3] tokenizer: %d steps, batch %d\n", tt.Steps, tt.Batch)
	if st, err := tokenizer.Train(ctx, vq, ds, tt, tokDir, out); err != nil {
		if stopped(err) {
			return fmt.Errorf("demo: tokenizer stopped at step %d (%v); checkpoint %s; the tokenizer phase does not resume: run the demo again to start it over",
				st.Steps, context.Cause(ctx), st.Checkpoint)
		}
		return fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintf(out, "tokenizer done in %s\n", time.Since(phase).Round(time.Second))

	// 2. Teacher forcing, 3. SAR post-training from its checkpoint.
	tfDir, sarDir := filepath.Join(f.out, "tf"), filepath.Join(f.out, "sar")
	runs := []struct {
		label, dir, method, init string
		steps                    int
	}{
		{"[2/3] teacher forcing", tfDir, train.MethodTF, "", f.tfSteps},
		{"[3/3] SAR post-training", sarDir, train.MethodSAR, filepath.Join(tfDir, train.CheckpointFile), f.sarSteps},
	}
	var sums []train.Summary
	for _, r := range runs {
		phase = time.Now()
		rp := p
		t := &rp.Train
		t.Method, t.Steps, t.Epochs, t.Seed = r.method, r.steps, 0, opts.seed
		t.Warmup = min(t.Warmup, r.steps/10)
		t.LogEvery, t.SaveEvery, t.SampleEvery = max(1, r.steps/20), 0, 0
		// SAR post-training continues TF's learning-rate schedule (trainJob).
		fmt.Fprintf(out, "\n%s: %d steps, batch %d, peak lr %g\n", r.label, t.Steps, t.Batch, t.LR)
		job := trainJob{Preset: rp, Tokenizer: tokDir, Init: r.init, Out: r.dir, Seed: opts.seed, Command: os.Args}
		sum, err := job.run(ctx, dev, ds, out)
		if err != nil {
			if stopped(err) && sum.Checkpoint != "" {
				return stoppedError(ctx, "demo: "+r.label, sum.Step, "checkpoint "+sum.Checkpoint,
					fmt.Sprintf("sargo train --resume --out %s --tokenizer %s (it records its configuration)", shellQuote(r.dir), shellQuote(tokDir)))
			}
			return fmt.Errorf("demo: %w", err)
		}
		sums = append(sums, sum)
		fmt.Fprintf(out, "%s done in %s\n", r.label, time.Since(phase).Round(time.Second))
	}
	return demoReport(out, f.out, tfDir, sarDir, sums, time.Since(start))
}

// demoReport copies the final sample grids next to the loss plot and
// prints where everything is.
func demoReport(out io.Writer, dir, tfDir, sarDir string, sums []train.Summary, took time.Duration) error {
	var lossRuns []lossRun
	offset := 0
	for i, d := range []string{tfDir, sarDir} {
		ms, err := train.ReadMetrics(filepath.Join(d, train.MetricsFile))
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		lossRuns = append(lossRuns, lossRun{Name: []string{"TF", "SAR (init TF)"}[i], Metrics: ms, Offset: offset})
		offset += sums[i].Step
	}
	plotPath := filepath.Join(dir, "loss.png")
	if err := plotLosses(plotPath, "MNIST: teacher forcing, then SAR post-training", lossRuns); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	grids := []string{filepath.Join(dir, "tf.png"), filepath.Join(dir, "sar.png")}
	for i, s := range sums {
		if len(s.Samples) == 0 {
			continue
		}
		b, err := os.ReadFile(s.Samples[len(s.Samples)-1])
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		if err := os.WriteFile(grids[i], b, 0o644); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	fmt.Fprintf(out, "\ndemo finished in %s\n", took.Round(time.Second))
	for i, name := range []string{"TF", "SAR"} {
		l := sums[i].Last
		fmt.Fprintf(out, "  %-4s %s (final", name, sums[i].Dir)
		if l.Loss != nil {
			fmt.Fprintf(out, " loss %.4f", *l.Loss)
		}
		if l.LossTF != nil {
			fmt.Fprintf(out, ", loss_tf %.4f", *l.LossTF)
		}
		if l.LossCSFL != nil {
			fmt.Fprintf(out, ", loss_csfl %.4f", *l.LossCSFL)
		}
		fmt.Fprintln(out, ")")
	}
	fmt.Fprintf(out, "  samples    %s, %s (one row per class)\n", grids[0], grids[1])
	fmt.Fprintf(out, "  loss plot  %s\n", plotPath)
	fmt.Fprintf(out, "  tokenizer  %s\n", filepath.Join(dir, "tokenizer", tokenizer.CheckpointFile))
	fmt.Fprintf(out, "  more samples: sargo sample --model %s --out samples.png\n", sarDir)
	return nil
}
