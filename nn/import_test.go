package nn

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/autograd"
	"sargo/nn/pth"
	"sargo/tensor"
)

func pthFixture(name string) string { return filepath.Join("..", "testdata", "pth", name) }

func param(name string, shape ...int) NamedParam {
	return NamedParam{Name: name, Var: autograd.Param(tensor.Zeros(dev(), shape...))}
}

func values(t *testing.T, p NamedParam) []float32 {
	d, err := p.Var.Value.Read()
	require.NoError(t, err)
	return d
}

func TestOpenStateDictPyTorch(t *testing.T) {
	s, err := OpenStateDict(pthFixture("state.pth"), "")
	require.NoError(t, err)
	defer s.Close()
	assert.Equal(t, "pytorch zip", s.Format)
	sh, ok := s.Shape("weight_t")
	require.True(t, ok)
	assert.Equal(t, []int{3, 2}, sh)
	assert.Equal(t, "BF16", s.DType("bf16"))

	w, half, bf := param("weight_t", 3, 2), param("half", 3), param("bf16", 2, 2)
	ignore := func(n string) bool { return n != "weight_t" && n != "half" && n != "bf16" && n != "count" }
	require.NoError(t, s.Load([]NamedParam{w, half, bf}, func(n string) bool { return ignore(n) || n == "count" }))
	assert.Equal(t, []float32{0, 3, 1, 4, 2, 5}, values(t, w))
	assert.Equal(t, []float32{0, 0.25, 0.5}, values(t, half), "float16 converted")
	assert.Equal(t, []float32{-1, 0, 1, 2}, values(t, bf), "bfloat16 converted")

	err = s.Load([]NamedParam{param("weight_t", 2, 3), param("missing", 1), param("count", 2)}, ignore)
	require.Error(t, err)
	for _, want := range []string{"5 mismatches", "unexpected half [3] F16", "shape of weight_t: want [2 3], got [3 2]", "missing missing (want [1])",
		"dtype of count: I64, want a floating-point type"} {
		assert.ErrorContains(t, err, want)
	}
	err = s.Load([]NamedParam{w}, nil)
	assert.ErrorContains(t, err, "unexpected bias [2] F32")
}

func TestOpenStateDictNested(t *testing.T) {
	s, err := OpenStateDict(pthFixture("nested.pth"), "", "head.weight")
	require.NoError(t, err)
	defer s.Close()
	assert.Equal(t, "trainer.var_wo_ddp", s.Key)
	assert.Equal(t, []string{"head.weight", "head.bias"}, s.Names)
	hw := param("head.weight", 4, 2)
	require.NoError(t, s.Load([]NamedParam{hw, param("head.bias", 4)}, nil))
	assert.Equal(t, []float32{0, 1, 2, 3, 4, 5, 6, 7}, values(t, hw))

	_, err = OpenStateDict(pthFixture("nested.pth"), "")
	assert.ErrorContains(t, err, "2 state dicts fit")
	s2, err := OpenStateDict(pthFixture("nested.pth"), "trainer.var_opt.state.0")
	require.NoError(t, err)
	s2.Close()
}

func TestOpenStateDictSafetensors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.safetensors")
	ts, err := (&StateDict{}).fromPth(pthFixture("state.pth"))
	require.NoError(t, err)
	require.NoError(t, WriteSafetensorsFile(path, ts, nil))
	s, err := OpenStateDict(path, "")
	require.NoError(t, err)
	assert.Equal(t, "safetensors", s.Format)
	assert.False(t, IsCheckpoint(s.Metadata))
	half := param("half", 3)
	require.NoError(t, s.Load([]NamedParam{half}, func(n string) bool { return n != "half" }))
	assert.Equal(t, []float32{0, 0.25, 0.5}, values(t, half))
	_, err = OpenStateDict(path, "model")
	assert.ErrorContains(t, err, "only applies to PyTorch checkpoints")
}

// fromPth reads every tensor of a PyTorch state dict, for the tests.
func (*StateDict) fromPth(path string) ([]STensor, error) {
	s, err := OpenStateDict(path, "")
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return s.Tensors()
}

func TestInspectPyTorch(t *testing.T) {
	r, err := Inspect(pthFixture("nested.pth"))
	require.NoError(t, err)
	assert.Equal(t, "pytorch zip", r.Metadata["format"])
	assert.Equal(t, "2 tensors, 12 elements", r.Metadata["state dict trainer.var_wo_ddp"])
	var names []string
	for _, ti := range r.Tensors {
		names = append(names, ti.Name)
	}
	assert.Equal(t, []string{"trainer.var_wo_ddp.head.weight", "trainer.var_wo_ddp.head.bias",
		"trainer.var_opt.state.0.step", "trainer.var_opt.state.0.exp_avg"}, names)
	var b strings.Builder
	require.NoError(t, r.WriteText(&b))
	assert.Contains(t, b.String(), "trainer.var_wo_ddp.head.weight")

	r, err = InspectPyTorch(pthFixture("nested.pth"), "trainer.var_wo_ddp")
	require.NoError(t, err)
	assert.Len(t, r.Tensors, 2)
	assert.Equal(t, "head.weight", r.Tensors[0].Name)

	_, err = Inspect(pthFixture("namespace.pth"))
	assert.ErrorIs(t, err, pth.ErrCorrupt)
	assert.ErrorContains(t, err, "argparse.Namespace")
}
