package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"

	"sargo/internal/regfile"
	"sargo/internal/strictjson"
	"sargo/sar/data"
	"sargo/sar/imgio"
	"sargo/sar/schedule"
	"sargo/sar/tokenizer"
	"sargo/tensor"
)

// tokFlags are the train-tokenizer command's flags.
type tokFlags struct {
	data, out, preset, config string
	steps, epochs, batch      int
	lr                        float64
	force                     bool
}

func newTrainTokenizerCmd(opts *globalOptions) *cobra.Command {
	f := &tokFlags{}
	cmd := &cobra.Command{
		Use:   "train-tokenizer --data mnist|DIR --out DIR",
		Short: "Train the VQ image tokenizer",
		Long: `train-tokenizer trains the VQ tokenizer (encoder, L2-normalised codebook,
decoder) on MNIST or on an image folder with one sub-folder per class.

The configuration starts from --preset (tiny, small or paper), then the
JSON file --config ({"tokenizer": {...}, "train": {...}}, the layout of the
tokenizer.json it writes; unknown fields are an error) overrides the fields
it sets, then the flags
override both. --seed fixes the initial weights, the data order and the
scale drawn at each step.

It writes DIR/tokenizer.safetensors (checkpoint), DIR/tokenizer.json
(configuration) and DIR/recon.png (originals above their reconstructions
from the largest and a middle scale). A DIR that already holds a
tokenizer is refused unless --force is given: models trained on it would
no longer match it (their checkpoints record its fingerprint, and sample,
eval and train refuse another tokenizer).

SIGINT and SIGTERM save a checkpoint and exit non-zero. A loss or weight
that stops being finite stops the training with an error, keeping the
last good checkpoint. A second train-tokenizer on the same DIR fails at
once, naming the process that holds it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runTrainTokenizer(cmd, opts, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.data, "data", "mnist", "training images: mnist, or a folder with one sub-folder per class")
	fl.StringVar(&f.out, "out", "", "output folder (required)")
	fl.StringVar(&f.preset, "preset", "small", "configuration preset: tiny, small or paper")
	fl.StringVar(&f.config, "config", "", "JSON configuration file overriding the preset")
	fl.IntVar(&f.steps, "steps", 0, "training steps")
	fl.IntVar(&f.epochs, "epochs", 0, "training epochs (instead of --steps)")
	fl.IntVar(&f.batch, "batch", 0, "batch size")
	fl.Float64Var(&f.lr, "lr", 0, "peak learning rate")
	fl.BoolVar(&f.force, "force", false, "replace a tokenizer already in --out")
	cmd.MarkFlagsMutuallyExclusive("steps", "epochs")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

// tokResolveConfig applies the preset, the config file and the flags.
func tokResolveConfig(cmd *cobra.Command, opts *globalOptions, f *tokFlags) (tokenizer.FileConfig, error) {
	mc, tc, err := tokenizer.Preset(f.preset)
	if err != nil {
		return tokenizer.FileConfig{}, fmt.Errorf("--preset: %w", err)
	}
	fc := tokenizer.FileConfig{Tokenizer: mc, Train: tc}
	if f.config != "" {
		file, err := regfile.Open(f.config)
		if err != nil {
			return fc, fmt.Errorf("--config: %w", err)
		}
		defer file.Close()
		if err := strictjson.Decode(file, &fc); err != nil {
			return fc, fmt.Errorf("--config %s: %w", f.config, err)
		}
	}
	changed := func(name string) bool { return cmd.Flags().Changed(name) }
	if changed("steps") {
		fc.Train.Steps, fc.Train.Epochs = f.steps, 0
	}
	if changed("epochs") {
		fc.Train.Steps, fc.Train.Epochs = 0, f.epochs
	}
	if changed("batch") {
		fc.Train.Batch = f.batch
	}
	if changed("lr") {
		fc.Train.LR = float32(f.lr)
	}
	if fl := cmd.Flag("seed"); fl != nil && fl.Changed {
		fc.Train.Seed = opts.seed
	}
	if err := fc.Tokenizer.Validate(); err != nil {
		return fc, err
	}
	return fc, nil
}

// tokLoadData loads MNIST or an image folder sized for cfg.
func tokLoadData(name string, cfg tokenizer.Config) (*data.Dataset, error) {
	if name != "mnist" {
		return data.LoadFolder(name, cfg.ImageSize, cfg.ImageChannels)
	}
	if cfg.ImageChannels != 1 || cfg.ImageSize != 32 {
		return nil, fmt.Errorf("--data mnist: MNIST is 1x32x32, the tokenizer config wants %dx%dx%d (use --preset tiny or small, or a folder)",
			cfg.ImageChannels, cfg.ImageSize, cfg.ImageSize)
	}
	return data.LoadMNIST(true)
}

func runTrainTokenizer(cmd *cobra.Command, opts *globalOptions, f *tokFlags) error {
	out := cmd.OutOrStdout()
	if err := checkOutDir("out", f.out); err != nil {
		return err
	}
	if ckpt := filepath.Join(f.out, tokenizer.CheckpointFile); exists(ckpt) && !f.force {
		return fmt.Errorf("%s already holds a tokenizer (%s): models trained on it would no longer match it; pass --force to replace it, or choose another --out",
			f.out, ckpt)
	}
	fc, err := tokResolveConfig(cmd, opts, f)
	if err != nil {
		return err
	}
	dev, err := tensor.Open(opts.device)
	if err != nil {
		return err
	}
	ds, err := tokLoadData(f.data, fc.Tokenizer)
	if err != nil {
		return err
	}
	m, err := tokenizer.New(fc.Tokenizer, dev, fc.Train.Seed)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "train-tokenizer: %s (%d images) on %s, %+v\n", ds.Name, ds.Len(), dev.Name(), fc.Tokenizer)
	ctx, stop := signalContext(cmd.Context())
	defer stop()
	stats, err := tokenizer.Train(ctx, m, ds, fc.Train, f.out, out)
	if err != nil && !stopped(err) {
		return err
	}
	if stats.Checkpoint != "" {
		fmt.Fprintf(out, "wrote %s (step %d) and %s\n", stats.Checkpoint, stats.CheckpointStep, filepath.Join(f.out, tokenizer.ConfigFile))
	}
	if err != nil {
		return fmt.Errorf("train-tokenizer: stopped at step %d (%v); checkpoint %s holds step %d; train-tokenizer does not resume: run it again with --force to start over",
			stats.Steps, context.Cause(ctx), stats.Checkpoint, stats.CheckpointStep)
	}
	scales := fc.Train.Scales
	if len(scales) == 0 {
		scales = schedule.VARList(fc.Tokenizer.Latent())
	}
	path := filepath.Join(f.out, "recon.png")
	if err := tokReconGrid(out, m, ds, scales, path); err != nil {
		return err
	}
	fmt.Fprintf(out, "wrote %s\n", path)
	return nil
}

// tokReconGrid writes the first images of ds above their reconstructions
// from the largest and a middle scale, and prints each scale's
// reconstruction loss on them.
func tokReconGrid(out io.Writer, m *tokenizer.VQ, ds *data.Dataset, scales schedule.Schedule, path string) error {
	n := min(8, ds.Len())
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	xs, _ := ds.Batch(idx, nil)
	cfg := m.Cfg
	sc := tensor.NewScope(m.Device())
	defer sc.Close()
	x := tensor.FromSlice(m.Device(), xs, n, cfg.ImageChannels, cfg.ImageSize, cfg.ImageSize)
	g := &imgio.Grid{C: cfg.ImageChannels, H: cfg.ImageSize, W: cfg.ImageSize, Cols: n, Scale: max(1, 64/cfg.ImageSize)}
	for i := range n {
		g.Images = append(g.Images, ds.Image(i))
		g.Captions = append(g.Captions, "in")
	}
	for _, s := range []int{scales.Last(), scales[len(scales)/2]} {
		v, err := m.Reconstruct(x, s).Read()
		if err != nil {
			return fmt.Errorf("reconstruct at scale %d: %w", s, err)
		}
		sz := ds.ImageSize()
		for i := range n {
			g.Images = append(g.Images, v[i*sz:(i+1)*sz])
			g.Captions = append(g.Captions, fmt.Sprintf("s%d", s))
		}
		l, err := tokenizer.Evaluate(m, ds, s, n, n)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "reconstruction loss (L1+L2) at scale %d: %.4f\n", s, l)
	}
	return g.Save(path)
}
