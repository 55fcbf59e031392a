package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"

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
the "tokenizer" field of DIR/run.json.

Any schedule may be given, including ones the model never trained on. With
--from-image, the first --keep-scales scales are taken from that image's
tokens and the rest are generated.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runSample(cmd, opts, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.model, "model", "", "run directory holding model.safetensors (or the checkpoint file itself)")
	fl.StringVar(&f.tokenizer, "tokenizer", "", "tokenizer directory or checkpoint (default: from --model)")
	fl.StringVar(&f.out, "out", "samples.png", "output PNG")
	fl.IntVar(&f.n, "n", 8, "samples per class")
	fl.StringVar(&f.class, "class", "all", "class id, \"all\" for every class, or \"null\" for unconditional")
	fl.Float32Var(&f.cfg, "cfg", 1.5, "classifier-free guidance scale (0 disables)")
	fl.IntVar(&f.topK, "top-k", 0, "keep the K most likely tokens (0 keeps all)")
	fl.Float32Var(&f.topP, "top-p", 0, "keep the smallest set of tokens reaching probability P (0 keeps all)")
	fl.Float32Var(&f.temp, "temperature", 1, "sampling temperature")
	fl.StringVar(&f.schedule, "schedule", "", "scales to generate, like 1_2_4_6_8 (default: the VAR-like list of the latent)")
	fl.StringVar(&f.fromImage, "from-image", "", "image whose first --keep-scales scales are kept")
	fl.IntVar(&f.keepScales, "keep-scales", 1, "scales of --from-image to keep")
	fl.IntVar(&f.scale, "scale", 2, "pixel replication factor of the grid")
	_ = cmd.MarkFlagRequired("model")
	return cmd
}

func runSample(cmd *cobra.Command, opts *globalOptions, f *sampleFlags) error {
	dev, err := tensor.Open(opts.device)
	if err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	modelPath, runDir := checkpointIn(f.model, "model.safetensors")
	m, _, err := sar.LoadModel(modelPath, dev)
	if err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	tokPath, err := findTokenizer(f.tokenizer, runDir)
	if err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	vq, _, err := tokenizer.Load(tokPath, dev)
	if err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	sc := schedule.VARList(vq.Cfg.Latent())
	if f.schedule != "" {
		if sc, err = schedule.Parse(f.schedule, vq.Cfg.Latent()); err != nil {
			return fmt.Errorf("sample: --schedule: %w", err)
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
	opt := sample.Options{Schedule: sc, CFG: f.cfg, TopK: f.topK, TopP: f.topP, Temperature: f.temp, Seed: opts.seed}
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

// findTokenizer locates the tokenizer checkpoint: the flag, the run
// directory, or the "tokenizer" field of its run.json (a directory or a
// file, absolute or relative to the working directory or the run
// directory).
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
	for _, cand := range []string{info.Tokenizer, filepath.Join(runDir, info.Tokenizer)} {
		if p, _ := checkpointIn(cand, file); exists(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("tokenizer %q named by %s/run.json not found; pass --tokenizer", info.Tokenizer, runDir)
}

// sampleLabels expands --class and --n into labels and the grid's number
// of columns.
func sampleLabels(class string, n, numClasses int) ([]int, int, error) {
	if n <= 0 {
		return nil, 0, fmt.Errorf("--n %d must be positive", n)
	}
	var classes []int
	switch class {
	case "all":
		for c := range numClasses {
			classes = append(classes, c)
		}
	case "null":
		classes = []int{numClasses}
	default:
		c, err := strconv.Atoi(class)
		if err != nil || c < 0 || c >= numClasses {
			return nil, 0, fmt.Errorf("--class %q: want a class in [0, %d), all or null", class, numClasses)
		}
		classes = []int{c}
	}
	var labels []int
	for _, c := range classes {
		for range n {
			labels = append(labels, c)
		}
	}
	cols := n
	if len(classes) == 1 {
		cols = min(n, 8)
	}
	return labels, cols, nil
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
	buf, err := os.ReadFile(path)
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
