package bench

import (
	"fmt"

	"sargo/autograd"
	"sargo/nn"
	"sargo/sar/tokenizer"
	"sargo/tensor"
)

func init() {
	register(Suite{Name: "tokenizer", Doc: "one training step of the VQ tokenizer at 32x32", Cases: tokenizerCases})
}

// tokenizerBench is a tokenizer configuration with its training batch.
type tokenizerBench struct {
	Cfg   tokenizer.Config
	Batch int
}

func (t tokenizerBench) params() map[string]any {
	c := t.Cfg
	return map[string]any{"image_channels": c.ImageChannels, "image_size": c.ImageSize, "downsample": c.Downsample,
		"base": c.Base, "res_blocks": c.ResBlocks, "cvae": c.CVae, "codebook": c.Codebook, "beta": c.Beta,
		"batch": t.Batch, "lr": 1e-3, "clip": 1.0}
}

// tokenizerCases is one training step of the "small" tokenizer (MNIST's:
// 32×32 grey images, 4× downsampling, base 32, C_vae 16, 512 codes) on a
// batch of 64 at the largest scale: encode, quantize, decode, L1 + L2
// reconstruction plus the VQ loss, backward, clipping at 1 and AdamW.
func tokenizerCases(quick bool) ([]Case, error) {
	tb := tokenizerBench{Batch: 64}
	var err error
	tb.Cfg, _, err = tokenizer.Preset("small")
	if err != nil {
		return nil, err
	}
	if quick {
		tb.Cfg, _, err = tokenizer.Preset("tiny")
		if err != nil {
			return nil, err
		}
		tb.Cfg.ImageSize, tb.Batch = 16, 2
	}
	c := tb.Cfg
	return []Case{{
		Name: fmt.Sprintf("step %dx%d c%d base%d cvae%d V%d B%d", c.ImageSize, c.ImageSize, c.ImageChannels, c.Base, c.CVae, c.Codebook, tb.Batch),
		Kind: "tokenizer_step", Unit: "images/s", Work: float64(tb.Batch), Params: tb.params(),
		Setup:  func(be tensor.Backend) (func() error, func(), error) { return tb.setup(be) },
		Memory: true,
	}}, nil
}

func (tb tokenizerBench) setup(be tensor.Backend) (func() error, func(), error) {
	vq, err := tokenizer.New(tb.Cfg, be, 1)
	if err != nil {
		return nil, nil, fmt.Errorf("bench tokenizer: %w", err)
	}
	vq.SetTrain(true)
	params := vq.Parameters()
	opt, err := nn.NewAdamW(params, nn.AdamWConfig{LR: 1e-3, Beta1: 0.9, Beta2: 0.95, Eps: 1e-8})
	if err != nil {
		return nil, nil, fmt.Errorf("bench tokenizer optimiser: %w", err)
	}
	c := tb.Cfg
	x := tensor.Rand(be, 3, 0, tb.Batch, c.ImageChannels, c.ImageSize, c.ImageSize)
	tensor.UnaryInPlace(tensor.OpAffine, x, 2, -1) // images in [-1, 1)
	run := func() error {
		g := autograd.NewGraph(be)
		defer g.Close()
		xv := autograd.Const(x)
		q := vq.Quantize(g, vq.Encode(g, xv), c.Latent())
		d := g.Sub(vq.Decode(g, q.Z), xv)
		loss := g.Add(g.Add(g.Mean(g.Abs(d), false), g.Mean(g.Square(d), false)), q.Loss)
		nn.ZeroGrads(params)
		if err := g.Backward(loss); err != nil {
			return fmt.Errorf("backward: %w", err)
		}
		return optimiserStep(be, params, opt, 1)
	}
	return run, func() { nn.ZeroGrads(params) }, nil
}
