package sar

import (
	"encoding/json"
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/autograd"
	"sargo/nn"
	"sargo/sar/schedule"
	"sargo/tensor"
)

// golden is testdata/sar/golden.safetensors, written by
// bench/torch/sar_model.py.
type golden struct {
	t    *testing.T
	file *nn.Safetensors
}

func loadGolden(t *testing.T) (*Model, golden) {
	t.Helper()
	dir := filepath.Join("..", "testdata", "sar")
	f, err := nn.ReadSafetensorsFile(filepath.Join(dir, "golden.safetensors"))
	require.NoError(t, err)
	var cfg Config
	require.NoError(t, json.Unmarshal([]byte(f.Metadata["config"]), &cfg))
	m, err := NewModel(cfg, dev(), 0)
	require.NoError(t, err)
	require.NoError(t, nn.LoadCheckpoint(filepath.Join(dir, "model.safetensors"), m.Parameters(), nil))
	return m, golden{t, f}
}

// tensor returns the golden tensor name.
func (g golden) tensor(name string) *tensor.Tensor {
	g.t.Helper()
	st, ok := g.file.Lookup(name)
	require.True(g.t, ok, "golden tensor %s", name)
	d, err := st.Float32s()
	require.NoError(g.t, err)
	return tensor.FromSlice(dev(), d, st.Shape...)
}

// match checks got against the golden tensor name to rel relative to the
// golden's largest magnitude.
func (g golden) match(name string, got *tensor.Tensor, rel float64) {
	g.t.Helper()
	want := g.tensor(name)
	require.Equal(g.t, want.Size(), got.Size(), name)
	w, d := want.Data(), got.Contiguous().Data()
	scale := 1e-6
	for _, v := range w {
		scale = math.Max(scale, math.Abs(float64(v)))
	}
	err := maxAbsDiff(g.t, w, d) / scale
	g.t.Logf("%-40s relative error %.2e", name, err)
	assert.LessOrEqual(g.t, err, rel, name)
}

// scaleRows returns scale k's rows [B, s², ...] of a [B, L, ...] tensor.
func scaleRows(x *tensor.Tensor, scales schedule.Schedule, k int) *tensor.Tensor {
	off := scales.Offsets()
	return x.Narrow(1, off[k], off[k+1]-off[k])
}

// embedIDs gathers codebook rows for ids [B, s²] as a latent [B, C, s, s].
func embedIDs(cb, ids *tensor.Tensor, s int) *tensor.Tensor {
	b := ids.Dim(0)
	rows := tensor.Gather(cb, ids.Reshape(-1)) // [B·s², C]
	return rows.Reshape(b, s, s, cb.Dim(1)).Permute(0, 3, 1, 2).Contiguous()
}

func TestGoldenTeacherForcing(t *testing.T) {
	m, gd := loadGolden(t)
	sc, err := schedule.Parse(gd.file.Metadata["schedule"], 0)
	require.NoError(t, err)
	labels := gd.tensor("labels")
	z := make([]*tensor.Tensor, len(sc))
	var ids []*tensor.Tensor
	for k := range sc {
		z[k] = gd.tensor("z." + itoa(k))
		ids = append(ids, gd.tensor("ids."+itoa(k)))
	}
	in := NextScaleInputs(z, sc)
	gd.match("inputs", in, 1e-5)

	g := autograd.NewGraph(dev())
	defer g.Close()
	logits := m.Forward(g, labels, sc, autograd.Const(in))
	gd.match("logits", logits.Value, 1e-4)
	loss := g.CrossEntropy(logits, tensor.Concat(1, ids...), autograd.DefaultCEOptions())
	gd.match("loss_tf", loss.Value, 1e-5)
	require.NoError(t, g.Backward(loss))
	for _, p := range m.Parameters() {
		require.NotNil(t, p.Var.Grad, p.Name)
		gd.match("grad_tf."+p.Name, p.Var.Grad, 1e-4)
	}
}

func TestGoldenSARStep(t *testing.T) {
	m, gd := loadGolden(t)
	sc, err := schedule.Parse(gd.file.Metadata["schedule"], 0)
	require.NoError(t, err)
	n := len(sc)
	labels, cb := gd.tensor("labels"), gd.tensor("codebook")
	var ids []*tensor.Tensor
	for k := range sc {
		ids = append(ids, gd.tensor("ids."+itoa(k)))
	}
	g := autograd.NewGraph(dev())
	defer g.Close()
	logits := m.Forward(g, labels, sc, autograd.Const(gd.tensor("inputs")))
	lossTF := g.CrossEntropy(logits, tensor.Concat(1, ids...), autograd.DefaultCEOptions())

	teacher := make([]*tensor.Tensor, n)
	for k := range sc {
		teacher[k] = tensor.Argmax(scaleRows(logits.Value, sc, k), -1, false)
		gd.match("teacher."+itoa(k), teacher[k], 0)
	}
	sarIn := UpsampleTokens(embedIDs(cb, teacher[n-2], sc[n-2]), sc[n-1])
	gd.match("sar.inputs", sarIn, 1e-5)
	pass2 := m.ForwardStudent(g, labels, schedule.Schedule{sc[0], sc[n-1]}, autograd.Const(sarIn))
	first := sc[0] * sc[0]
	pass2 = g.Narrow(pass2, 1, first, sc[n-1]*sc[n-1])
	gd.match("sar.logits", pass2.Value, 1e-4)
	// The golden's pass 2 leaves pos_start out of the first token: with it
	// (a teacher-forcing Forward) the logits are far from the golden.
	withStart := m.Forward(nil, labels, schedule.Schedule{sc[0], sc[n-1]}, autograd.Const(sarIn)).Value
	rows := withStart.Narrow(1, first, sc[n-1]*sc[n-1])
	assert.Greater(t, maxAbsDiff(t, gd.tensor("sar.logits").Data(), rows.Contiguous().Data()), 1e-2)
	lossCSFL := g.CrossEntropy(pass2, teacher[n-1], autograd.DefaultCEOptions())
	gd.match("loss_csfl", lossCSFL.Value, 1e-5)
	loss := g.Add(lossTF, g.Scale(lossCSFL, 0.01))
	gd.match("loss", loss.Value, 1e-5)
	require.NoError(t, g.Backward(loss))
	for _, p := range m.Parameters() {
		gd.match("grad_sar."+p.Name, p.Var.Grad, 1e-4)
	}
}
