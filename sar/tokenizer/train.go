package tokenizer

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"sargo/autograd"
	"sargo/nn"
	"sargo/sar/data"
	"sargo/sar/imgio"
	"sargo/tensor"
)

// Files Train writes into its output folder.
const (
	CheckpointFile = "tokenizer.safetensors"
	ConfigFile     = "tokenizer.json"
)

// FileConfig is the JSON layout of ConfigFile, also accepted by the
// train-tokenizer command's --config.
type FileConfig struct {
	Tokenizer Config      `json:"tokenizer"`
	Train     TrainConfig `json:"train"`
}

// TrainPoint is one logged step: the means over the steps since the
// previous log line.
type TrainPoint struct {
	Step         int     `json:"step"`
	LR           float64 `json:"lr"`
	Loss         float64 `json:"loss"`
	Recon        float64 `json:"recon"`
	VQ           float64 `json:"vq"`
	GradNorm     float64 `json:"grad_norm"`
	Usage        float64 `json:"usage"` // fraction of codes used in the current usage window
	Restarts     int     `json:"restarts"`
	ImagesPerSec float64 `json:"images_per_sec"`
}

// TrainStats summarises a Train run.
type TrainStats struct {
	// Steps is the number of steps completed.
	Steps int
	// Last is the last logged point; History holds every one.
	Last    TrainPoint
	History []TrainPoint
	// Checkpoint is the path written last ("" when outDir was "" or no
	// checkpoint was written), at step CheckpointStep.
	Checkpoint     string
	CheckpointStep int
}

// Train fits m on ds. Each step draws a batch (data.Shuffler order), draws
// one scale (see pickScale), encodes, quantizes at that scale, decodes and
// minimises mean|x̂−x| + mean(x̂−x)² plus the quantizer loss with AdamW
// (betas 0.9, 0.95), a linear warm-up then cosine or linear decay, and
// global gradient clipping. Codebook usage is counted on the device and
// dead codes are restarted every UsageWindow steps. Every LogEvery steps a
// line is written to log (nil discards it); only then are values read
// back from the device.
//
// When outDir is not empty, Train locks it (a second process on it fails
// at once, naming the holder), removes the temporary files of writes
// killed there, writes outDir/ConfigFile at the start and an atomic
// checkpoint outDir/CheckpointFile (weights, optimizer moments, step)
// every SaveEvery steps and at the end. Before every checkpoint and at
// every log line, the losses since the last check and (at checkpoints)
// the weights must be finite: otherwise Train stops without saving,
// keeping the last good checkpoint, and returns an error naming the step
// and the value. When ctx is cancelled, Train stops before the next step,
// saves, and returns the stats so far with an error wrapping ctx's
// cause.
func Train(ctx context.Context, m *VQ, ds *data.Dataset, cfg TrainConfig, outDir string, log io.Writer) (TrainStats, error) {
	if log == nil {
		log = io.Discard
	}
	mc := m.Cfg
	if ds.C != mc.ImageChannels || ds.H != mc.ImageSize || ds.W != mc.ImageSize {
		return TrainStats{}, fmt.Errorf("tokenizer train: dataset %s images are %dx%dx%d, tokenizer wants %dx%dx%d",
			ds.Name, ds.C, ds.H, ds.W, mc.ImageChannels, mc.ImageSize, mc.ImageSize)
	}
	if ds.Len() == 0 {
		return TrainStats{}, fmt.Errorf("tokenizer train: dataset %s is empty", ds.Name)
	}
	if err := cfg.checkLength(ds.Len()); err != nil {
		return TrainStats{}, err
	}
	cfg = cfg.withDefaults(mc.Latent(), ds.Len())
	if err := cfg.validate(mc.Latent()); err != nil {
		return TrainStats{}, err
	}
	if outDir != "" {
		lock, err := lockOutDir(outDir, log)
		if err != nil {
			return TrainStats{}, err
		}
		defer lock.Release()
	}
	s := tensor.NewScope(m.dev) // the run's state: optimiser moments, usage counts, sums
	defer s.Close()
	t, err := newTrainer(m, ds, cfg, outDir, log)
	if err != nil {
		return TrainStats{}, err
	}
	if outDir != "" {
		raw, err := json.MarshalIndent(FileConfig{Tokenizer: mc, Train: cfg}, "", "  ")
		if err != nil {
			return TrainStats{}, fmt.Errorf("tokenizer train: encode config: %w", err)
		}
		if err := imgio.WriteFileAtomic(filepath.Join(outDir, ConfigFile), append(raw, '\n')); err != nil {
			return TrainStats{}, fmt.Errorf("tokenizer train: %w", err)
		}
	}
	m.SetTrain(true)
	defer m.SetTrain(false)
	for t.step < cfg.Steps {
		if ctx.Err() != nil {
			if serr := t.save(); serr != nil {
				return t.stats, serr
			}
			return t.stats, fmt.Errorf("tokenizer train: stopped at step %d: %w", t.step, context.Cause(ctx))
		}
		if err := t.runStep(); err != nil {
			return t.stats, err
		}
		if cfg.SaveEvery > 0 && t.step%cfg.SaveEvery == 0 && t.step < cfg.Steps {
			if err := t.save(); err != nil {
				return t.stats, err
			}
		}
	}
	if err := t.save(); err != nil {
		return t.stats, err
	}
	return t.stats, nil
}

// trainer is the state of one Train run.
type trainer struct {
	m      *VQ
	ds     *data.Dataset
	cfg    TrainConfig
	outDir string
	log    io.Writer

	params []nn.NamedParam
	opt    *nn.AdamW
	lr     nn.Schedule
	usage  *codeUsage
	order  data.Shuffler
	epoch  int
	perm   []int
	pos    int

	step  int
	stats TrainStats
	// acc sums [loss, recon, vq, grad norm] on the device since the last
	// log line, over accSteps steps.
	acc      *tensor.Tensor
	accSteps int
	since    time.Time
}

func newTrainer(m *VQ, ds *data.Dataset, cfg TrainConfig, outDir string, log io.Writer) (*trainer, error) {
	params := m.Parameters()
	ac := nn.AdamWConfig{LR: cfg.LR, Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, WeightDecay: cfg.WeightDecay}
	opt, err := nn.NewAdamW(params, ac)
	if err != nil {
		return nil, fmt.Errorf("tokenizer train: %w", err)
	}
	kind := nn.DecayCosine
	if cfg.Decay == DecayLinear {
		kind = nn.DecayLinear
	}
	t := &trainer{m: m, ds: ds, cfg: cfg, outDir: outDir, log: log,
		params: params, opt: opt,
		lr:    nn.Schedule{Peak: float64(cfg.LR), Floor: float64(cfg.LR * cfg.MinLRFrac), Warmup: cfg.Warmup, Total: cfg.Steps, Kind: kind},
		usage: newCodeUsage(m.dev, m.Cfg.Codebook),
		order: data.Shuffler{N: ds.Len(), Seed: cfg.Seed},
		acc:   tensor.Zeros(m.dev, 4),
		since: time.Now(),
	}
	t.perm = t.order.Epoch(0)
	return t, nil
}

// nextBatch returns the next Batch indices of the shuffled order, moving
// on to the next epoch's permutation when one runs out.
func (t *trainer) nextBatch() []int {
	idx := make([]int, 0, t.cfg.Batch)
	for len(idx) < t.cfg.Batch {
		if t.pos == len(t.perm) {
			t.epoch++
			t.perm = t.order.Epoch(t.epoch)
			t.pos = 0
		}
		k := min(t.cfg.Batch-len(idx), len(t.perm)-t.pos)
		idx = append(idx, t.perm[t.pos:t.pos+k]...)
		t.pos += k
	}
	return idx
}

// Keys of the training random streams, mixed into the seed so that they
// differ from the weight-initialisation stream New draws from the same
// seed.
const (
	scaleStreamKey   = 0x5ca1e5ca1e5ca1e5
	restartStreamKey = 0xdeadc0dedeadc0de
)

// pickScale draws the scale of a step. The largest scale is drawn with
// probability LargestProb (one half by default) and the others share the
// rest equally: the bias toward the largest scale is deliberate, since the
// final image is decoded from it and it holds the most detail to learn,
// while the coarse scales are quick to fit. The draw is element step of
// the Philox stream keyed by seed^scaleStreamKey, so a run is
// reproducible.
func pickScale(cfg TrainConfig, step int) int {
	s := cfg.Scales
	u := float64(tensor.PhiloxUniform(cfg.Seed^scaleStreamKey, uint64(step)))
	if len(s) == 1 || u < cfg.LargestProb {
		return s.Last()
	}
	k := int((u - cfg.LargestProb) / (1 - cfg.LargestProb) * float64(len(s)-1))
	return s[min(k, len(s)-2)]
}

// reconLoss is mean|y − x| + mean((y − x)²).
func reconLoss(g *autograd.Graph, y, x *autograd.Var) *autograd.Var {
	d := g.Sub(y, x)
	return g.Add(g.Mean(g.Abs(d), false), g.Mean(g.Square(d), false))
}

// runStep runs one optimisation step; it reads from the device only when
// the step logs.
func (t *trainer) runStep() error {
	cfg, mc := t.cfg, t.m.Cfg
	idx := t.nextBatch()
	xs, _ := t.ds.Batch(idx, nil)
	s := pickScale(cfg, t.step)

	g := autograd.NewGraph(t.m.dev) // owns everything the step makes
	defer g.Close()
	xv := autograd.Const(tensor.FromSlice(t.m.dev, xs, len(idx), mc.ImageChannels, mc.ImageSize, mc.ImageSize))
	h := t.m.Encode(g, xv)
	q := t.m.Quantize(g, h, s)
	y := t.m.Decode(g, q.Z)
	recon := reconLoss(g, y, xv)
	loss := g.Add(recon, q.Loss)
	if err := g.Backward(loss); err != nil {
		return fmt.Errorf("tokenizer train: step %d: %w", t.step+1, err)
	}
	norm := nn.ClipGradNormDevice(t.params, cfg.ClipNorm)
	if norm == nil {
		norm = tensor.Scalar(t.m.dev, 0)
	}
	lr := t.lr.LR(t.step)
	if err := t.opt.UpdateLR(float32(lr)); err != nil {
		return fmt.Errorf("tokenizer train: step %d: %w", t.step+1, err)
	}
	nn.ZeroGrads(t.params)

	t.usage.add(q.IDs)
	tensor.AddInto(t.acc, tensor.Stack(0, loss.Value, recon.Value, q.Loss.Value, norm))
	t.accSteps++
	t.step++
	t.stats.Steps = t.step

	logNow := t.step == cfg.Steps || (cfg.LogEvery > 0 && t.step%cfg.LogEvery == 0)
	if logNow {
		if err := t.logLine(lr); err != nil {
			return err
		}
	}
	if t.step%cfg.UsageWindow == 0 {
		if !cfg.KeepDead {
			t.usage.restart(t.m.quant, latentQueries(h.Value), t.opt, cfg.Seed^restartStreamKey)
		} else {
			t.usage.counts.Fill(0)
		}
	}
	return nil
}

// logLine reads the accumulated means, the usage and the restart count
// in one transfer, writes a line and records a TrainPoint.
func (t *trainer) logLine(lr float64) error {
	v, err := tensor.Concat(0, t.acc, t.usage.fraction().Reshape(1), t.usage.restarts.Reshape(1)).Read()
	if err != nil {
		return fmt.Errorf("tokenizer train: step %d: read statistics: %w", t.step, err)
	}
	if err := t.checkLosses(v[:4]); err != nil {
		return err
	}
	n := float64(t.accSteps)
	el := time.Since(t.since).Seconds()
	p := TrainPoint{Step: t.step, LR: lr,
		Loss: float64(v[0]) / n, Recon: float64(v[1]) / n, VQ: float64(v[2]) / n, GradNorm: float64(v[3]) / n,
		Usage: float64(v[4]), Restarts: int(v[5]), ImagesPerSec: n * float64(t.cfg.Batch) / max(el, 1e-9)}
	t.stats.Last = p
	t.stats.History = append(t.stats.History, p)
	fmt.Fprintf(t.log, "step %6d  loss %.4f  recon %.4f  vq %.4f  |g| %.3f  usage %.3f  restarts %d  lr %.2e  %.1f img/s\n",
		p.Step, p.Loss, p.Recon, p.VQ, p.GradNorm, p.Usage, p.Restarts, p.LR, p.ImagesPerSec)
	t.acc.Fill(0)
	t.accSteps = 0
	t.since = time.Now()
	return nil
}

// save writes the checkpoint when the run has an output folder, after
// checking that the losses since the last check and the weights are
// finite.
func (t *trainer) save() error {
	if t.outDir == "" {
		return nil
	}
	if err := t.checkFinite(); err != nil {
		return err
	}
	path := filepath.Join(t.outDir, CheckpointFile)
	st := &nn.TrainState{Step: t.step, RNGOffset: t.usage.draws, Optimizer: t.opt}
	if err := t.m.Save(path, st); err != nil {
		return fmt.Errorf("tokenizer train: step %d: %w", t.step, err)
	}
	t.stats.Checkpoint = path
	t.stats.CheckpointStep = t.step
	return nil
}
