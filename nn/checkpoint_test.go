package nn

import (
	"bytes"
	"encoding/json"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/autograd"
	"sargo/tensor"
)

// testModel is a small module tree with every kind of name.
func testModel(t *testing.T, seed uint64) []NamedParam {
	t.Helper()
	in := NewInit(dev(), seed)
	var p Params
	for i := range 2 {
		b, err := NewAdaLNBlock(in, DefaultBlockConfig(8, 2, 2))
		require.NoError(t, err)
		p.SubIndex("blocks", i, b)
	}
	p.Sub("head", NewLinear(in, 8, 5, true))
	return p
}

func trainedState(t *testing.T, ps []NamedParam) *TrainState {
	t.Helper()
	opt, err := NewAdamW(ps, DefaultAdamWConfig())
	require.NoError(t, err)
	for i, p := range ps {
		p.Var.Grad = randT(uint64(100+i), 1, p.Var.Value.Shape()...)
	}
	require.NoError(t, opt.Update())
	require.NoError(t, opt.Update())
	return &TrainState{Step: 42, RNGOffset: 1 << 40, Config: json.RawMessage(`{"depth":2}`), Optimizer: opt}
}

func TestCheckpointRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ck.safetensors")
	src := testModel(t, 1)
	state := trainedState(t, src)
	require.NoError(t, SaveCheckpoint(path, src, state))

	dst := testModel(t, 2)
	opt2, err := NewAdamW(dst, DefaultAdamWConfig())
	require.NoError(t, err)
	got := &TrainState{Optimizer: opt2}
	require.NoError(t, LoadCheckpoint(path, dst, got))
	for i := range src {
		assert.Equal(t, src[i].Var.Value.Data(), dst[i].Var.Value.Data(), src[i].Name)
		m1, v1 := state.Optimizer.Moments(i)
		m2, v2 := opt2.Moments(i)
		assert.Equal(t, m1.Data(), m2.Data())
		assert.Equal(t, v1.Data(), v2.Data())
	}
	assert.Equal(t, 42, got.Step)
	assert.Equal(t, uint64(1<<40), got.RNGOffset)
	assert.JSONEq(t, `{"depth":2}`, string(got.Config))
	assert.Equal(t, 2, opt2.Step)

	// Weights only: the optimizer tensors are ignored.
	w := testModel(t, 3)
	require.NoError(t, LoadCheckpoint(path, w, nil))
	assert.Equal(t, src[0].Var.Value.Data(), w[0].Var.Value.Data())

	// Saving again gives the same bytes.
	path2 := filepath.Join(t.TempDir(), "ck2.safetensors")
	require.NoError(t, SaveCheckpoint(path2, dst, got))
	b1, _ := os.ReadFile(path)
	b2, _ := os.ReadFile(path2)
	assert.True(t, bytes.Equal(b1, b2), "bit-identical re-save")
}

func TestCheckpointMismatchListsEverything(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ck.safetensors")
	in := NewInit(dev(), 1)
	var saved Params
	saved.Sub("a", NewLinear(in, 2, 3, true))
	saved.Sub("b", NewLinear(in, 2, 3, true))
	saved.Add("extra", autograd.Param(in.Zeros(4)), true)
	require.NoError(t, SaveCheckpoint(path, saved, nil))

	var want Params
	want.Sub("a", NewLinear(in, 2, 3, true))
	want.Sub("b", NewLinear(in, 4, 3, true))  // b.weight shape differs
	want.Sub("c", NewLinear(in, 2, 3, false)) // c.weight missing
	before := want[0].Var.Value.Data()
	err := LoadCheckpoint(path, want, nil)
	require.Error(t, err)
	msg := err.Error()
	for _, s := range []string{path, "3 mismatches", "shape of b.weight: want [3 4], got [3 2]", "missing c.weight (want [3 2] F32)", "unexpected extra [4] F32"} {
		assert.Contains(t, msg, s)
	}
	assert.Equal(t, before, want[0].Var.Value.Data(), "nothing loaded on mismatch")

	// A training-state load of a weights-only file reports missing metadata
	// and moments too.
	opt, err := NewAdamW(saved, DefaultAdamWConfig())
	require.NoError(t, err)
	err = LoadCheckpoint(path, saved, &TrainState{Optimizer: opt})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "missing optim.m.a.weight")
	assert.Contains(t, err.Error(), `metadata "step" missing`)
}

func TestCheckpointCorrupt(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ck.safetensors")
	ps := testModel(t, 1)
	require.NoError(t, SaveCheckpoint(path, ps, nil))
	good, err := os.ReadFile(path)
	require.NoError(t, err)
	tests := []struct {
		name string
		data []byte
		msg  string
	}{
		{"truncated", good[:len(good)/2], "truncated"},
		{"header only", good[:16], "exceeds"},
		{"garbage", []byte("not a safetensors file at all"), "header length"},
		{"flipped header", func() []byte { b := bytes.Clone(good); b[9] = '!'; return b }(), "header"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
			require.NoError(t, os.WriteFile(p, tc.data, 0o644))
			err := LoadCheckpoint(p, ps, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), p)
			assert.Contains(t, err.Error(), tc.msg)
			_, err = Inspect(p)
			require.Error(t, err)
			assert.Contains(t, err.Error(), p)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
	_, err = Inspect(filepath.Join(dir, "absent"))
	assert.ErrorContains(t, err, "absent")
}

func TestInspectForeignFile(t *testing.T) {
	r, err := Inspect(filepath.Join("..", "testdata", "nn", "adamw.safetensors"))
	require.NoError(t, err)
	assert.Contains(t, r.Metadata, "torch")
	assert.NotEmpty(t, r.Tensors)
}

func TestSaveCheckpointBadDir(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "ck.safetensors")
	err := SaveCheckpoint(path, NewLinear(NewInit(dev(), 1), 1, 1, false).Parameters(), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), path)
}

func TestInspect(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ck.safetensors")
	lin := NewLinear(NewInit(dev(), 1), 2, 3, true)
	lin.Bias.Value.CopyFrom(tensor.FromSlice(dev(), []float32{1, 2, 3}, 3))
	require.NoError(t, SaveCheckpoint(path, lin.Parameters(), &TrainState{Step: 7}))
	r, err := Inspect(path)
	require.NoError(t, err)
	assert.Equal(t, "7", r.Metadata["step"])
	assert.Equal(t, CheckpointFormat, r.Metadata["format"])
	require.Len(t, r.Tensors, 2)
	assert.Equal(t, TensorInfo{Name: "bias", DType: "F32", Shape: []int{3}, Bytes: 12,
		CRC32: crc32.ChecksumIEEE(NewSTensorF32("", nil, []float32{1, 2, 3}).Raw)}, r.Tensors[1])
	assert.Equal(t, int64(9), r.Params)
	var out bytes.Buffer
	require.NoError(t, r.WriteText(&out))
	assert.Contains(t, out.String(), "meta step = 7")
	assert.Contains(t, out.String(), "weight")
}

// TestCheckpointResume checks that a run resumed from a checkpoint takes
// bit-identically the same next step as the uninterrupted run.
func TestCheckpointResume(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ck.safetensors")
	a := testModel(t, 1)
	state := trainedState(t, a)
	require.NoError(t, SaveCheckpoint(path, a, state))

	b := testModel(t, 5)
	optB, err := NewAdamW(b, DefaultAdamWConfig())
	require.NoError(t, err)
	require.NoError(t, LoadCheckpoint(path, b, &TrainState{Optimizer: optB}))
	for i := range a {
		a[i].Var.Grad = randT(uint64(500+i), 1, a[i].Var.Value.Shape()...)
		b[i].Var.Grad = a[i].Var.Grad.Clone()
	}
	require.NoError(t, state.Optimizer.Update())
	require.NoError(t, optB.Update())
	for i := range a {
		assert.Equal(t, a[i].Var.Value.Data(), b[i].Var.Value.Data(), a[i].Name)
	}
}
