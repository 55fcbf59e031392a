package bench

import (
	"fmt"
	"math/rand/v2"

	"sargo/autograd"
	"sargo/nn"
	"sargo/sar"
	"sargo/sar/schedule"
	"sargo/tensor"
)

// modelBench is the transformer configuration of the train and sample
// suites with its batch and schedule.
type modelBench struct {
	Cfg    sar.Config
	Batch  int
	Scales schedule.Schedule
}

// benchModel is the `bench` configuration: depth 6, width 384, 6 heads,
// vocabulary 4096, C_vae 32, the 10-scale list up to 16 (680 tokens),
// batch 8. quick shrinks it to depth 2, width 64, scales 1..4, batch 2.
func benchModel(quick bool) modelBench {
	if quick {
		return modelBench{
			Cfg: sar.Config{Depth: 2, Width: 64, Heads: 2, MLPRatio: 4, NumClasses: 10, Vocab: 64, CVae: 8,
				Largest: 4, CondDrop: 0.1, AttnL2: true},
			Batch: 2, Scales: schedule.Schedule{1, 2, 3, 4},
		}
	}
	return modelBench{
		Cfg: sar.Config{Depth: 6, Width: 384, Heads: 6, MLPRatio: 4, NumClasses: 10, Vocab: 4096, CVae: 32,
			Largest: 16, CondDrop: 0.1, AttnL2: true},
		Batch: 8, Scales: schedule.Schedule(benchScales),
	}
}

// params are the configuration as sent to the reference script.
func (m modelBench) params() map[string]any {
	c := m.Cfg
	return map[string]any{"depth": c.Depth, "width": c.Width, "heads": c.Heads, "mlp_ratio": c.MLPRatio,
		"num_classes": c.NumClasses, "vocab": c.Vocab, "cvae": c.CVae, "largest": c.Largest,
		"cond_drop": c.CondDrop, "drop_path": c.DropPath, "attn_l2": c.AttnL2,
		"batch": m.Batch, "scales": []int(m.Scales)}
}

// codebookTokenizer stands in for the VQ tokenizer in the train suite: a
// fixed random L2-normalised codebook and fixed random ids per scale, so
// that a step measures the transformer only (the reference does the
// same).
type codebookTokenizer struct {
	codebook *tensor.Tensor // [V, CVae], rows of unit norm
	ids      map[int]*tensor.Tensor
}

func newCodebookTokenizer(be tensor.Backend, vocab, cvae, batch int, scales schedule.Schedule, seed uint64) *codebookTokenizer {
	raw := tensor.Randn(be, seed, 0, vocab, cvae)
	cb := autograd.NoGrad().L2Normalize(autograd.Const(raw), -1, 1e-12).Value
	t := &codebookTokenizer{codebook: cb, ids: map[int]*tensor.Tensor{}}
	r := rand.New(rand.NewPCG(seed, 1))
	for _, s := range scales {
		v := make([]float32, batch*s*s)
		for i := range v {
			v[i] = float32(r.IntN(vocab))
		}
		t.ids[s] = tensor.FromSlice(be, v, batch, s*s)
	}
	return t
}

// Tokenize returns the fixed ids of every scale and their latents; x is
// not read.
func (t *codebookTokenizer) Tokenize(_ *tensor.Tensor, scales schedule.Schedule) (ids, z []*tensor.Tensor) {
	for _, s := range scales {
		id := t.ids[s].Clone()
		ids = append(ids, id)
		z = append(z, t.Embed(id, s))
	}
	return ids, z
}

// Embed maps ids [B, s²] to codebook vectors [B, CVae, s, s].
func (t *codebookTokenizer) Embed(ids *tensor.Tensor, s int) *tensor.Tensor {
	rows := tensor.Gather(t.codebook, ids) // [B, s², CVae]
	return rows.Reshape(ids.Dim(0), s, s, t.codebook.Dim(1)).Permute(0, 3, 1, 2).Contiguous()
}

// labelsTensor holds batch labels cycling through the classes.
func labelsTensor(be tensor.Backend, batch, classes int) *tensor.Tensor {
	v := make([]float32, batch)
	for i := range v {
		v[i] = float32(i % classes)
	}
	return tensor.FromSlice(be, v, batch)
}

// optimiserStep clips the gradient norm to clip and runs AdamW, then waits
// for the device.
func optimiserStep(be tensor.Backend, params []nn.NamedParam, opt *nn.AdamW, clip float64) error {
	scale := float32(1)
	if clip > 0 {
		norm, err := nn.GradNorm(params)
		if err != nil {
			return fmt.Errorf("clip gradients: %w", err)
		}
		scale = nn.ClipCoef(norm, clip)
	}
	if err := opt.UpdateScaled(opt.Cfg.LR, scale); err != nil {
		return fmt.Errorf("AdamW: %w", err)
	}
	if err := be.Sync(); err != nil {
		return fmt.Errorf("device %s: %w", be.Name(), err)
	}
	return nil
}
