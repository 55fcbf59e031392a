package viz

import (
	"fmt"
	"math"
	"strings"

	"sargo/autograd"
	"sargo/sar"
	"sargo/sar/schedule"
	"sargo/sar/tokenizer"
	"sargo/tensor"
)

// The student-forcing rollouts SFInputs compares.
const (
	// RolloutSSR is SAR's Stagger-Scale Rollout: every student input is
	// the teacher's prediction at the scale before, upsampled; the
	// student pass runs over the first scale and the rolled-out scales.
	RolloutSSR = "ssr"
	// RolloutChained is naive student forcing as in the seed's Figure 5:
	// the first student input is the teacher's prediction, every later
	// one the student's own previous prediction.
	RolloutChained = "chained"
)

// SFResult is what SFInputs measured: for the predicted scales, the mean
// over images, channels and positions of |f_i − f̂_i^S| under each
// rollout.
type SFResult struct {
	Scales      []int
	MeanSSR     []float64
	MeanChained []float64
}

// sfTrace is one rollout's inputs and predictions at the figure's scales,
// as latents [B, CVae, s, s].
type sfTrace struct {
	inputs, preds []*tensor.Tensor
}

// predIDs is the argmax ids [B, s²] of scale k of logits [B, L, V].
func predIDs(logits *tensor.Tensor, sc schedule.Schedule, k int) *tensor.Tensor {
	off := sc.Offsets()
	return tensor.Argmax(logits.Narrow(1, off[k], sc[k]*sc[k]), 2, false)
}

// upLatent resizes a latent [B, CVae, h, h] bicubically to s×s.
func upLatent(z *tensor.Tensor, s int) *tensor.Tensor {
	return tensor.Interpolate(z, s, s, tensor.InterpBicubic)
}

// SFInputs visualises student forcing during training on real images x
// with labels (the seed's Figure 5) for the last three scales of sc (two
// consecutive student-forcing steps after the first shifted input): for
// every image, rows of ground truth f_i, the teacher-forcing input
// up(f_{i−1}), the student input, the student prediction f̂_i^S and the
// difference map |f_i − f̂_i^S| (mean over channels; white is the largest
// difference of the figure), latents decoded to pixels. mode picks the
// rollout drawn (RolloutChained or RolloutSSR); both are measured.
func SFInputs(path string, m *sar.Model, vq *tokenizer.VQ, x *tensor.Tensor, labels []int, sc schedule.Schedule, mode string, scale int) (*SFResult, error) {
	n := len(sc)
	if n < 4 {
		return nil, fmt.Errorf("sf inputs: schedule %s has %d scales, want at least 4", sc, n)
	}
	if mode != RolloutChained && mode != RolloutSSR {
		return nil, fmt.Errorf("sf inputs: rollout %q, want %s or %s", mode, RolloutChained, RolloutSSR)
	}
	defer m.SetTrain(m.Training())
	m.SetTrain(false)
	dev := vq.Device()
	s := tensor.NewScope(dev) // everything the figure computes
	defer s.Close()
	b := x.Dim(0)
	lf := make([]float32, b)
	for i, l := range labels {
		lf[i] = float32(l)
	}
	lab := tensor.FromSlice(dev, lf, b)
	_, z := vq.Tokenize(x, sc)
	cols := []int{n - 3, n - 2, n - 1}

	// Teacher forcing: predictions at the scales before the columns.
	tl := m.Forward(nil, lab, sc, autograd.Const(sar.NextScaleInputs(z, sc))).Value
	teacher := map[int]*tensor.Tensor{}
	for _, j := range cols {
		teacher[j-1] = vq.Embed(predIDs(tl, sc, j-1), sc[j-1])
	}

	ssr := rollSSR(m, vq, lab, sc, cols, teacher)
	chained := rollChained(m, vq, lab, sc, z, cols, teacher)

	res := &SFResult{}
	diffs := map[string][][]float64{} // rollout → column → map B·s² (mean over channels)
	for _, r := range []struct {
		name string
		tr   *sfTrace
		out  *[]float64
	}{{RolloutSSR, ssr, &res.MeanSSR}, {RolloutChained, chained, &res.MeanChained}} {
		for c, j := range cols {
			d, mean, err := absDiff(z[j], r.tr.preds[c])
			if err != nil {
				return nil, fmt.Errorf("sf inputs: %w", err)
			}
			diffs[r.name] = append(diffs[r.name], d)
			*r.out = append(*r.out, mean)
		}
	}
	for _, j := range cols {
		res.Scales = append(res.Scales, sc[j])
	}
	tr := ssr
	if mode == RolloutChained {
		tr = chained
	}
	if err := drawSF(path, vq, x, z, sc, cols, tr, diffs[mode], scale); err != nil {
		return nil, err
	}
	return res, nil
}

// rollSSR runs SAR's student pass over [s_0] + the column scales with
// inputs up(f̂^T_{j−1}), its first token the class embedding alone as in
// training (sar.Model.ForwardStudent).
func rollSSR(m *sar.Model, vq *tokenizer.VQ, lab *tensor.Tensor, sc schedule.Schedule, cols []int, teacher map[int]*tensor.Tensor) *sfTrace {
	tr := &sfTrace{}
	plan := schedule.Schedule{sc[0]}
	var toks []*tensor.Tensor
	for _, j := range cols {
		plan = append(plan, sc[j])
		tr.inputs = append(tr.inputs, upLatent(teacher[j-1], sc[j]))
		toks = append(toks, sar.UpsampleTokens(teacher[j-1], sc[j]))
	}
	logits := m.ForwardStudent(nil, lab, plan, autograd.Const(tensor.Concat(1, toks...))).Value
	for k := range cols {
		tr.preds = append(tr.preds, vq.Embed(predIDs(logits, plan, k+1), plan[k+1]))
	}
	return tr
}

// rollChained runs naive student forcing over the full schedule: ground
// truth before the first column, the teacher's prediction into the first
// column, then the student's own predictions.
func rollChained(m *sar.Model, vq *tokenizer.VQ, lab *tensor.Tensor, sc schedule.Schedule, z []*tensor.Tensor, cols []int, teacher map[int]*tensor.Tensor) *sfTrace {
	tr := &sfTrace{}
	src := append([]*tensor.Tensor{}, z...)
	for c, j := range cols {
		if c == 0 {
			src[j-1] = teacher[j-1]
		} else {
			src[j-1] = tr.preds[c-1]
		}
		tr.inputs = append(tr.inputs, upLatent(src[j-1], sc[j]))
		logits := m.Forward(nil, lab, sc[:j+1], autograd.Const(sar.NextScaleInputs(src, sc[:j+1]))).Value
		tr.preds = append(tr.preds, vq.Embed(predIDs(logits, sc[:j+1], j), sc[j]))
	}
	return tr
}

// absDiff is |a − b| averaged over channels, per image and position
// ([B·s²] on the host), and its overall mean.
func absDiff(a, b *tensor.Tensor) ([]float64, float64, error) {
	ad, err := a.Read()
	if err != nil {
		return nil, 0, err
	}
	bd, err := b.Read()
	if err != nil {
		return nil, 0, err
	}
	sh := a.Shape()
	nb, c, hw := sh[0], sh[1], sh[2]*sh[3]
	out := make([]float64, nb*hw)
	var total float64
	for i := range nb {
		for ch := range c {
			for p := range hw {
				k := (i*c+ch)*hw + p
				v := math.Abs(float64(ad[k] - bd[k]))
				out[i*hw+p] += v / float64(c)
				total += v
			}
		}
	}
	return out, total / float64(len(ad)), nil
}

// drawSF lays out the five rows per image.
func drawSF(path string, vq *tokenizer.VQ, x *tensor.Tensor, z []*tensor.Tensor, sc schedule.Schedule, cols []int, tr *sfTrace, diffs [][]float64, scale int) error {
	sh := x.Shape()
	b, c, h, w := sh[0], sh[1], sh[2], sh[3]
	decode := func(t *tensor.Tensor) ([][]float32, error) {
		s := tensor.NewScope(vq.Device())
		defer s.Close()
		return rows(vq.Decode(nil, autograd.Const(t)).Value)
	}
	type row struct {
		name string
		imgs [][][]float32 // column → image
	}
	rs := []row{{name: "GT"}, {name: "TF IN"}, {name: "SF IN"}, {name: "SF PRED"}}
	for ci, j := range cols {
		up := upLatent(z[j-1], sc[j])
		for ri, t := range []*tensor.Tensor{z[j], up, tr.inputs[ci], tr.preds[ci]} {
			d, err := decode(t)
			if err != nil {
				return fmt.Errorf("sf inputs: %w", err)
			}
			rs[ri].imgs = append(rs[ri].imgs, d)
		}
	}
	vmax := 0.0
	for _, d := range diffs {
		for _, v := range d {
			vmax = math.Max(vmax, v)
		}
	}
	g := newGrid(c, h, w, len(cols), scale)
	for i := range b {
		for _, r := range rs {
			for ci, j := range cols {
				add(g, r.imgs[ci][i], fmt.Sprintf("%s %d", r.name, sc[j]))
			}
		}
		for ci, j := range cols {
			s := sc[j]
			add(g, heat(diffs[ci][i*s*s:(i+1)*s*s], s, s, c, h, w, vmax), fmt.Sprintf("DIFF %d", s))
		}
	}
	if err := g.Save(path); err != nil {
		return fmt.Errorf("sf inputs: %w", err)
	}
	return nil
}

// Format writes the mean differences as a small table.
func (r *SFResult) Format() string {
	var b strings.Builder
	fmt.Fprintf(&b, "mean |f - f^S| at scales")
	for _, s := range r.Scales {
		fmt.Fprintf(&b, " %8d", s)
	}
	fmt.Fprintf(&b, "\n  SAR rollout (SSR)      ")
	for _, v := range r.MeanSSR {
		fmt.Fprintf(&b, " %8.4f", v)
	}
	fmt.Fprintf(&b, "\n  naive SF (chained)     ")
	for _, v := range r.MeanChained {
		fmt.Fprintf(&b, " %8.4f", v)
	}
	b.WriteString("\n")
	return b.String()
}
