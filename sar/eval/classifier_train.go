package eval

import (
	"context"
	"fmt"
	"io"
	"time"

	"sargo/autograd"
	"sargo/nn"
	"sargo/sar/data"
	"sargo/tensor"
)

// ClassifierTrainConfig drives TrainClassifier.
type ClassifierTrainConfig struct {
	// Steps of Batch images; the data order is a data.Shuffler of Seed.
	Steps, Batch int
	// LR is AdamW's learning rate, decayed linearly to zero after Warmup
	// steps.
	LR     float32
	Warmup int
	Seed   uint64
	// LogEvery is the logging period (0: no progress lines).
	LogEvery int
}

// DefaultClassifierTrainConfig is about one MNIST epoch: 1000 steps of 64
// images at learning rate 2e-3.
func DefaultClassifierTrainConfig() ClassifierTrainConfig {
	return ClassifierTrainConfig{Steps: 1000, Batch: 64, LR: 2e-3, Warmup: 50, LogEvery: 100}
}

// TrainClassifier fits c on ds with cross-entropy and AdamW (0.9, 0.999,
// weight decay 1e-4), writing a progress line to log every LogEvery steps.
// It stops early, with ctx's error, when ctx is cancelled.
func TrainClassifier(ctx context.Context, c *Classifier, ds *data.Dataset, cfg ClassifierTrainConfig, log io.Writer) error {
	if cfg.Steps < 1 || cfg.Batch < 1 || !(cfg.LR > 0) {
		return fmt.Errorf("train classifier: steps %d, batch %d, lr %g: want positive values", cfg.Steps, cfg.Batch, cfg.LR)
	}
	if ds.C != c.Cfg.Channels || ds.H != c.Cfg.ImageSize || ds.W != c.Cfg.ImageSize || len(ds.Classes) != c.Cfg.Classes {
		return fmt.Errorf("train classifier: dataset %s (%dx%dx%d, %d classes) does not fit the classifier (%dx%dx%d, %d classes)",
			ds.Name, ds.C, ds.H, ds.W, len(ds.Classes), c.Cfg.Channels, c.Cfg.ImageSize, c.Cfg.ImageSize, c.Cfg.Classes)
	}
	s := tensor.NewScope(c.dev) // the optimiser's moments, for this run
	defer s.Close()
	params := c.Parameters()
	opt, err := nn.NewAdamW(params, nn.AdamWConfig{LR: cfg.LR, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 1e-4})
	if err != nil {
		return fmt.Errorf("train classifier: %w", err)
	}
	sched := nn.Schedule{Peak: float64(cfg.LR), Warmup: min(cfg.Warmup, cfg.Steps), Total: cfg.Steps, Kind: nn.DecayLinear}
	order := data.Shuffler{N: ds.Len(), Seed: cfg.Seed}
	epoch, pos := 0, 0
	perm := order.Epoch(0)
	start := time.Now()
	var lossSum float64
	for step := range cfg.Steps {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("train classifier: stopped at step %d: %w", step, err)
		}
		idx := make([]int, 0, cfg.Batch)
		for len(idx) < cfg.Batch {
			if pos == len(perm) {
				epoch++
				perm, pos = order.Epoch(epoch), 0
			}
			k := min(cfg.Batch-len(idx), len(perm)-pos)
			idx = append(idx, perm[pos:pos+k]...)
			pos += k
		}
		loss, err := classifierStep(c, ds, idx, opt, sched.LR(step))
		if err != nil {
			return fmt.Errorf("train classifier: step %d: %w", step, err)
		}
		lossSum += loss
		if cfg.LogEvery > 0 && log != nil && ((step+1)%cfg.LogEvery == 0 || step+1 == cfg.Steps) {
			n := cfg.LogEvery
			if (step+1)%cfg.LogEvery != 0 {
				n = (step + 1) % cfg.LogEvery
			}
			fmt.Fprintf(log, "classifier step %d/%d loss %.4f (%.0fs)\n", step+1, cfg.Steps, lossSum/float64(n), time.Since(start).Seconds())
			lossSum = 0
		}
	}
	return nil
}

// classifierStep runs one AdamW step on the images idx of ds and returns
// the loss.
func classifierStep(c *Classifier, ds *data.Dataset, idx []int, opt *nn.AdamW, lr float64) (float64, error) {
	xs, ys := ds.Batch(idx, nil)
	g := autograd.NewGraph(c.dev) // owns everything the step makes
	defer g.Close()
	x := tensor.FromSlice(c.dev, xs, len(idx), ds.C, ds.H, ds.W)
	yf := make([]float32, len(ys))
	for i, y := range ys {
		yf[i] = float32(y)
	}
	y := tensor.FromSlice(c.dev, yf, len(ys))
	_, logits := c.Forward(g, autograd.Const(x))
	loss := g.CrossEntropy(logits, y, autograd.DefaultCEOptions())
	params := opt.Params()
	nn.ZeroGrads(params)
	if err := g.Backward(loss); err != nil {
		return 0, err
	}
	v, err := loss.Value.Read()
	if err != nil {
		return 0, err
	}
	if err := opt.UpdateLR(float32(lr)); err != nil {
		return 0, err
	}
	nn.ZeroGrads(params)
	return float64(v[0]), nil
}

// TestAccuracyOn measures and records the classifier's accuracy on the
// first n images of ds (all when n <= 0).
func (c *Classifier) TestAccuracyOn(ds *data.Dataset, n int) (float64, error) {
	e, labels, err := c.EmbedDataset(ds, n, 256)
	if err != nil {
		return 0, err
	}
	acc, err := Accuracy(e.Probs, labels, c.Cfg.Classes)
	if err != nil {
		return 0, err
	}
	c.TestAccuracy = acc
	return acc, nil
}
