package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"sargo/internal/regfile"
	"sargo/sar"
	"sargo/sar/eval"
	"sargo/sar/sample"
	"sargo/sar/schedule"
	"sargo/sar/tokenizer"
	"sargo/sar/train"
	"sargo/sar/viz"
	"sargo/tensor"
)

// vizFlags are the flags shared by the viz subcommands.
type vizFlags struct {
	out, title, data, tokenizer, schedule, rollout string
	predictions                                    string
	runs, models                                   []string
	n, images, keep, scale                         int
	cfg                                            float32
}

func newVizCmd(opts *globalOptions) *cobra.Command {
	f := &vizFlags{}
	cmd := &cobra.Command{
		Use:   "viz curves|tradeoff|process|grid|sf-inputs|exposure",
		Short: "Draw the figures of the SAR reproduction as PNG files",
		Long: `viz draws the figures of the seed paper from sargo's own runs:

  curves     FID against epoch for every --run NAME=DIR (DIR/eval.jsonl, as
             written by sargo reproduce) (Figure 1)
  tradeoff   throughput against FID, bubble area by parameters, for every
             --run NAME=DIR (last line of DIR/eval.jsonl) or NAME=FILE.json
             (sargo eval --json) (Figure 2)
  process    the generation process of every --model NAME=DIR from the same
             coarse latent of real test images, every scale decoded (Figure 3)
  grid       class-conditional samples of --model DIR (Figure 4)
  sf-inputs  ground truth, TF input, SF input, SF prediction and |f - f^S|
             for two consecutive student-forcing steps of --model DIR on
             test images, with the mean difference of SAR's rollout and of
             naive SF printed (Figure 5)
  exposure   the exposure bias per scale of several models: the gap of the
             cross-entropy given the model's own one-step (SSR) and chained
             rollouts to that given ground-truth inputs, from --run
             NAME=FILE.json (sargo eval --json) or measured on --images test
             images for every --model NAME=DIR

FID here is computed on the features of sargo's own classifier (sargo eval).`,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.out, "out", "", "output PNG")
	pf.StringVar(&f.title, "title", "", "plot title")
	_ = cmd.MarkPersistentFlagRequired("out")
	addModelFlags := func(c *cobra.Command, multi bool) {
		fl := c.Flags()
		if multi {
			fl.StringArrayVar(&f.models, "model", nil, "NAME=DIR of a run directory (repeat)")
		} else {
			fl.StringArrayVar(&f.models, "model", nil, "run directory holding model.safetensors")
		}
		fl.StringVar(&f.tokenizer, "tokenizer", "", "tokenizer directory or checkpoint (default: from the first --model)")
		fl.StringVar(&f.data, "data", "mnist", "dataset for real test images: mnist or an image folder")
		fl.StringVar(&f.schedule, "schedule", "", "schedule (default: the VAR-like list of the latent)")
		fl.Float32Var(&f.cfg, "cfg", 1.5, "classifier-free guidance scale")
		fl.IntVar(&f.scale, "scale", 2, "pixel replication factor")
	}
	curves := &cobra.Command{Use: "curves --run NAME=DIR ... --out FILE.png", Short: "FID against epoch (Figure 1)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runVizCurves(cmd, f) }}
	curves.Flags().StringArrayVar(&f.runs, "run", nil, "NAME=DIR of a run with eval.jsonl (repeat)")
	tradeoff := &cobra.Command{Use: "tradeoff --run NAME=DIR|FILE ... --out FILE.png", Short: "throughput against FID (Figure 2)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runVizTradeoff(cmd, f) }}
	tradeoff.Flags().StringArrayVar(&f.runs, "run", nil, "NAME=DIR (last line of DIR/eval.jsonl) or NAME=FILE.json (repeat)")
	process := &cobra.Command{Use: "process --model SAR=DIR --model TF=DIR --out FILE.png", Short: "generation process from a shared coarse latent (Figure 3)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runVizProcess(cmd, opts, f) }}
	addModelFlags(process, true)
	process.Flags().IntVar(&f.images, "images", 4, "number of real test images")
	process.Flags().IntVar(&f.keep, "keep", 2, "scales taken from the real image's tokens")
	grid := &cobra.Command{Use: "grid --model DIR --out FILE.png", Short: "class-conditional samples (Figure 4)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runVizGrid(cmd, opts, f) }}
	addModelFlags(grid, false)
	grid.Flags().IntVar(&f.n, "n", 8, "samples per class")
	sf := &cobra.Command{Use: "sf-inputs --model DIR --out FILE.png", Short: "student-forcing inputs and difference maps (Figure 5)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runVizSF(cmd, opts, f) }}
	addModelFlags(sf, false)
	sf.Flags().IntVar(&f.images, "images", 2, "number of real test images")
	sf.Flags().StringVar(&f.rollout, "rollout", viz.RolloutChained, "rollout drawn: chained (naive SF, as the seed's figure) or ssr (SAR)")
	exposure := &cobra.Command{Use: "exposure --run NAME=FILE.json ... | --model NAME=DIR ... --out FILE.png", Short: "exposure bias per scale of several models", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runVizExposure(cmd, opts, f) }}
	addModelFlags(exposure, true)
	exposure.Flags().StringArrayVar(&f.runs, "run", nil, "NAME=FILE.json written by sargo eval --json with an exposure measurement (repeat)")
	exposure.Flags().IntVar(&f.images, "images", 1000, "test images measured for every --model")
	exposure.Flags().StringVar(&f.predictions, "predictions", train.TeacherSample, "the models' own predictions in the rollouts: sample (SAR's teacher) or argmax")
	cmd.AddCommand(curves, tradeoff, process, grid, sf, exposure)
	return cmd
}

// splitNamed reads NAME=VALUE.
func splitNamed(s string) (name, value string, err error) {
	name, value, ok := strings.Cut(s, "=")
	if !ok || name == "" || value == "" {
		return "", "", fmt.Errorf("%q: want NAME=PATH", s)
	}
	return name, value, nil
}

func runVizCurves(cmd *cobra.Command, f *vizFlags) error {
	if len(f.runs) == 0 {
		return fmt.Errorf("viz curves: give at least one --run NAME=DIR")
	}
	var series []viz.Series
	for _, r := range f.runs {
		name, dir, err := splitNamed(r)
		if err != nil {
			return fmt.Errorf("viz curves: --run %w", err)
		}
		ps, err := eval.ReadHistory(filepath.Join(dir, eval.HistoryFile))
		if err != nil {
			return fmt.Errorf("viz curves: %w", err)
		}
		s := viz.Series{Name: name}
		for _, p := range ps {
			s.X, s.Y = append(s.X, p.Epoch), append(s.Y, p.FID)
		}
		series = append(series, s)
	}
	title := f.title
	if title == "" {
		title = "Training dynamics"
	}
	if err := viz.Curves(f.out, title, "epoch", "FID ("+eval.FeatureName+")", series, 7, 4.5); err != nil {
		return fmt.Errorf("viz curves: %w", err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", f.out)
	return nil
}

// lastReport is the last evaluation of a run directory, or the report in
// a JSON file written by sargo eval.
func lastReport(path string) (eval.Report, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		ps, err := eval.ReadHistory(filepath.Join(path, eval.HistoryFile))
		if err != nil {
			return eval.Report{}, err
		}
		if len(ps) == 0 {
			return eval.Report{}, fmt.Errorf("%s holds no evaluation", path)
		}
		return ps[len(ps)-1].Report, nil
	}
	raw, err := regfile.ReadFile(path)
	if err != nil {
		return eval.Report{}, fmt.Errorf("read report: %w", err)
	}
	var r eval.Report
	if err := json.Unmarshal(raw, &r); err != nil {
		return eval.Report{}, fmt.Errorf("report %s: %w", path, err)
	}
	return r, nil
}

func runVizTradeoff(cmd *cobra.Command, f *vizFlags) error {
	if len(f.runs) == 0 {
		return fmt.Errorf("viz tradeoff: give at least one --run NAME=DIR")
	}
	var bs []viz.Bubble
	for _, r := range f.runs {
		name, path, err := splitNamed(r)
		if err != nil {
			return fmt.Errorf("viz tradeoff: --run %w", err)
		}
		rep, err := lastReport(path)
		if err != nil {
			return fmt.Errorf("viz tradeoff: %w", err)
		}
		bs = append(bs, viz.Bubble{Name: name, ImagesPerS: rep.ImagesPerS, FID: rep.FID, Params: rep.Params})
	}
	title := f.title
	if title == "" {
		title = "Throughput-FID trade-off"
	}
	if err := viz.Tradeoff(f.out, title, bs, 7, 4.5); err != nil {
		return fmt.Errorf("viz tradeoff: %w", err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", f.out)
	return nil
}

// vizModels loads the --model runs (NAME=DIR when named) and the
// tokenizer.
func vizModels(opts *globalOptions, f *vizFlags, named bool) ([]viz.NamedModel, *tokenizer.VQ, error) {
	if len(f.models) == 0 {
		return nil, nil, fmt.Errorf("give --model")
	}
	dev, err := tensor.Open(opts.device)
	if err != nil {
		return nil, nil, err
	}
	var out []viz.NamedModel
	var firstDir string
	for _, spec := range f.models {
		name, dir := "", spec
		if named {
			if name, dir, err = splitNamed(spec); err != nil {
				return nil, nil, fmt.Errorf("--model %w", err)
			}
		}
		path, runDir := checkpointIn(dir, "model.safetensors")
		m, _, err := sar.LoadModel(path, dev)
		if err != nil {
			return nil, nil, err
		}
		if firstDir == "" {
			firstDir = runDir
		}
		out = append(out, viz.NamedModel{Name: name, Model: m})
	}
	tokPath, err := findTokenizer(f.tokenizer, firstDir)
	if err != nil {
		return nil, nil, err
	}
	vq, _, err := tokenizer.Load(tokPath, dev)
	if err != nil {
		return nil, nil, err
	}
	vq.SetTrain(false)
	return out, vq, nil
}

// vizSchedule is --schedule or the VAR-like list.
func vizSchedule(f *vizFlags, vq *tokenizer.VQ) (schedule.Schedule, error) {
	if f.schedule == "" {
		return schedule.VARList(vq.Cfg.Latent()), nil
	}
	return schedule.Parse(f.schedule, vq.Cfg.Latent())
}

// testImages are the first n images of the test split, one per class in
// turn where possible, with their labels.
func testImages(f *vizFlags, vq *tokenizer.VQ, n int) (*tensor.Tensor, []int, error) {
	test, err := eval.LoadTestSplit(f.data, vq.Cfg.ImageSize, vq.Cfg.ImageChannels)
	if err != nil {
		return nil, nil, err
	}
	idx := pickByClass(test.Labels, len(test.Classes), n)
	xs, ys := test.Batch(idx, nil)
	return tensor.FromSlice(vq.Device(), xs, len(idx), test.C, test.H, test.W), ys, nil
}

// pickByClass picks n indices, the first image of class 0, then of class
// 1, and so on (cycling), falling back to the first indices.
func pickByClass(labels []int, classes, n int) []int {
	n = min(n, len(labels))
	var out []int
	used := map[int]bool{}
	for c := 0; len(out) < n && c < n*classes; c++ {
		want := c % classes
		for i, l := range labels {
			if l == want && !used[i] {
				out, used[i] = append(out, i), true
				break
			}
		}
	}
	for i := 0; len(out) < n; i++ {
		if !used[i] {
			out, used[i] = append(out, i), true
		}
	}
	return out
}

func runVizProcess(cmd *cobra.Command, opts *globalOptions, f *vizFlags) error {
	models, vq, err := vizModels(opts, f, true)
	if err != nil {
		return fmt.Errorf("viz process: %w", err)
	}
	sc, err := vizSchedule(f, vq)
	if err != nil {
		return fmt.Errorf("viz process: %w", err)
	}
	s := tensor.NewScope(vq.Device()) // the test images and what is drawn from them
	defer s.Close()
	x, labels, err := testImages(f, vq, f.images)
	if err != nil {
		return fmt.Errorf("viz process: %w", err)
	}
	po := viz.ProcessOptions{Schedule: sc, Keep: f.keep, Scale: f.scale, Sampling: sample.Options{CFG: f.cfg, Seed: opts.seed}}
	if err := viz.Process(f.out, models, vq, x, labels, po); err != nil {
		return fmt.Errorf("viz process: %w", err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (schedule %s, first %d scales from the real images)\n", f.out, sc, f.keep)
	return nil
}

func runVizGrid(cmd *cobra.Command, opts *globalOptions, f *vizFlags) error {
	models, vq, err := vizModels(opts, f, false)
	if err != nil {
		return fmt.Errorf("viz grid: %w", err)
	}
	sc, err := vizSchedule(f, vq)
	if err != nil {
		return fmt.Errorf("viz grid: %w", err)
	}
	so := sample.Options{Schedule: sc, CFG: f.cfg, Seed: opts.seed}
	if err := viz.SampleGrid(f.out, models[0].Model, vq, f.n, so, f.scale); err != nil {
		return fmt.Errorf("viz grid: %w", err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", f.out)
	return nil
}

func runVizSF(cmd *cobra.Command, opts *globalOptions, f *vizFlags) error {
	models, vq, err := vizModels(opts, f, false)
	if err != nil {
		return fmt.Errorf("viz sf-inputs: %w", err)
	}
	sc, err := vizSchedule(f, vq)
	if err != nil {
		return fmt.Errorf("viz sf-inputs: %w", err)
	}
	s := tensor.NewScope(vq.Device()) // the test images and what is drawn from them
	defer s.Close()
	x, labels, err := testImages(f, vq, f.images)
	if err != nil {
		return fmt.Errorf("viz sf-inputs: %w", err)
	}
	res, err := viz.SFInputs(f.out, models[0].Model, vq, x, labels, sc, f.rollout, f.scale)
	if err != nil {
		return fmt.Errorf("viz sf-inputs: %w", err)
	}
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "wrote %s (%s rollout drawn)\n", f.out, f.rollout)
	printSF(out, res)
	return nil
}

func runVizExposure(cmd *cobra.Command, opts *globalOptions, f *vizFlags) error {
	if len(f.runs) == 0 && len(f.models) == 0 {
		return fmt.Errorf("viz exposure: give --run NAME=FILE.json or --model NAME=DIR")
	}
	var series []viz.ExposureSeries
	add := func(name string, e *eval.Exposure) {
		series = append(series, viz.ExposureSeries{Name: name, Scales: e.Scales, GapSSR: e.GapSSR, GapChained: e.GapChained,
			SESSR: e.SEGapSSR, SEChained: e.SEGapChained})
	}
	for _, r := range f.runs {
		name, path, err := splitNamed(r)
		if err != nil {
			return fmt.Errorf("viz exposure: --run %w", err)
		}
		rep, err := lastReport(path)
		if err != nil {
			return fmt.Errorf("viz exposure: %w", err)
		}
		if rep.Exposure == nil {
			return fmt.Errorf("viz exposure: %s holds no exposure measurement (sargo eval --exposure-images N)", path)
		}
		add(name, rep.Exposure)
	}
	out := cmd.OutOrStdout()
	if len(f.models) > 0 {
		models, vq, err := vizModels(opts, f, true)
		if err != nil {
			return fmt.Errorf("viz exposure: %w", err)
		}
		sc, err := vizSchedule(f, vq)
		if err != nil {
			return fmt.Errorf("viz exposure: %w", err)
		}
		test, err := eval.LoadTestSplit(f.data, vq.Cfg.ImageSize, vq.Cfg.ImageChannels)
		if err != nil {
			return fmt.Errorf("viz exposure: %w", err)
		}
		eo := eval.DefaultExposureOptions()
		eo.Images, eo.Schedule, eo.Teacher, eo.Seed = f.images, sc, f.predictions, opts.seed
		for _, nm := range models {
			e, err := eval.ExposureBias(nm.Model, vq, test, eo)
			if err != nil {
				return fmt.Errorf("viz exposure: %s: %w", nm.Name, err)
			}
			fmt.Fprintf(out, "%s: ", nm.Name)
			if err := eval.WriteExposureTable(out, e); err != nil {
				return fmt.Errorf("viz exposure: %w", err)
			}
			add(nm.Name, e)
		}
	}
	title := f.title
	if title == "" {
		title = "Exposure bias per scale (solid: chained rollout, dashed: one-step SSR)"
	}
	if err := viz.Exposure(f.out, title, series, 7, 4.5); err != nil {
		return fmt.Errorf("viz exposure: %w", err)
	}
	fmt.Fprintf(out, "wrote %s\n", f.out)
	return nil
}

// printSF prints the mean differences of both rollouts.
func printSF(w io.Writer, r *viz.SFResult) { fmt.Fprint(w, r.Format()) }
