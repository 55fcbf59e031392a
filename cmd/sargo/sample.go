package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"sargo/internal/membudget"
	"sargo/internal/regfile"
	"sargo/sar"
	"sargo/sar/imgio"
	"sargo/sar/sample"
	"sargo/sar/schedule"
	"sargo/sar/tokenizer"
	"sargo/tensor"
)

// sampleFlags are the flags of `sargo sample`.
type sampleFlags struct {
	model, tokenizer, out string
	n                     int
	class                 string
	cfg, topP, temp       float32
	topK                  int
	schedule              string
	ramp, greedy          string
	fromImage             string
	keepScales            int
	scale                 int
}

func newSampleCmd(opts *globalOptions) *cobra.Command {
	f := &sampleFlags{}
	cmd := &cobra.Command{
		Use:   "sample --model DIR --out FILE.png",
		Short: "Generate class-conditional images with a trained SAR/FlexVAR model",
		Long: `sample draws images with the transformer in DIR/model.safetensors and its
tokenizer, one KV-cached step per scale, with classifier-free guidance
ramped linearly over the scales and top-k / top-p sampling, and writes a
PNG grid with the class of every image as its caption.

The tokenizer is --tokenizer (a directory holding tokenizer.safetensors,
or the file itself), else DIR/tokenizer.safetensors, else the one named by
the "tokenizer" field of DIR/run.json (relative to DIR). A checkpoint
records the fingerprint of the tokenizer it was trained with; another
tokenizer is refused, naming both.

--temperature divides the logits before top-k / top-p sampling; 0 means
greedy decoding: the most likely token at every position (argmax).

Any schedule may be given, including ones the model never trained on. As
FlexVAR's sampler, the guidance weight of step k of n is cfg·k/min(n−1, 9)
(--cfg-ramp linear: cfg·k/(n−1)), and scales outside FlexVAR's list
1,2,3,4,5,6,8,10,13,16,23,24,32 (and the model's own VAR list) or beyond
the model's largest scale are decoded greedily (--greedy never samples
them too). With
--from-image, the first --keep-scales scales are taken from that image's
tokens and the rest are generated.

--model may also be a released FlexVAR or SAR model (FlexVARd16-epo179.pth,
SARd16-epo179.pth, ...: a PyTorch checkpoint, or its conversion to
safetensors) with --tokenizer FlexVAE.pth. Such a model samples with the
authors' evaluation settings unless flags say otherwise: the 10-scale list
to 16, CFG 2.2 / 2.6 / 3.3 for depth 16 / 20 / 24, top-k 900, top-p 0.95,
one image per class, the grid at its own size.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runSample(cmd, opts, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.model, "model", "", "run directory holding model.safetensors (or the checkpoint file itself)")
	fl.StringVar(&f.tokenizer, "tokenizer", "", "tokenizer directory or checkpoint (default: from --model)")
	fl.StringVar(&f.out, "out", "samples.png", "output PNG")
	fl.IntVar(&f.n, "n", 8, "samples per class")
	fl.StringVar(&f.class, "class", "all", "class ids (like 207,360,387), \"all\" for every class, or \"null\" for unconditional")
	fl.Float32Var(&f.cfg, "cfg", 1.5, "classifier-free guidance scale (0 disables)")
	fl.IntVar(&f.topK, "top-k", 0, "keep the K most likely tokens (0 keeps all)")
	fl.Float32Var(&f.topP, "top-p", 0, "keep the smallest set of tokens reaching probability P (0 keeps all)")
	fl.Float32Var(&f.temp, "temperature", 1, "sampling temperature (0: greedy, the most likely token)")
	fl.StringVar(&f.schedule, "schedule", "", "scales to generate, like 1_2_4_6_8 (default: the VAR-like list of the latent)")
	fl.StringVar(&f.ramp, "cfg-ramp", sample.RampFlexVAR, "guidance ramp: flexvar (cfg·k/min(n−1, 9), FlexVAR's sampler) or linear (cfg·k/(n−1))")
	fl.StringVar(&f.greedy, "greedy", sample.GreedyFlexVAR, "greedy scales: flexvar (scales outside FlexVAR's list or beyond the model's largest) or never")
	fl.StringVar(&f.fromImage, "from-image", "", "image whose first --keep-scales scales are kept")
	fl.IntVar(&f.keepScales, "keep-scales", 1, "scales of --from-image to keep")
	fl.IntVar(&f.scale, "scale", 2, "pixel replication factor of the grid")
	_ = cmd.MarkFlagRequired("model")
	return cmd
}

func runSample(cmd *cobra.Command, opts *globalOptions, f *sampleFlags) error {
	if err := checkSampleFlags(f); err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	defer debug.SetGCPercent(debug.SetGCPercent(sample.InferenceGCPercent))
	dev, err := tensor.Open(opts.device)
	if err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	modelPath, runDir := checkpointIn(f.model, "model.safetensors")
	m, st, err := sar.LoadModel(modelPath, dev)
	if err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	if sar.IsPublished(modelPath) {
		publishedDefaults(cmd, f, m.Cfg.Depth)
	}
	tokPath, err := findTokenizer(f.tokenizer, runDir)
	if err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	vq, _, err := tokenizer.Load(tokPath, dev)
	if err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	if err := checkTokenizerOf(modelPath, st, vq, tokPath); err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	fitTokenizer(vq, m.Cfg)
	sc := schedule.VARList(vq.Cfg.Latent())
	if f.schedule != "" {
		if sc, err = schedule.Parse(f.schedule, vq.Cfg.Latent()); err != nil {
			return fmt.Errorf("sample: --schedule: %w", err)
		}
	}
	classes, err := sampleClasses(f.class, m.Cfg.NumClasses)
	if err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	if f.n > 0 { // the images to make, checked before the labels are listed
		n := int(min(membudget.Product(int64(f.n), int64(len(classes))), math.MaxInt))
		if err := checkSampleMemory(dev, m.Cfg, vq.Cfg, sc, n, f.cfg != 0); err != nil {
			return fmt.Errorf("sample: %w", err)
		}
		if err := checkGridMemory(n, gridCols(f.n, len(classes)), vq.Cfg.ImageSize, f.scale); err != nil {
			return fmt.Errorf("sample: %w", err)
		}
	}
	labels, cols, err := sampleLabels(f.class, f.n, m.Cfg.NumClasses)
	if err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	s := tensor.NewScope(dev) // the start latents and the samples
	defer s.Close()
	var start *sample.Start
	if f.fromImage != "" {
		if start, err = startFromImage(f.fromImage, f.keepScales, len(labels), vq, sc); err != nil {
			return fmt.Errorf("sample: %w", err)
		}
	}
	opt := sample.Options{Schedule: sc, CFG: f.cfg, TopK: f.topK, TopP: f.topP, Temperature: f.temp, Seed: opts.seed,
		Ramp: f.ramp, Greedy: f.greedy}
	if f.temp == 0 { // greedy: keep only the most likely token
		opt.TopK, opt.TopP, opt.Temperature = 1, 0, 1
	}
	res, err := sample.Generate(m, vq, labels, opt, start)
	if err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	grid, err := gridOf(res.Images, labels, m.Cfg.NumClasses, cols, f.scale)
	if err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	if err := grid.Save(f.out); err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "wrote %d samples (schedule %s, cfg %g) to %s\n", len(labels), sc, f.cfg, f.out)
	return nil
}

// publishedDefaults sets the flags not given to the authors' evaluation
// settings for a released model of the given depth (sample.Published), one
// image per class and the grid at its own size.
func publishedDefaults(cmd *cobra.Command, f *sampleFlags, depth int) {
	def := sample.Published(depth)
	fl := cmd.Flags()
	set := func(name string, apply func()) {
		if !fl.Changed(name) {
			apply()
		}
	}
	set("cfg", func() { f.cfg = def.CFG })
	set("top-k", func() { f.topK = def.TopK })
	set("top-p", func() { f.topP = def.TopP })
	set("schedule", func() { f.schedule = def.Schedule.String() })
	set("n", func() { f.n = 1 })
	set("scale", func() { f.scale = 1 })
}

// findTokenizer locates the tokenizer checkpoint: the flag, the run
// directory, or the "tokenizer" field of its run.json (a directory or a
// file, absolute or relative to the run directory; runs written before
// paths were stored that way named it relative to the directory training
// ran in, which is tried last, and the fingerprint check catches a wrong
// match).
func findTokenizer(flag, runDir string) (string, error) {
	const file = tokenizer.CheckpointFile
	if flag != "" {
		p, _ := checkpointIn(flag, file)
		return p, nil
	}
	if p := filepath.Join(runDir, file); exists(p) {
		return p, nil
	}
	raw, err := os.ReadFile(filepath.Join(runDir, "run.json"))
	if err != nil {
		return "", fmt.Errorf("no %s in %s and no run.json naming one; pass --tokenizer", file, runDir)
	}
	var info struct {
		Tokenizer string `json:"tokenizer"`
	}
	if err := json.Unmarshal(raw, &info); err != nil || info.Tokenizer == "" {
		return "", fmt.Errorf("%s/run.json names no tokenizer; pass --tokenizer", runDir)
	}
	for _, cand := range []string{filepath.Join(runDir, info.Tokenizer), info.Tokenizer} {
		if p, _ := checkpointIn(cand, file); exists(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("tokenizer %q named by %s/run.json not found; pass --tokenizer", info.Tokenizer, runDir)
}

// checkSampleFlags refuses values of sample's flags that have no meaning
// (finiteness is checked for every float flag before any command runs;
// this also covers the command run on its own, as the tests do).
func checkSampleFlags(f *sampleFlags) error {
	for _, fl := range []struct {
		name string
		v    float32
		ok   bool
	}{
		{"cfg", f.cfg, f.cfg >= 0},
		{"top-p", f.topP, f.topP >= 0 && f.topP <= 1},
		{"temperature", f.temp, f.temp >= 0},
	} {
		if v := float64(fl.v); math.IsNaN(v) || math.IsInf(v, 0) || !fl.ok {
			return fmt.Errorf("--%s %g: want a finite value (cfg and temperature >= 0, top-p in [0, 1])", fl.name, fl.v)
		}
	}
	switch {
	case f.topK < 0:
		return fmt.Errorf("--top-k %d: want >= 0", f.topK)
	case f.scale < 1:
		return fmt.Errorf("--scale %d: want >= 1", f.scale)
	}
	return checkOutFile("out", f.out)
}

// sampleLabels expands --class and --n into labels and the grid's number
// of columns.
func sampleLabels(class string, n, numClasses int) ([]int, int, error) {
	if n <= 0 {
		return nil, 0, fmt.Errorf("--n %d must be positive", n)
	}
	classes, err := sampleClasses(class, numClasses)
	if err != nil {
		return nil, 0, err
	}
	var labels []int
	for _, c := range classes {
		for range n {
			labels = append(labels, c)
		}
	}
	return labels, gridCols(n, len(classes)), nil
}

// sampleClasses reads --class: every class, the null class, or classes
// separated by commas.
func sampleClasses(class string, numClasses int) ([]int, error) {
	switch class {
	case "all":
		classes := make([]int, numClasses)
		for c := range classes {
			classes[c] = c
		}
		return classes, nil
	case "null":
		return []int{numClasses}, nil
	}
	var classes []int
	for _, part := range strings.Split(class, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || c < 0 || c >= numClasses {
			return nil, fmt.Errorf("--class %q: want a class in [0, %d) (or several, separated by commas), all or null", class, numClasses)
		}
		classes = append(classes, c)
	}
	return classes, nil
}

// gridCols is the grid's number of columns for n samples of each of
// classes classes: one row per class, rows of up to 8 for one class, or
// one row of up to 8 for one sample per class.
func gridCols(n, classes int) int {
	if classes == 1 || n == 1 {
		return min(n*classes, 8)
	}
	return n
}

// startFromImage tokenizes an image and keeps its first keep scales, the
// same for every sample.
func startFromImage(path string, keep, b int, vq *tokenizer.VQ, sc schedule.Schedule) (*sample.Start, error) {
	if keep < 1 || keep > len(sc) {
		return nil, fmt.Errorf("--keep-scales %d outside [1, %d] for schedule %s", keep, len(sc), sc)
	}
	x, err := readImageTensor(path, vq.Cfg.ImageChannels, vq.Cfg.ImageSize, vq.Device())
	if err != nil {
		return nil, err
	}
	ids, z := vq.Tokenize(x, sc[:keep])
	st := &sample.Start{}
	for k := range keep {
		st.IDs = append(st.IDs, repeatBatch(ids[k], b))
		st.Z = append(st.Z, repeatBatch(z[k], b))
	}
	return st, nil
}

// repeatBatch copies a batch-1 tensor b times along the batch axis.
func repeatBatch(t *tensor.Tensor, b int) *tensor.Tensor {
	sh := t.Shape()
	sh[0] = b
	return t.Expand(sh...).Contiguous()
}

// readImageTensor decodes a PNG or JPEG into [1, channels, size, size] in
// [-1, 1] (grey as luminance), resized bilinearly when its size differs.
func readImageTensor(path string, channels, size int, dev tensor.Backend) (*tensor.Tensor, error) {
	buf, err := regfile.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read image: %w", err)
	}
	img, _, err := imgio.Decode(buf)
	if err != nil {
		return nil, fmt.Errorf("read image %s: %w", path, err)
	}
	r := img.Bounds()
	h, w := r.Dy(), r.Dx()
	if h == 0 || w == 0 {
		return nil, errors.New("read image: empty image " + path)
	}
	v := make([]float32, channels*h*w)
	for y := range h {
		for x := range w {
			cr, cg, cb, _ := img.At(r.Min.X+x, r.Min.Y+y).RGBA()
			rgb := [3]float32{float32(cr) / 65535, float32(cg) / 65535, float32(cb) / 65535}
			if channels == 1 {
				v[y*w+x] = 2*(0.299*rgb[0]+0.587*rgb[1]+0.114*rgb[2]) - 1
				continue
			}
			for c := range channels {
				v[(c*h+y)*w+x] = 2*rgb[c%3] - 1
			}
		}
	}
	t := tensor.FromSlice(dev, v, 1, channels, h, w)
	if h == size && w == size {
		return t, nil
	}
	return tensor.Interpolate(t, size, size, tensor.InterpBilinear), nil
}
