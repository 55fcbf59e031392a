package bench

import (
	"fmt"

	"sargo/sar"
	"sargo/sar/sample"
	"sargo/sar/tokenizer"
	"sargo/tensor"
)

func init() {
	register(Suite{Name: "sample", Doc: "class-conditional generation with CFG over the 10-scale list", Cases: sampleCases})
}

// sampleOptions are the sampling settings of the suite.
var sampleOptions = struct {
	CFG, TopP float32
	TopK      int
}{CFG: 2, TopP: 0.96, TopK: 900}

// sampleTokenizer is the tokenizer whose decoder turns the bench model's
// 16×16 latents into images: 64×64 grey images, 4× downsampling, base 32,
// C_vae and codebook as the model.
func sampleTokenizer(mb modelBench, quick bool) tokenizer.Config {
	c := tokenizer.Config{ImageChannels: 1, ImageSize: 4 * mb.Cfg.Largest, Downsample: 4, Base: 32, ResBlocks: 1,
		CVae: mb.Cfg.CVae, Codebook: mb.Cfg.Vocab, Beta: 0.25}
	if quick {
		c.Base = 8
	}
	return c
}

// sampleCases generate one image per label for a batch of 8 labels
// (doubled for CFG 2 with a linear ramp, top-k 900, top-p 0.96) with the
// KV cache, one step per scale of the 10-scale list, and decode the last
// scale with the tokenizer.
func sampleCases(quick bool) ([]Case, error) {
	mb := benchModel(quick)
	tc := sampleTokenizer(mb, quick)
	params := mb.params()
	params["cfg"], params["top_k"], params["top_p"] = sampleOptions.CFG, min(sampleOptions.TopK, mb.Cfg.Vocab), sampleOptions.TopP
	tp := tokenizerBench{Cfg: tc}.params()
	delete(tp, "batch")
	params["tokenizer"] = tp
	return []Case{{
		Name: fmt.Sprintf("generate d%d w%d B%d cfg%g %d scales → %dx%d", mb.Cfg.Depth, mb.Cfg.Width, mb.Batch, sampleOptions.CFG,
			len(mb.Scales), tc.ImageSize, tc.ImageSize),
		Kind: "sample", Unit: "images/s", Work: float64(mb.Batch), Params: params,
		Setup:  func(be tensor.Backend) (func() error, func(), error) { return setupSample(be, mb, tc) },
		Memory: true,
	}}, nil
}

func setupSample(be tensor.Backend, mb modelBench, tc tokenizer.Config) (func() error, func(), error) {
	model, err := sar.NewModel(mb.Cfg, be, 1)
	if err != nil {
		return nil, nil, fmt.Errorf("bench model: %w", err)
	}
	vq, err := tokenizer.New(tc, be, 2)
	if err != nil {
		return nil, nil, fmt.Errorf("bench tokenizer: %w", err)
	}
	labels := make([]int, mb.Batch)
	for i := range labels {
		labels[i] = i % mb.Cfg.NumClasses
	}
	opt := sample.Options{Schedule: mb.Scales, CFG: sampleOptions.CFG, TopK: min(sampleOptions.TopK, mb.Cfg.Vocab),
		TopP: sampleOptions.TopP, Temperature: 1}
	return generateRun(be, model, vq, labels, opt), func() {}, nil
}

// generateRun returns a run that generates and decodes one image per
// label, waits for the device and frees the results; every run draws with
// the next seed.
func generateRun(be tensor.Backend, m *sar.Model, vq *tokenizer.VQ, labels []int, opt sample.Options) func() error {
	return func() error {
		res, err := sample.Generate(m, vq, labels, opt, nil)
		if err != nil {
			return err
		}
		if err := be.Sync(); err != nil {
			return fmt.Errorf("device %s: %w", be.Name(), err)
		}
		opt.Seed++
		res.Release()
		return nil
	}
}
