package sample

import (
	"errors"
	"fmt"
	"slices"

	"sargo/autograd"
	"sargo/sar"
	"sargo/sar/schedule"
	"sargo/sar/tokenizer"
	"sargo/tensor"
)

// Options control generation.
type Options struct {
	// Schedule is the list of scales to generate; its last scale is
	// decoded. It must be increasing and within the tokenizer's latent.
	Schedule schedule.Schedule
	// CFG is the classifier-free guidance scale; 0 disables guidance (no
	// doubled batch).
	CFG float32
	// TopK keeps the K most likely ids (0 keeps all); TopP keeps the
	// smallest set reaching probability P (0 or 1 keeps all); Temperature
	// divides the logits (0 means 1).
	TopK        int
	TopP        float32
	Temperature float32
	// Seed keys the Philox stream of the draws.
	Seed uint64
	// Ramp is how the guidance weight grows over the steps: RampFlexVAR
	// (the default, also "") or RampLinear (see Weight).
	Ramp string
	// Greedy is which scales are decoded greedily (top-1) whatever TopK,
	// TopP and Temperature say: GreedyFlexVAR (the default, also "") or
	// GreedyNever (see GreedyAt).
	Greedy string
	// Batch is the most images drawn at once (0: DefaultBatch). More
	// labels are drawn in parts of Batch images, each draw taken from
	// the place the whole batch would give it in the random stream, so
	// that memory grows with Batch rather than with the labels.
	Batch int
}

// DefaultBatch is the most images Generate draws at once unless
// Options.Batch says otherwise. Every scale's logits, [2·B, s², vocab]
// with guidance, are the largest tensors of a step: drawing 100 images of
// the demo's model at once peaked at 1.7 GB (1,000 would need about 17),
// most of it pages the kernel had to fault in and zero, which took half
// as much processor time as the sampling itself; in parts of 16 the peak
// was 0.35 GB and the kernel's time a ninth of the user time, and parts of
// 8 saved no more.
const DefaultBatch = 16

// The guidance ramps and greedy-decoding rules of Options.
const (
	// RampFlexVAR is FlexVAR's sampler: t = CFG·k/min(n−1, 9) at step k of
	// n, so that t passes CFG after the tenth scale, and t = CFG at scales
	// beyond the model's largest trained one.
	RampFlexVAR = "flexvar"
	// RampLinear is t = CFG·k/(n−1): 0 at the first scale, CFG at the last.
	RampLinear = "linear"
	// GreedyFlexVAR decodes greedily every scale the model's training did
	// not favour, as FlexVAR's sampler does: scales outside FlexVAR's list
	// {1, 2, 3, 4, 5, 6, 8, 10, 13, 16, 23, 24, 32} and outside the VAR
	// list of the model's largest scale (schedule.VARList), and scales
	// beyond the largest.
	GreedyFlexVAR = "flexvar"
	// GreedyNever samples every scale with TopK and TopP.
	GreedyNever = "never"
)

// flexVARScales are the scales FlexVAR's sampler does not decode greedily
// (when no larger than the largest trained scale).
var flexVARScales = []int{1, 2, 3, 4, 5, 6, 8, 10, 13, 16, 23, 24, 32}

// Weight is the guidance weight t of step k (scale s) of an n-scale
// schedule for a model whose largest trained scale is largest, under
// o.Ramp. A one-scale schedule has t = CFG.
func (o Options) Weight(k, n, s, largest int) float32 {
	if o.Ramp == RampLinear {
		return Guidance(o.CFG, k, n)
	}
	if s > largest {
		return o.CFG
	}
	if n <= 1 {
		return o.CFG
	}
	return o.CFG * float32(k) / float32(min(n-1, 9))
}

// GreedyAt reports whether scale s is decoded greedily under o.Greedy for
// a model whose largest trained scale is largest.
func (o Options) GreedyAt(s, largest int) bool {
	if o.Greedy == GreedyNever {
		return false
	}
	return s > largest || !(slices.Contains(flexVARScales, s) || slices.Contains(schedule.VARList(largest), s))
}

// Start gives the first len(Z) scales of the schedule instead of
// generating them, for example from a real image (tokenizer.Tokenize):
// Z[k] [B, CVae, s_k, s_k] and IDs[k] [B, s_k²] (IDs may be nil; then the
// result's ids of those scales are nil).
type Start struct {
	Z   []*tensor.Tensor
	IDs []*tensor.Tensor
}

// Result is a generation: the decoded last scale and every scale's ids
// and normalised latents. Its tensors belong to the scope open when
// Generate was called, or, when none was, to the Result: Release frees
// them.
type Result struct {
	Images *tensor.Tensor   // [B, C, H, W], values about [-1, 1]
	IDs    []*tensor.Tensor // per scale [B, s_k²]
	Z      []*tensor.Tensor // per scale [B, CVae, s_k, s_k]
}

// Release frees the result's tensors.
func (r *Result) Release() {
	r.Images.Release()
	for k := range r.IDs {
		r.IDs[k].Release()
		r.Z[k].Release()
	}
}

// Guidance is RampLinear's CFG weight of step k of n: CFG·k/(n−1) from 0
// at the first scale to CFG at the last (CFG for a one-scale schedule).
func Guidance(cfg float32, k, n int) float32 {
	if n <= 1 {
		return cfg
	}
	return cfg * float32(k) / float32(n-1)
}

// Generate samples one image per label (a class id, or NumClasses for an
// unconditional sample) with the model's KV cache, one step per scale.
// With CFG > 0 the batch is doubled with null labels and the logits of
// step k are mixed as (1+t)·cond − t·uncond, t = opt.Weight. Step k draws
// with tensor.Sample at stream offset Σ_{j<k} B·s_j² (top-1 at the scales
// opt.GreedyAt names), so a seed gives the same images on every backend.
// A batch larger than opt.Batch is drawn in parts, image i of the batch
// still drawing from offset Σ_{j<k} B·s_j² + i·s_k².
// The model is used in evaluation mode and left in the mode it was in.
// Only the Result outlives the call.
func Generate(m *sar.Model, vq *tokenizer.VQ, labels []int, opt Options, start *Start) (*Result, error) {
	if err := check(m, vq, labels, opt, start); err != nil {
		return nil, err
	}
	defer m.SetTrain(m.Training())
	m.SetTrain(false)
	per := opt.Batch
	if per <= 0 {
		per = DefaultBatch
	}
	if len(labels) <= per {
		return generate(m, vq, labels, opt, start, 0, len(labels)), nil
	}
	gs := tensor.NewScope(vq.Device())
	defer gs.Close()
	var parts []*Result
	for i0 := 0; i0 < len(labels); i0 += per {
		i1 := min(i0+per, len(labels))
		parts = append(parts, generate(m, vq, labels[i0:i1], opt, start.narrow(i0, i1), i0, len(labels)))
	}
	res := joinResults(parts)
	gs.Keep(res.Images)
	gs.Keep(res.IDs...)
	gs.Keep(res.Z...)
	return res, nil
}

// narrow is the start of images [i0, i1), nil for a nil Start.
func (s *Start) narrow(i0, i1 int) *Start {
	if s == nil {
		return nil
	}
	part := &Start{Z: make([]*tensor.Tensor, len(s.Z)), IDs: make([]*tensor.Tensor, len(s.IDs))}
	for k, z := range s.Z {
		part.Z[k] = z.Narrow(0, i0, i1-i0)
	}
	for k, ids := range s.IDs {
		if ids != nil {
			part.IDs[k] = ids.Narrow(0, i0, i1-i0)
		}
	}
	return part
}

// joinResults concatenates the parts' images, ids and latents along the
// batch (nil ids stay nil).
func joinResults(parts []*Result) *Result {
	cat := func(pick func(*Result) *tensor.Tensor) *tensor.Tensor {
		ts := make([]*tensor.Tensor, len(parts))
		for i, p := range parts {
			if ts[i] = pick(p); ts[i] == nil {
				return nil
			}
		}
		return tensor.Concat(0, ts...)
	}
	n := len(parts[0].IDs)
	res := &Result{Images: cat(func(p *Result) *tensor.Tensor { return p.Images }),
		IDs: make([]*tensor.Tensor, n), Z: make([]*tensor.Tensor, n)}
	for k := range n {
		res.IDs[k] = cat(func(p *Result) *tensor.Tensor { return p.IDs[k] })
		res.Z[k] = cat(func(p *Result) *tensor.Tensor { return p.Z[k] })
	}
	return res
}

// generate is Generate for the images [first, first+len(labels)) of a
// batch of total, drawn all at once.
func generate(m *sar.Model, vq *tokenizer.VQ, labels []int, opt Options, start *Start, first, total int) *Result {
	dev := vq.Device()
	gs := tensor.NewScope(dev)
	defer gs.Close()
	sc := opt.Schedule
	b := len(labels)
	guided := opt.CFG != 0
	lab := labelTensor(dev, labels, m.Cfg.NumClasses, guided)

	res := &Result{IDs: make([]*tensor.Tensor, len(sc)), Z: make([]*tensor.Tensor, len(sc))}
	cache := m.NewCache()
	defer cache.Reset()
	var input *tensor.Tensor
	var offset uint64 // stream elements used by earlier steps
	for k, s := range sc {
		ks := tensor.NewScope(dev) // one scale: only its ids, latent and the next input outlive it
		logits := m.Step(cache, lab, sc, k, input)
		if start != nil && k < len(start.Z) {
			res.Z[k] = start.Z[k].Clone()
			if k < len(start.IDs) && start.IDs[k] != nil {
				res.IDs[k] = start.IDs[k].Clone()
			}
		} else {
			mixed := mix(logits, b, opt.Weight(k, len(sc), s, m.Cfg.Largest), guided)
			topK := opt.TopK
			if opt.GreedyAt(s, m.Cfg.Largest) {
				topK = 1
			}
			res.IDs[k] = tensor.Sample(mixed, topK, opt.TopP, opt.Temperature, opt.Seed, offset+uint64(first*s*s))
			res.Z[k] = vq.Embed(res.IDs[k], s)
		}
		offset += uint64(total * s * s)
		input.Release() // the previous scale's
		input = nil
		if k+1 < len(sc) {
			input = nextInput(res.Z[k], sc[k+1], guided)
		}
		ks.Keep(res.IDs[k], res.Z[k], input)
		ks.Close()
	}
	cache.Reset() // the keys and values are not needed to decode
	res.Images = vq.Decode(nil, autograd.Const(res.Z[len(sc)-1])).Value
	gs.Keep(res.Images)
	gs.Keep(res.IDs...)
	gs.Keep(res.Z...)
	return res
}

// check validates Generate's arguments.
func check(m *sar.Model, vq *tokenizer.VQ, labels []int, opt Options, start *Start) error {
	switch {
	case m == nil || vq == nil:
		return errors.New("generate: nil model or tokenizer")
	case len(labels) == 0:
		return errors.New("generate: no labels")
	case m.Cfg.Vocab != vq.Cfg.Codebook || m.Cfg.CVae != vq.Cfg.CVae:
		return fmt.Errorf("generate: model (vocab %d, CVae %d) does not fit the tokenizer (codebook %d, CVae %d)",
			m.Cfg.Vocab, m.Cfg.CVae, vq.Cfg.Codebook, vq.Cfg.CVae)
	case opt.TopK < 0 || opt.TopK > m.Cfg.Vocab:
		return fmt.Errorf("generate: top-k %d outside [0, %d]", opt.TopK, m.Cfg.Vocab)
	case opt.TopP < 0 || opt.TopP > 1:
		return fmt.Errorf("generate: top-p %g outside [0, 1]", opt.TopP)
	case opt.Temperature < 0:
		return fmt.Errorf("generate: negative temperature %g", opt.Temperature)
	case opt.CFG < 0:
		return fmt.Errorf("generate: negative CFG %g", opt.CFG)
	case opt.Ramp != "" && opt.Ramp != RampFlexVAR && opt.Ramp != RampLinear:
		return fmt.Errorf("generate: CFG ramp %q: want %s or %s", opt.Ramp, RampFlexVAR, RampLinear)
	case opt.Greedy != "" && opt.Greedy != GreedyFlexVAR && opt.Greedy != GreedyNever:
		return fmt.Errorf("generate: greedy rule %q: want %s or %s", opt.Greedy, GreedyFlexVAR, GreedyNever)
	}
	if err := opt.Schedule.Validate(vq.Cfg.Latent()); err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	for i, l := range labels {
		if l < 0 || l > m.Cfg.NumClasses {
			return fmt.Errorf("generate: label %d (#%d) outside [0, %d] (%d is the null class)", l, i, m.Cfg.NumClasses, m.Cfg.NumClasses)
		}
	}
	if start == nil {
		return nil
	}
	if len(start.Z) > len(opt.Schedule) {
		return fmt.Errorf("generate: %d given scales for schedule %s", len(start.Z), opt.Schedule)
	}
	for k, z := range start.Z {
		s := opt.Schedule[k]
		if sh := z.Shape(); len(sh) != 4 || sh[0] != len(labels) || sh[1] != m.Cfg.CVae || sh[2] != s || sh[3] != s {
			return fmt.Errorf("generate: given latent %d is %v, want [%d, %d, %d, %d]", k, sh, len(labels), m.Cfg.CVae, s, s)
		}
		if k < len(start.IDs) && start.IDs[k] != nil {
			if sh := start.IDs[k].Shape(); len(sh) != 2 || sh[0] != len(labels) || sh[1] != s*s {
				return fmt.Errorf("generate: given ids %d are %v, want [%d, %d]", k, sh, len(labels), s*s)
			}
		}
	}
	return nil
}

// labelTensor holds the labels, followed by as many null labels when
// guided.
func labelTensor(dev tensor.Backend, labels []int, null int, guided bool) *tensor.Tensor {
	n := len(labels)
	if guided {
		n *= 2
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(null)
	}
	for i, l := range labels {
		v[i] = float32(l)
	}
	return tensor.FromSlice(dev, v, n)
}

// mix returns the logits to sample from: the conditional half mixed with
// the unconditional one as (1+t)·cond − t·uncond when guided, else the
// logits themselves (a view).
func mix(logits *tensor.Tensor, b int, t float32, guided bool) *tensor.Tensor {
	if !guided {
		return logits.Narrow(0, 0, b)
	}
	cond, uncond := logits.Narrow(0, 0, b), logits.Narrow(0, b, b)
	c, u := tensor.Scale(cond, 1+t), tensor.Scale(uncond, t)
	out := tensor.Sub(c, u)
	c.Release() // logit-sized temporaries that would otherwise live until the scale's scope closes
	u.Release()
	return out
}

// nextInput is the next scale's input from this scale's latent: the
// upsampled tokens (sar.UpsampleTokens), repeated for the unconditional
// half when guided.
func nextInput(z *tensor.Tensor, s int, guided bool) *tensor.Tensor {
	x := sar.UpsampleTokens(z, s)
	if !guided {
		return x
	}
	return tensor.Concat(0, x, x)
}
