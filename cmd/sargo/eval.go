package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"sargo/sar"
	"sargo/sar/eval"
	"sargo/sar/imgio"
	"sargo/sar/sample"
	"sargo/sar/schedule"
	"sargo/sar/tokenizer"
	"sargo/sar/train"
	"sargo/tensor"
)

// checkEvalFlags refuses counts that have no meaning: they would
// otherwise be taken as defaults or fail deep inside.
func checkEvalFlags(f *evalFlags) error {
	for _, c := range []struct {
		name string
		v    int
	}{{"n", f.n}, {"batch", f.batch}, {"k", f.k}, {"tokenizer-images", f.tokenizerImages}, {"classifier-steps", f.classifierSteps}} {
		if c.v <= 0 {
			return fmt.Errorf("--%s %d: want a positive count", c.name, c.v)
		}
	}
	if f.topK < 0 {
		return fmt.Errorf("--top-k %d: want >= 0", f.topK)
	}
	if !(f.cfg >= 0) || !(f.topP >= 0 && f.topP <= 1) {
		return fmt.Errorf("--cfg %g, --top-p %g: want cfg >= 0 and top-p in [0, 1]", f.cfg, f.topP)
	}
	if f.jsonOut != "" {
		return checkOutFile("json", f.jsonOut)
	}
	return nil
}

// evalFlags are the flags of `sargo eval`.
type evalFlags struct {
	model, tokenizer, jsonOut string
	data, classifier          string
	schedule, ramp, greedy    string
	n, batch, k               int
	classifierSteps           int
	tokenizerImages           int
	exposureImages            int
	exposurePred              string
	cfg, topP                 float32
	topK                      int
}

func newEvalCmd(opts *globalOptions) *cobra.Command {
	f := &evalFlags{}
	cmd := &cobra.Command{
		Use:   "eval --model DIR [--n 10000] [--json FILE]",
		Short: "Measure a model: FID, class accuracy, IS, precision and recall on sargo-classifier features; throughput",
		Long: `eval draws --n class-conditional samples (labels cycling through the classes)
and measures them against real test images on the features of a small CNN
classifier that sargo trains on the training split. Inception weights are
not used: the distance is "FID (sargo classifier)", comparable only with
other numbers computed the same way.

  fid           Fréchet distance of the classifier's 128-d features
  accuracy      share of samples the classifier assigns to their class
  is            exp(E KL(p(y|x) || p(y))) under the classifier (IS analogue)
  precision     share of samples inside the real k-NN manifold (k = 3)
  recall        share of real images inside the samples' k-NN manifold
  images_per_s  sampling throughput (transformer and decoder)

It also measures the tokenizer's reconstruction loss and codebook usage on
test images, and the exposure bias directly: the model's cross-entropy at
every scale of --exposure-images test images given ground-truth inputs,
its own one-step rollout (SAR's SSR inputs) and its chained rollout (naive
student forcing's inputs, as at inference); the gaps to ground truth are
printed per scale with their standard errors and written to the JSON. The classifier is --classifier FILE, or the one cached in the
folder classifier/ next to the run directory, trained there on first use.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runEval(cmd, opts, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.model, "model", "", "run directory holding model.safetensors (or the checkpoint file)")
	fl.StringVar(&f.tokenizer, "tokenizer", "", "tokenizer directory or checkpoint (default: from --model)")
	fl.StringVar(&f.jsonOut, "json", "", "write the report as JSON to this file")
	fl.StringVar(&f.data, "data", "mnist", "dataset: mnist or an image folder (train/ and test/ inside, or split 9:1)")
	fl.StringVar(&f.classifier, "classifier", "", "feature classifier checkpoint (default: cached next to the run, trained on first use)")
	fl.IntVar(&f.classifierSteps, "classifier-steps", eval.DefaultClassifierTrainConfig().Steps, "training steps of a new classifier")
	fl.IntVar(&f.n, "n", 10000, "number of generated images")
	fl.IntVar(&f.batch, "batch", 250, "generation batch")
	fl.IntVar(&f.tokenizerImages, "tokenizer-images", 1000, "test images for the tokenizer's reconstruction error and codebook usage")
	fl.IntVar(&f.k, "k", 3, "neighbourhood size of precision and recall")
	fl.IntVar(&f.exposureImages, "exposure-images", 1000, "test images of the exposure-bias measurement (0 skips it)")
	fl.StringVar(&f.exposurePred, "exposure-predictions", train.TeacherSample, "the model's own predictions in the rollouts: sample (SAR's teacher: CFG 1.2, top-k 900, top-p 0.96) or argmax")
	fl.StringVar(&f.schedule, "schedule", "", "scales to generate (default: the VAR-like list of the latent)")
	fl.Float32Var(&f.cfg, "cfg", 1.5, "classifier-free guidance scale")
	fl.IntVar(&f.topK, "top-k", 0, "top-k (0 keeps all)")
	fl.Float32Var(&f.topP, "top-p", 0, "top-p (0 keeps all)")
	fl.StringVar(&f.ramp, "cfg-ramp", sample.RampFlexVAR, "guidance ramp: flexvar (FlexVAR's cfg·k/min(n−1, 9)) or linear")
	fl.StringVar(&f.greedy, "greedy", sample.GreedyFlexVAR, "greedy scales: flexvar (outside FlexVAR's list or beyond the model's largest) or never")
	_ = cmd.MarkFlagRequired("model")
	return cmd
}

func runEval(cmd *cobra.Command, opts *globalOptions, f *evalFlags) error {
	out := cmd.OutOrStdout()
	if err := checkEvalFlags(f); err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	dev, err := tensor.Open(opts.device)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	modelPath, runDir := checkpointIn(f.model, "model.safetensors")
	m, st, err := sar.LoadModel(modelPath, dev)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	tokPath, err := findTokenizer(f.tokenizer, runDir)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	vq, _, err := tokenizer.Load(tokPath, dev)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	if err := checkTokenizerOf(modelPath, st, vq, tokPath); err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	vq.SetTrain(false)
	sc := schedule.VARList(vq.Cfg.Latent())
	if f.schedule != "" {
		if sc, err = schedule.Parse(f.schedule, vq.Cfg.Latent()); err != nil {
			return fmt.Errorf("eval: --schedule: %w", err)
		}
	}
	if err := checkSampleMemory(dev, m.Cfg, vq.Cfg, sc, min(f.batch, f.n), f.cfg != 0); err != nil {
		return fmt.Errorf("eval: --batch: %w", err)
	}
	if err := checkImagesMemory(dev, f.n, vq.Cfg); err != nil {
		return fmt.Errorf("eval: --n: %w", err)
	}
	test, err := eval.LoadTestSplit(f.data, vq.Cfg.ImageSize, vq.Cfg.ImageChannels)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	if len(test.Classes) != m.Cfg.NumClasses {
		return fmt.Errorf("eval: model %s has %d classes, the data %s has %d: evaluate on the data the model was trained on",
			modelPath, m.Cfg.NumClasses, f.data, len(test.Classes))
	}
	ctx, stop := signalContext(cmd.Context())
	defer stop()
	var c *eval.Classifier
	if f.classifier != "" {
		if c, _, err = eval.LoadClassifier(f.classifier, dev); err != nil {
			return fmt.Errorf("eval: %w", err)
		}
	} else {
		train, _, err := eval.LoadSplits(f.data, vq.Cfg.ImageSize, vq.Cfg.ImageChannels)
		if err != nil {
			return fmt.Errorf("eval: %w", err)
		}
		tc := eval.DefaultClassifierTrainConfig()
		tc.Steps, tc.Seed = f.classifierSteps, opts.seed
		cache := filepath.Join(filepath.Dir(filepath.Clean(runDir)), "classifier")
		if c, err = eval.CachedClassifier(ctx, cache, train, test, tc, dev, out); err != nil {
			return fmt.Errorf("eval: %w", err)
		}
	}
	ref, err := eval.NewReference(c, test, f.n)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	eo := eval.DefaultOptions()
	eo.N, eo.Batch, eo.K, eo.CFG, eo.TopK, eo.TopP, eo.Seed = f.n, f.batch, f.k, f.cfg, f.topK, f.topP, opts.seed
	eo.TokenizerImages, eo.Schedule, eo.Ramp, eo.Greedy = f.tokenizerImages, sc, f.ramp, f.greedy
	eo.Exposure.Images, eo.Exposure.Teacher, eo.Exposure.Seed = f.exposureImages, f.exposurePred, opts.seed
	r, err := eval.Evaluate(m, vq, c, ref, test, eo, out)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	r.Model, r.Step = f.model, st.Step
	if err := eval.WriteTable(out, []*eval.Report{r}); err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	fmt.Fprintf(out, "classifier test accuracy %.4f; real-image IS %.3f (the IS ceiling); %d samples vs %d test images\n",
		r.ClassifierAccuracy, r.RealIS, r.N, r.NReference)
	if r.Exposure != nil {
		if err := eval.WriteExposureTable(out, r.Exposure); err != nil {
			return fmt.Errorf("eval: %w", err)
		}
	}
	if f.jsonOut != "" {
		raw, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			return fmt.Errorf("eval: %w", err)
		}
		if err := imgio.WriteFileAtomic(f.jsonOut, append(raw, '\n')); err != nil {
			return fmt.Errorf("eval: %w", err)
		}
		fmt.Fprintf(out, "wrote %s\n", f.jsonOut)
	}
	return nil
}
