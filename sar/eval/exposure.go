package eval

import (
	"errors"
	"fmt"
	"math"

	"sargo/autograd"
	"sargo/sar"
	"sargo/sar/data"
	"sargo/sar/schedule"
	"sargo/sar/tokenizer"
	"sargo/sar/train"
	"sargo/tensor"
)

// ExposureOptions control ExposureBias.
type ExposureOptions struct {
	// Images is the number of test images (the first of the split), run
	// in batches of Batch.
	Images, Batch int
	// Schedule is the schedule measured (default: the VAR-like list of the
	// tokenizer's latent).
	Schedule schedule.Schedule
	// Teacher, CFG, TopK and TopP turn the model's logits into its own
	// predictions, as SAR's teacher does (train.Teacher): "sample" with
	// the authors' CFG ramp, top-k and top-p, or "argmax". Seed keys the
	// draws.
	Teacher string
	CFG     float32
	TopK    int
	TopP    float32
	Seed    uint64
}

// DefaultExposureOptions measure 1,000 test images with the predictions of
// SAR's default teacher (sampling with CFG 1.2, top-k 900, top-p 0.96).
func DefaultExposureOptions() ExposureOptions {
	t := train.DefaultConfig()
	return ExposureOptions{Images: 1000, Batch: 100, Teacher: t.Teacher, CFG: t.TeacherCFG, TopK: t.TeacherTopK, TopP: t.TeacherTopP}
}

// Exposure is the exposure bias of a model measured directly: its
// cross-entropy (nats per token) against the ground-truth ids of held-out
// images at every scale of a schedule, given three kinds of inputs to
// every scale after the first, each over the full block-causal context:
//
//	GT       the ground-truth latents of the scale before (teacher
//	         forcing, what training shows the model);
//	SSR      the model's own one-step rollout: its prediction at the
//	         scale before from a teacher-forcing pass (SAR's student
//	         inputs);
//	Chained  its chained rollout: every scale generated from its own
//	         earlier predictions (naive student forcing's inputs, and
//	         inference).
//
// GapSSR = SSR − GT and GapChained = Chained − GT per scale are the
// exposure bias; SE* are their standard errors over images (the gaps are
// paired per image). The first scale has no input, so its gaps are 0, and
// the second scale's SSR and chained inputs are the same prediction. The
// Mean* fields weigh the scales by their tokens, as the training loss
// does.
type Exposure struct {
	Schedule     string    `json:"schedule"`
	Images       int       `json:"images"`
	Predictions  string    `json:"predictions"`
	Scales       []int     `json:"scales"`
	GT           []float64 `json:"ce_gt"`
	SSR          []float64 `json:"ce_ssr"`
	Chained      []float64 `json:"ce_chained"`
	GapSSR       []float64 `json:"gap_ssr"`
	GapChained   []float64 `json:"gap_chained"`
	SEGapSSR     []float64 `json:"se_gap_ssr"`
	SEGapChained []float64 `json:"se_gap_chained"`

	MeanGT           float64 `json:"mean_ce_gt"`
	MeanSSR          float64 `json:"mean_ce_ssr"`
	MeanChained      float64 `json:"mean_ce_chained"`
	MeanGapSSR       float64 `json:"mean_gap_ssr"`
	MeanGapChained   float64 `json:"mean_gap_chained"`
	SEMeanGapSSR     float64 `json:"se_mean_gap_ssr"`
	SEMeanGapChained float64 `json:"se_mean_gap_chained"`
}

// exposureRuns are the three kinds of inputs, in Exposure's order.
const exposureRuns = 3

// ExposureBias measures the exposure bias of m on the first opt.Images
// images of test (see Exposure). Predictions at scale k of a batch draw
// from the Philox stream of opt.Seed at offset (batch start + k's token
// offset)·batch size, the same for the one-step and the chained rollout,
// so the two share their prediction at the first scale. The model is used
// in evaluation mode and left in the mode it was in.
func ExposureBias(m *sar.Model, vq *tokenizer.VQ, test *data.Dataset, opt ExposureOptions) (*Exposure, error) {
	if m == nil || vq == nil || test == nil {
		return nil, errors.New("exposure bias: nil model, tokenizer or data")
	}
	if opt.Images < 1 || opt.Batch < 1 {
		return nil, fmt.Errorf("exposure bias: %d images in batches of %d: want positive values", opt.Images, opt.Batch)
	}
	if m.Cfg.Vocab != vq.Cfg.Codebook || m.Cfg.CVae != vq.Cfg.CVae {
		return nil, fmt.Errorf("exposure bias: model (vocab %d, CVae %d) does not fit the tokenizer (codebook %d, CVae %d)",
			m.Cfg.Vocab, m.Cfg.CVae, vq.Cfg.Codebook, vq.Cfg.CVae)
	}
	if test.C != vq.Cfg.ImageChannels || test.H != vq.Cfg.ImageSize || test.W != vq.Cfg.ImageSize {
		return nil, fmt.Errorf("exposure bias: test images %s are %dx%dx%d, the tokenizer wants %dx%dx%d",
			test.Name, test.C, test.H, test.W, vq.Cfg.ImageChannels, vq.Cfg.ImageSize, vq.Cfg.ImageSize)
	}
	sc := opt.Schedule
	if len(sc) == 0 {
		sc = schedule.VARList(vq.Cfg.Latent())
	}
	if err := sc.Validate(min(vq.Cfg.Latent(), 2*m.Cfg.Largest)); err != nil {
		return nil, fmt.Errorf("exposure bias: %w", err)
	}
	tc := train.DefaultConfig()
	tc.Teacher, tc.TeacherCFG, tc.TeacherTopK, tc.TeacherTopP, tc.Seed = opt.Teacher, opt.CFG, opt.TopK, opt.TopP, opt.Seed
	if err := tc.Validate(); err != nil {
		return nil, fmt.Errorf("exposure bias: predictions: %w", err)
	}
	teacher := train.NewTeacher(tc)
	n := min(opt.Images, test.Len())
	defer m.SetTrain(m.Training())
	m.SetTrain(false)

	// perImage[r][i][k] is run r's mean cross-entropy of image i at scale k.
	var perImage [exposureRuns][][]float64
	for lo := 0; lo < n; lo += opt.Batch {
		hi := min(lo+opt.Batch, n)
		ce, err := exposureBatch(m, vq, test, lo, hi, sc, teacher)
		if err != nil {
			return nil, fmt.Errorf("exposure bias: images %d to %d: %w", lo, hi, err)
		}
		for r := range exposureRuns {
			perImage[r] = append(perImage[r], ce[r]...)
		}
	}
	desc := "argmax"
	if opt.Teacher == train.TeacherSample {
		desc = fmt.Sprintf("sample (CFG %g ramp, top-k %d, top-p %g)", opt.CFG, opt.TopK, opt.TopP)
		if !teacher.Guided() {
			desc = fmt.Sprintf("sample (top-k %d, top-p %g)", opt.TopK, opt.TopP)
		}
	}
	return summarise(sc, perImage, desc), nil
}

// exposureBatch returns, for images [lo, hi) of test, every run's mean
// cross-entropy per image and scale: [run][image][scale]. What it makes on
// the device is freed before it returns.
func exposureBatch(m *sar.Model, vq *tokenizer.VQ, test *data.Dataset, lo, hi int, sc schedule.Schedule, teacher train.Teacher) ([exposureRuns][][]float64, error) {
	var out [exposureRuns][][]float64
	b := hi - lo
	dev := vq.Device()
	s := tensor.NewScope(dev)
	defer s.Close()
	x, ys := imageRange(dev, test, lo, hi)
	ids, z := vq.Tokenize(x, sc)
	target := tensor.Concat(1, ids...)

	guided := teacher.Guided()
	labels, both := exposureLabels(dev, ys, m.Cfg.NumClasses, guided)
	n := len(sc)
	offs := sc.Offsets()
	base := uint64(lo) * uint64(sc.Tokens())
	offset := func(k int) uint64 { return base + uint64(offs[k]*b) }

	// (a) Teacher forcing, on the doubled batch when the predictions are
	// guided; the conditional half is scored.
	var gtIn *tensor.Tensor
	if n > 1 {
		gtIn = sar.NextScaleInputs(z, sc)
		if guided {
			gtIn = tensor.Concat(0, gtIn, gtIn)
		}
	}
	tf := m.Forward(nil, both, sc, constOrNil(gtIn)).Value
	cond := tf.Narrow(0, 0, b)
	var err error
	if out[0], err = scaleCE(cond, target, sc); err != nil {
		return out, err
	}

	// (b) The one-step rollout: every scale's input from the teacher-forced
	// prediction at the scale before.
	if n == 1 {
		out[1], out[2] = out[0], out[0]
		return out, nil
	}
	var uncond *tensor.Tensor
	if guided {
		uncond = tf.Narrow(0, b, b)
	}
	parts := make([]*tensor.Tensor, 0, n-1)
	for k := 0; k < n-1; k++ {
		ks := tensor.NewScope(dev) // only the next scale's input outlives it
		c := cond.Narrow(1, offs[k], sc[k]*sc[k])
		var u *tensor.Tensor
		if guided {
			u = uncond.Narrow(1, offs[k], sc[k]*sc[k])
		}
		part := nextTokens(vq, teacher.IDs(c, u, k, n, offset(k)), sc[k], sc[k+1])
		ks.Keep(part)
		ks.Close()
		parts = append(parts, part)
	}
	ssr := m.Forward(nil, labels, sc, autograd.Const(tensor.Concat(1, parts...))).Value
	if out[1], err = scaleCE(ssr, target, sc); err != nil {
		return out, err
	}

	// (c) The chained rollout, one cached step per scale as in sampling.
	cache := m.NewCache()
	defer cache.Reset()
	chained := make([]*tensor.Tensor, n)
	var in *tensor.Tensor
	for k := range n {
		ks := tensor.NewScope(dev) // only the scale's logits and the next input outlive it
		logits := m.Step(cache, both, sc, k, in)
		c := logits.Narrow(0, 0, b)
		chained[k] = c.Contiguous()
		in = nil
		if k+1 < n {
			var u *tensor.Tensor
			if guided {
				u = logits.Narrow(0, b, b)
			}
			in = nextTokens(vq, teacher.IDs(c, u, k, n, offset(k)), sc[k], sc[k+1])
			if guided {
				in = tensor.Concat(0, in, in)
			}
		}
		ks.Keep(chained[k], in)
		ks.Close()
	}
	out[2], err = scaleCE(tensor.Concat(1, chained...), target, sc)
	return out, err
}

// exposureLabels are the class labels of a batch, and the labels of the
// forward passes: followed by as many null labels when guided.
func exposureLabels(dev tensor.Backend, ys []int, null int, guided bool) (labels, both *tensor.Tensor) {
	v := make([]float32, len(ys))
	for i, y := range ys {
		v[i] = float32(y)
	}
	labels = tensor.FromSlice(dev, v, len(v))
	if !guided {
		return labels, labels.Clone()
	}
	w := append(append([]float32(nil), v...), make([]float32, len(v))...)
	for i := len(v); i < len(w); i++ {
		w[i] = float32(null)
	}
	return labels, tensor.FromSlice(dev, w, len(w))
}

// nextTokens is the next scale's input from ids of scale s: their
// normalised codebook vectors, bicubically resized to t and flattened
// token-major.
func nextTokens(vq *tokenizer.VQ, ids *tensor.Tensor, s, t int) *tensor.Tensor {
	return sar.UpsampleTokens(vq.Embed(ids, s), t)
}

// constOrNil wraps t as a constant, or returns nil for nil.
func constOrNil(t *tensor.Tensor) *autograd.Var {
	if t == nil {
		return nil
	}
	return autograd.Const(t)
}

// scaleCE returns the mean cross-entropy of logits [B, L, V] against
// target [B, L] per image and scale, in the caller's scope.
func scaleCE(logits, target *tensor.Tensor, sc schedule.Schedule) ([][]float64, error) {
	b, l, v := logits.Dim(0), logits.Dim(1), logits.Dim(2)
	rows, _ := tensor.CrossEntropy(logits.Reshape(b*l, v), target.Reshape(b*l), autograd.IgnoreIndex, 0)
	ce, err := rows.Read()
	if err != nil {
		return nil, fmt.Errorf("read cross-entropies: %w", err)
	}
	offs := sc.Offsets()
	out := make([][]float64, b)
	for i := range b {
		out[i] = make([]float64, len(sc))
		for k := range sc {
			s := 0.0
			for j := offs[k]; j < offs[k+1]; j++ {
				s += float64(ce[i*l+j])
			}
			out[i][k] = s / float64(offs[k+1]-offs[k])
		}
	}
	return out, nil
}

// summarise turns per-image cross-entropies into an Exposure.
func summarise(sc schedule.Schedule, per [exposureRuns][][]float64, desc string) *Exposure {
	n, ns := len(per[0]), len(sc)
	e := &Exposure{Schedule: sc.String(), Images: n, Predictions: desc, Scales: append([]int(nil), sc...)}
	col := func(r, k int) []float64 {
		v := make([]float64, n)
		for i := range n {
			v[i] = per[r][i][k]
		}
		return v
	}
	// weighted is run r's token-weighted mean over the schedule per image.
	weighted := func(r int) []float64 {
		v := make([]float64, n)
		for i := range n {
			for k, s := range sc {
				v[i] += per[r][i][k] * float64(s*s)
			}
			v[i] /= float64(sc.Tokens())
		}
		return v
	}
	diff := func(a, b []float64) []float64 {
		d := make([]float64, len(a))
		for i := range a {
			d[i] = a[i] - b[i]
		}
		return d
	}
	for k := range ns {
		gt, ssr, ch := col(0, k), col(1, k), col(2, k)
		e.GT, e.SSR, e.Chained = append(e.GT, mean(gt)), append(e.SSR, mean(ssr)), append(e.Chained, mean(ch))
		gs, gc := diff(ssr, gt), diff(ch, gt)
		e.GapSSR, e.GapChained = append(e.GapSSR, mean(gs)), append(e.GapChained, mean(gc))
		e.SEGapSSR, e.SEGapChained = append(e.SEGapSSR, stdErr(gs)), append(e.SEGapChained, stdErr(gc))
	}
	gt, ssr, ch := weighted(0), weighted(1), weighted(2)
	e.MeanGT, e.MeanSSR, e.MeanChained = mean(gt), mean(ssr), mean(ch)
	e.MeanGapSSR, e.MeanGapChained = mean(diff(ssr, gt)), mean(diff(ch, gt))
	e.SEMeanGapSSR, e.SEMeanGapChained = stdErr(diff(ssr, gt)), stdErr(diff(ch, gt))
	return e
}

func mean(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// stdErr is the standard error of v's mean (0 for fewer than two values).
func stdErr(v []float64) float64 {
	if len(v) < 2 {
		return 0
	}
	m := mean(v)
	s := 0.0
	for _, x := range v {
		s += (x - m) * (x - m)
	}
	return math.Sqrt(s / float64(len(v)-1) / float64(len(v)))
}

// HeldOutLoss is the teacher-forcing cross-entropy (nats per token) of m
// on the first n images of test over schedule sc (default: the VAR-like
// list of the latent), with the images' labels and no condition dropout:
// the held-out loss of a training run. It equals ExposureBias's MeanGT.
func HeldOutLoss(m *sar.Model, vq *tokenizer.VQ, test *data.Dataset, n, batch int, sc schedule.Schedule) (float64, error) {
	if n < 1 || batch < 1 {
		return 0, fmt.Errorf("held-out loss: %d images in batches of %d: want positive values", n, batch)
	}
	if len(sc) == 0 {
		sc = schedule.VARList(vq.Cfg.Latent())
	}
	n = min(n, test.Len())
	defer m.SetTrain(m.Training())
	m.SetTrain(false)
	total := 0.0
	for lo := 0; lo < n; lo += batch {
		ce, err := heldOutBatch(m, vq, test, lo, min(lo+batch, n), sc)
		if err != nil {
			return 0, fmt.Errorf("held-out loss: %w", err)
		}
		for _, img := range ce {
			for k, s := range sc {
				total += img[k] * float64(s*s)
			}
		}
	}
	return total / float64(n*sc.Tokens()), nil
}

// heldOutBatch is scaleCE of the teacher-forcing pass over images [lo, hi)
// of test; what it makes on the device is freed before it returns.
func heldOutBatch(m *sar.Model, vq *tokenizer.VQ, test *data.Dataset, lo, hi int, sc schedule.Schedule) ([][]float64, error) {
	dev := vq.Device()
	s := tensor.NewScope(dev)
	defer s.Close()
	x, ys := imageRange(dev, test, lo, hi)
	ids, z := vq.Tokenize(x, sc)
	labels, _ := exposureLabels(dev, ys, m.Cfg.NumClasses, false)
	logits := m.Forward(nil, labels, sc, constOrNil(sar.NextScaleInputs(z, sc))).Value
	return scaleCE(logits, tensor.Concat(1, ids...), sc)
}
