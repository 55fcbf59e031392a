package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"

	"sargo/nn"
	"sargo/sar"
	"sargo/sar/sample"
	"sargo/sar/tokenizer"
	"sargo/tensor"
)

func init() {
	register(Suite{Name: "sample-d16", Doc: "a released-size FlexVAR d16 with FlexVAE sampling 256-px images, with peak memory",
		Cases: sampleD16Cases})
}

// d16Bench is the configuration of the sample-d16 suite: a FlexVAR of
// FlexVAR d16's sizes with random weights, its VQ-16 tokenizer, and the
// authors' sampling settings (sample.Published).
type d16Bench struct {
	Model sar.Config
	Tok   tokenizer.Config
	// Dir holds the weights as PyTorch checkpoints in the authors'
	// layouts, written once by Cases and read by both sides.
	Dir string
}

// benchD16 is FlexVAR d16 (width 1024, 16 heads, 8912 codes) with FlexVAE;
// quick shrinks it to depth 2, width 64 and a VQ-16 of base 32 on 64-px
// images (latent 16, 64 codes of 8 channels).
func benchD16(quick bool) d16Bench {
	if quick {
		tc := tokenizer.Config{ImageChannels: 3, ImageSize: 64, Downsample: 4, Base: 32, ResBlocks: 1, CVae: 8, Codebook: 64,
			Beta: 0.25, Arch: tokenizer.ArchVQ16, ChannelMult: []int{1, 1, 1}, ZChannels: 16}
		return d16Bench{Tok: tc, Model: sar.Config{Depth: 2, Width: 64, Heads: 1, MLPRatio: 4, NumClasses: 1000, Vocab: 64,
			CVae: 8, Largest: 16, CondDrop: 0.1, AttnL2: true}, Dir: benchWeightsDir("sample-d16-quick")}
	}
	return d16Bench{Tok: tokenizer.FlexVAE(), Model: sar.Config{Depth: 16, Width: 1024, Heads: 16, MLPRatio: 4, NumClasses: 1000,
		Vocab: 8912, CVae: 32, Largest: 16, CondDrop: 0.1, DropPath: 0.1 * 16 / 24, AttnL2: true}, Dir: benchWeightsDir("sample-d16")}
}

// benchWeightsDir is where a suite keeps weights it writes once and reuses:
// a folder of the system's temporary folder.
func benchWeightsDir(name string) string { return filepath.Join(os.TempDir(), "sargo-bench", name) }

func (d d16Bench) modelFile() string { return filepath.Join(d.Dir, "FlexVAR.pth") }
func (d d16Bench) tokFile() string   { return filepath.Join(d.Dir, "FlexVAE.pth") }

// sampleD16Cases generate one image and a batch of 8 (quick: 2) with the
// authors' settings (10 scales to 16, CFG 2.2 ramped, top-k 900, top-p
// 0.95) from weights read from PyTorch checkpoints, and decode them at 256
// px; the peak resident memory of each side is measured, against a budget
// of 1.5× the parameters' float32 size plus the KV cache.
func sampleD16Cases(quick bool) ([]Case, error) {
	d := benchD16(quick)
	if err := d.writeWeights(); err != nil {
		return nil, err
	}
	opt := sample.Published(d.Model.Depth)
	opt.TopK = min(opt.TopK, d.Model.Vocab)
	params, err := d.paramBytes()
	if err != nil {
		return nil, err
	}
	batches := []int{1, 8}
	if quick {
		batches = []int{1, 2}
	}
	var cases []Case
	for _, b := range batches {
		kv := d.kvBytes(b, opt)
		budget := int64(1.5*float64(params)) + kv
		p := map[string]any{"model": d.modelFile(), "tokenizer": d.tokFile(), "batch": b, "scales": []int(opt.Schedule),
			"cfg": opt.CFG, "top_k": opt.TopK, "top_p": opt.TopP, "num_classes": d.Model.NumClasses,
			"depth": d.Model.Depth, "width": d.Model.Width, "heads": d.Model.Heads, "vocab": d.Model.Vocab, "cvae": d.Model.CVae,
			"vae": map[string]any{"ch": d.Tok.Base, "ch_mult": d.Tok.ChannelMult, "num_res": d.Tok.ResBlocks, "z_ch": d.Tok.ZChannels,
				"codes": d.Tok.Codebook, "cvae": d.Tok.CVae},
			"peak_memory": true, "param_bytes": params, "kv_cache_bytes": kv, "budget_bytes": budget,
			"budget": fmt.Sprintf("1.5 × parameters %s + KV cache %s", formatBytes(params), formatBytes(kv))}
		cases = append(cases, Case{
			Name: fmt.Sprintf("d%d w%d B%d → %dpx", d.Model.Depth, d.Model.Width, b, d.Tok.ImageSize),
			Kind: "sample_pth", Unit: "images/s", Work: float64(b), Params: p, PeakMemory: true,
			Setup: func(be tensor.Backend) (func() error, func(), error) { return d.setup(be, b, opt) },
		})
	}
	return cases, nil
}

// paramBytes is the float32 size of the transformer's and the tokenizer's
// parameters, counted from their files (buffers aside).
func (d d16Bench) paramBytes() (int64, error) {
	var n int64
	for _, f := range []struct {
		path   string
		want   []string
		ignore func(string) bool
	}{
		{d.modelFile(), sar.Markers(), sar.IgnoreBuffer},
		{d.tokFile(), []string{tokenizer.VQ16Marker}, func(n string) bool { return n == "quantize.codebook_used" }},
	} {
		sd, err := nn.OpenStateDict(f.path, "", f.want...)
		if err != nil {
			return 0, fmt.Errorf("sample-d16: %w", err)
		}
		for _, name := range sd.Names {
			if f.ignore(name) {
				continue
			}
			sh, _ := sd.Shape(name)
			k := int64(1)
			for _, v := range sh {
				k *= int64(v)
			}
			n += k
		}
		sd.Close()
	}
	return 4 * n, nil
}

// kvBytes is the KV cache of a generation: keys and values of every block
// for the doubled (CFG) batch over the whole schedule.
func (d d16Bench) kvBytes(b int, opt sample.Options) int64 {
	mult := int64(1)
	if opt.CFG != 0 {
		mult = 2
	}
	return 4 * 2 * int64(d.Model.Depth) * mult * int64(b) * int64(opt.Schedule.Tokens()) * int64(d.Model.Width)
}

// writeWeights writes random weights of the configuration as the authors'
// files lay them out (WriteSyntheticFlexVAR, WriteSyntheticVQ), unless
// they exist.
func (d d16Bench) writeWeights() error {
	if fileExists(d.modelFile()) && fileExists(d.tokFile()) {
		return nil
	}
	if err := os.MkdirAll(d.Dir, 0o755); err != nil {
		return fmt.Errorf("sample-d16 weights: %w", err)
	}
	if err := WriteSyntheticVQ(d.tokFile(), d.Tok, 2); err != nil {
		return fmt.Errorf("sample-d16 weights: %w", err)
	}
	if err := WriteSyntheticFlexVAR(d.modelFile(), d.Model, 1); err != nil {
		return fmt.Errorf("sample-d16 weights: %w", err)
	}
	return nil
}

func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

// setup loads the weights from the PyTorch files onto be, as `sargo
// sample` does, and returns a run that generates and decodes b images.
func (d d16Bench) setup(be tensor.Backend, b int, opt sample.Options) (func() error, func(), error) {
	m, _, err := sar.LoadModel(d.modelFile(), be)
	if err != nil {
		return nil, nil, err
	}
	vq, _, err := tokenizer.Load(d.tokFile(), be)
	if err != nil {
		return nil, nil, err
	}
	vq.Cfg.ImageSize = d.Tok.ImageSize
	gc := debug.SetGCPercent(sample.InferenceGCPercent) // as `sargo sample` runs
	labels := make([]int, b)
	for i := range labels {
		labels[i] = (207 + 153*i) % d.Model.NumClasses
	}
	return generateRun(be, m, vq, labels, opt), func() { debug.SetGCPercent(gc) }, nil
}
