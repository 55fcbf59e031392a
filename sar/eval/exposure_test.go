package eval

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/autograd"
	"sargo/sar"
	"sargo/sar/data"
	"sargo/sar/schedule"
	"sargo/sar/tokenizer"
	"sargo/sar/train"
	"sargo/tensor"
)

// matterModel is tinyModels' transformer with AdaLN gammas large enough
// for the blocks to shape the logits.
func matterModel(t *testing.T) (*sar.Model, *tokenizer.VQ) {
	m, vq := tinyModels(t)
	for _, b := range m.Blocks {
		w := b.AdaLin.Lin.Weight.Value
		s := tensor.Scale(w, 3e3)
		w.CopyFrom(s)
		s.Release()
	}
	return m, vq
}

// referenceCE is the mean cross-entropy per scale of m over the first n
// images of test when every scale's input is built by inputs from the
// ground-truth latents and the model's argmax predictions, computed with
// whole-schedule forwards and no cache.
func referenceCE(t *testing.T, m *sar.Model, vq *tokenizer.VQ, test *data.Dataset, n int, sc schedule.Schedule, chained bool) []float64 {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	xs, ys := test.Batch(idx, nil)
	x := tensor.FromSlice(cpu(t), xs, n, 1, 16, 16)
	ids, z := vq.Tokenize(x, sc)
	lv := make([]float32, n)
	for i, y := range ys {
		lv[i] = float32(y)
	}
	labels := tensor.FromSlice(cpu(t), lv, n)
	offs := sc.Offsets()
	// preds[k] are the argmax predictions of scale k that build scale k+1's input.
	preds := make([]*tensor.Tensor, len(sc))
	if chained {
		for k := 0; k < len(sc)-1; k++ {
			var in *autograd.Var
			if k > 0 {
				var parts []*tensor.Tensor
				for j := 1; j <= k; j++ {
					parts = append(parts, sar.UpsampleTokens(vq.Embed(preds[j-1], sc[j-1]), sc[j]))
				}
				in = autograd.Const(tensor.Concat(1, parts...))
			}
			logits := m.Forward(nil, labels, sc[:k+1], in).Value
			preds[k] = tensor.Argmax(logits.Narrow(1, offs[k], sc[k]*sc[k]), -1, false)
		}
	} else {
		tf := m.Forward(nil, labels, sc, autograd.Const(sar.NextScaleInputs(z, sc))).Value
		for k := range sc {
			preds[k] = tensor.Argmax(tf.Narrow(1, offs[k], sc[k]*sc[k]), -1, false)
		}
	}
	var parts []*tensor.Tensor
	for j := 1; j < len(sc); j++ {
		parts = append(parts, sar.UpsampleTokens(vq.Embed(preds[j-1], sc[j-1]), sc[j]))
	}
	logits := m.Forward(nil, labels, sc, autograd.Const(tensor.Concat(1, parts...)))
	out := make([]float64, len(sc))
	for k := range sc {
		ce := (*autograd.Graph)(nil).CrossEntropy(autograd.Const(logits.Value.Narrow(1, offs[k], sc[k]*sc[k])), ids[k], autograd.DefaultCEOptions())
		out[k] = float64(ce.Value.Item())
	}
	return out
}

func TestExposureBiasMatchesReference(t *testing.T) {
	m, vq := matterModel(t)
	test := noiseDataset(12)
	sc := schedule.Schedule{1, 2, 3, 4}
	opt := DefaultExposureOptions()
	opt.Images, opt.Batch, opt.Schedule, opt.Teacher = 12, 5, sc, train.TeacherArgmax
	e, err := ExposureBias(m, vq, test, opt)
	require.NoError(t, err)
	assert.Equal(t, 12, e.Images)
	assert.Equal(t, []int{1, 2, 3, 4}, e.Scales)
	assert.Equal(t, "argmax", e.Predictions)

	// (a) equals the teacher-forcing loss of the whole schedule.
	idx := make([]int, 12)
	for i := range idx {
		idx[i] = i
	}
	xs, ys := test.Batch(idx, nil)
	ids, z := vq.Tokenize(tensor.FromSlice(cpu(t), xs, 12, 1, 16, 16), sc)
	lv := make([]float32, 12)
	for i, y := range ys {
		lv[i] = float32(y)
	}
	logits := m.Forward(nil, tensor.FromSlice(cpu(t), lv, 12), sc, autograd.Const(sar.NextScaleInputs(z, sc)))
	tf := (*autograd.Graph)(nil).CrossEntropy(logits, tensor.Concat(1, ids...), autograd.DefaultCEOptions())
	assert.InDelta(t, float64(tf.Value.Item()), e.MeanGT, 1e-4)
	held, err := HeldOutLoss(m, vq, test, 12, 5, sc)
	require.NoError(t, err)
	assert.InDelta(t, e.MeanGT, held, 1e-6)

	// (b) and (c) equal whole-schedule forwards on the rollouts built by hand.
	ssr := referenceCE(t, m, vq, test, 12, sc, false)
	chained := referenceCE(t, m, vq, test, 12, sc, true)
	for k := range sc {
		assert.InDelta(t, ssr[k], e.SSR[k], 1e-4, "SSR scale %d", k)
		assert.InDelta(t, chained[k], e.Chained[k], 1e-4, "chained scale %d", k)
		assert.InDelta(t, e.SSR[k]-e.GT[k], e.GapSSR[k], 1e-9)
		assert.InDelta(t, e.Chained[k]-e.GT[k], e.GapChained[k], 1e-9)
	}
	// The first scale has no input; the second's two rollouts coincide.
	assert.Zero(t, e.GapSSR[0])
	assert.Zero(t, e.GapChained[0])
	assert.InDelta(t, e.SSR[1], e.Chained[1], 1e-5)
	assert.Greater(t, math.Abs(e.GapChained[3]), 1e-5, "the rollouts change the last scale's cross-entropy")
	assert.Greater(t, e.SEGapChained[3], 0.0)
}

func TestExposureBiasSampled(t *testing.T) {
	m, vq := matterModel(t)
	test := noiseDataset(10)
	opt := DefaultExposureOptions()
	opt.Images, opt.Batch, opt.TopK = 10, 4, 8
	a, err := ExposureBias(m, vq, test, opt)
	require.NoError(t, err)
	assert.Contains(t, a.Predictions, "CFG 1.2")
	assert.Equal(t, "1_2_3_4", a.Schedule)
	b, err := ExposureBias(m, vq, test, opt)
	require.NoError(t, err)
	assert.Equal(t, a, b, "the draws are a function of the seed")
	assert.InDelta(t, a.SSR[1], a.Chained[1], 1e-5, "both rollouts draw the same first prediction")
	opt.Seed = 9
	c, err := ExposureBias(m, vq, test, opt)
	require.NoError(t, err)
	assert.Equal(t, a.GT, c.GT, "ground-truth inputs draw nothing")
	assert.NotEqual(t, a.Chained, c.Chained)
}

func TestExposureBiasErrors(t *testing.T) {
	m, vq := tinyModels(t)
	test := noiseDataset(4)
	opt := DefaultExposureOptions()
	_, err := ExposureBias(m, vq, test, ExposureOptions{})
	assert.ErrorContains(t, err, "0 images")
	opt.Schedule = schedule.Schedule{1, 2, 16}
	_, err = ExposureBias(m, vq, test, opt)
	assert.ErrorContains(t, err, "exceeds")
	opt.Schedule, opt.Teacher = nil, "beam"
	_, err = ExposureBias(m, vq, test, opt)
	assert.ErrorContains(t, err, "beam")
	wrong := &data.Dataset{Name: "big", Classes: []string{"a"}, C: 1, H: 32, W: 32, Images: make([]float32, 1024), Labels: []int{0}}
	_, err = ExposureBias(m, vq, wrong, DefaultExposureOptions())
	assert.ErrorContains(t, err, "32x32")
}
