package train

import (
	"encoding/json"
	"math"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/nn"
	"sargo/sar"
	"sargo/sar/schedule"
	"sargo/tensor"
)

// goldenFile is testdata/sar/golden.safetensors, written by
// bench/torch/sar_model.py: one TF pass and one SAR step (argmax teacher,
// last-transition rollout) of a tiny model in float64.
type goldenFile struct {
	t   *testing.T
	f   *nn.Safetensors
	dev tensor.Backend
}

func (g goldenFile) get(name string) *tensor.Tensor {
	g.t.Helper()
	st, ok := g.f.Lookup(name)
	require.True(g.t, ok, "golden tensor %s", name)
	d, err := st.Float32s()
	require.NoError(g.t, err)
	return tensor.FromSlice(g.dev, d, st.Shape...)
}

// match checks got against the golden tensor to rel, relative to the
// golden's largest magnitude.
func (g goldenFile) match(name string, got *tensor.Tensor, rel float64) {
	g.t.Helper()
	want := g.get(name).Data()
	have := got.Contiguous().Data()
	require.Len(g.t, have, len(want), name)
	scale, diff := 1e-6, 0.0
	for i, w := range want {
		scale = math.Max(scale, math.Abs(float64(w)))
		diff = math.Max(diff, math.Abs(float64(w)-float64(have[i])))
	}
	assert.LessOrEqual(g.t, diff/scale, rel, "%s: relative error %.2e", name, diff/scale)
}

// goldenTok serves the golden ids and latents and embeds with the golden
// codebook.
type goldenTok struct {
	ids, z   []*tensor.Tensor
	codebook *tensor.Tensor
}

func (g goldenTok) Tokenize(_ *tensor.Tensor, scales schedule.Schedule) ([]*tensor.Tensor, []*tensor.Tensor) {
	return g.ids[:len(scales)], g.z[:len(scales)]
}

func (g goldenTok) Embed(ids *tensor.Tensor, s int) *tensor.Tensor {
	rows := tensor.Gather(g.codebook, ids.Reshape(-1))
	return rows.Reshape(ids.Dim(0), s, s, g.codebook.Dim(1)).Permute(0, 3, 1, 2).Contiguous()
}

func TestGoldenSARStep(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "sar")
	f, err := nn.ReadSafetensorsFile(filepath.Join(dir, "golden.safetensors"))
	require.NoError(t, err)
	dev, err := tensor.Open("cpu")
	require.NoError(t, err)
	gd := goldenFile{t: t, f: f, dev: dev}
	var mc sar.Config
	require.NoError(t, json.Unmarshal([]byte(f.Metadata["config"]), &mc))
	m, err := sar.NewModel(mc, dev, 0)
	require.NoError(t, err)
	require.NoError(t, nn.LoadCheckpoint(filepath.Join(dir, "model.safetensors"), m.Parameters(), nil))
	scales, err := schedule.Parse(f.Metadata["schedule"], 0)
	require.NoError(t, err)
	sigma, err := strconv.ParseFloat(f.Metadata["sigma"], 32)
	require.NoError(t, err)

	tok := goldenTok{codebook: gd.get("codebook")}
	for k := range scales {
		tok.ids = append(tok.ids, gd.get("ids."+strconv.Itoa(k)))
		tok.z = append(tok.z, gd.get("z."+strconv.Itoa(k)))
	}
	b := NewBatch(tok, sar.NextScaleInputs, nil, gd.get("labels"), scales)
	gd.match("inputs", b.Inputs, 1e-5)

	cfg := DefaultConfig()
	cfg.Method, cfg.Rollout, cfg.Teacher, cfg.Sigma = MethodSAR, "last", TeacherArgmax, float32(sigma)
	o, err := NewObjective(cfg, m, tok, mc.NumClasses)
	require.NoError(t, err)
	params := m.Parameters()
	nn.ZeroGrads(params)
	g := newGraph(t, dev)
	l, tr := o.sar(g, b, 0)
	n := len(scales)
	gd.match("teacher."+strconv.Itoa(n-1), tr.Targets, 0)
	gd.match("sar.inputs", tr.Inputs, 1e-4)
	require.NoError(t, g.Backward(l.Total))
	gd.match("loss_tf", l.TF.Value, 1e-4)
	gd.match("loss_csfl", l.CSFL.Value, 1e-4)
	gd.match("loss", l.Total.Value, 1e-4)
	for _, p := range params {
		require.NotNil(t, p.Var.Grad, p.Name)
		gd.match("grad_sar."+p.Name, p.Var.Grad, 1e-4)
	}
	nn.ZeroGrads(params)

	// Plain TF on the same batch against grad_tf.
	o.Method = MethodTF
	g = newGraph(t, dev)
	l = o.Loss(g, b, 0)
	require.NoError(t, g.Backward(l.Total))
	gd.match("loss_tf", l.Total.Value, 1e-4)
	for _, p := range params {
		gd.match("grad_tf."+p.Name, p.Var.Grad, 1e-4)
	}
	nn.ZeroGrads(params)
}
