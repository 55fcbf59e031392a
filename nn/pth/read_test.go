package pth

import (
	"encoding/binary"
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The fixtures under testdata/pth are written by bench/torch/pth_fixtures.py.
func fixture(name string) string { return filepath.Join("..", "..", "testdata", "pth", name) }

func f32s(raw []byte) []float32 {
	out := make([]float32, len(raw)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return out
}

func u16s(raw []byte) []uint16 {
	out := make([]uint16, len(raw)/2)
	for i := range out {
		out[i] = binary.LittleEndian.Uint16(raw[2*i:])
	}
	return out
}

func i64s(raw []byte) []int64 {
	out := make([]int64, len(raw)/8)
	for i := range out {
		out[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
	}
	return out
}

func index(ts []Tensor) map[string]Tensor {
	m := map[string]Tensor{}
	for _, t := range ts {
		m[t.Name] = t
	}
	return m
}

func readAll(t *testing.T, path, key string, want ...string) []Tensor {
	t.Helper()
	c, err := Open(path)
	require.NoError(t, err)
	defer c.Close()
	sd, err := c.Find(key, want...)
	require.NoError(t, err)
	ts, err := c.Tensors(sd)
	require.NoError(t, err)
	return ts
}

func TestReadStateDict(t *testing.T) {
	for _, file := range []string{"state.pth", "state_legacy.pth", "state_proto4.pth"} {
		t.Run(file, func(t *testing.T) {
			ts := readAll(t, fixture(file), "")
			names := make([]string, len(ts))
			for i, x := range ts {
				names[i] = x.Name
			}
			assert.Equal(t, []string{"weight", "bias", "half", "bf16", "count", "weight_t", "tail", "scalar", "empty"}, names)
			m := index(ts)
			tests := []struct {
				name, dtype string
				shape       []int
				check       func(raw []byte)
			}{
				{"weight", "F32", []int{2, 3}, func(r []byte) { assert.Equal(t, []float32{0, 1, 2, 3, 4, 5}, f32s(r)) }},
				{"bias", "F32", []int{2}, func(r []byte) { assert.Equal(t, []float32{-1.5, 2.25}, f32s(r)) }},
				{"half", "F16", []int{3}, func(r []byte) { assert.Equal(t, []uint16{0, 0x3400, 0x3800}, u16s(r)) }},
				{"bf16", "BF16", []int{2, 2}, func(r []byte) { assert.Equal(t, []uint16{0xbf80, 0, 0x3f80, 0x4000}, u16s(r)) }},
				{"count", "I64", []int{2}, func(r []byte) { assert.Equal(t, []int64{7, -3}, i64s(r)) }},
				{"weight_t", "F32", []int{3, 2}, func(r []byte) { assert.Equal(t, []float32{0, 3, 1, 4, 2, 5}, f32s(r)) }},
				{"tail", "F32", []int{3}, func(r []byte) { assert.Equal(t, []float32{4, 5, 6}, f32s(r)) }},
				{"scalar", "F32", nil, func(r []byte) { assert.Equal(t, []float32{3.5}, f32s(r)) }},
				{"empty", "F32", []int{0, 4}, func(r []byte) { assert.Empty(t, r) }},
			}
			for _, tc := range tests {
				x, ok := m[tc.name]
				require.True(t, ok, tc.name)
				assert.Equal(t, tc.dtype, x.DType, tc.name)
				if tc.shape == nil {
					assert.Empty(t, x.Shape, tc.name)
				} else {
					assert.Equal(t, tc.shape, x.Shape, tc.name)
				}
				tc.check(x.Raw)
			}
		})
	}
}

func TestFindNested(t *testing.T) {
	c, err := Open(fixture("nested.pth"))
	require.NoError(t, err)
	defer c.Close()
	var paths []string
	for _, sd := range c.StateDicts() {
		paths = append(paths, sd.Path)
	}
	assert.Equal(t, []string{"trainer.var_wo_ddp", "trainer.var_opt.state.0"}, paths)

	sd, err := c.Find("", "head.weight")
	require.NoError(t, err)
	assert.Equal(t, "trainer.var_wo_ddp", sd.Path)
	sd, err = c.Find("trainer.var_wo_ddp")
	require.NoError(t, err)
	assert.Equal(t, []string{"head.weight", "head.bias"}, sd.Names)
	sd, err = c.Find("trainer.var_opt.state.0")
	require.NoError(t, err)
	assert.Equal(t, []string{"step", "exp_avg"}, sd.Names)

	_, err = c.Find("")
	assert.ErrorContains(t, err, "2 state dicts fit")
	assert.ErrorContains(t, err, `"trainer.var_wo_ddp": 2 tensors, 12 elements`)
	_, err = c.Find("", "blocks.0.ffn.fc1.weight")
	assert.ErrorContains(t, err, "no state dict holds blocks.0.ffn.fc1.weight")
	_, err = c.Find("trainer.vae_local")
	assert.ErrorContains(t, err, `"trainer" has no entry "vae_local"`)
	_, err = c.Find("args")
	assert.ErrorContains(t, err, "not a state dict")

	v, err := c.Lookup("args.pn")
	require.NoError(t, err)
	assert.Equal(t, "1_2_3", v)
	v, err = c.Lookup("trainer.var_opt.param_groups.0.betas")
	require.NoError(t, err)
	assert.Equal(t, Tuple{0.9, 0.95}, v)
	v, err = c.Lookup("epoch")
	require.NoError(t, err)
	assert.Equal(t, int64(180), v)
}

func TestRefusedGlobal(t *testing.T) {
	_, err := Open(fixture("namespace.pth"))
	require.ErrorIs(t, err, ErrCorrupt)
	assert.ErrorContains(t, err, "refused global argparse.Namespace")
	assert.ErrorContains(t, err, "namespace.pth")
}

func TestNotACheckpoint(t *testing.T) {
	_, err := Open(fixture("missing.pth"))
	assert.ErrorContains(t, err, "no such file")
	_, err = NewReader(bytesReader([]byte("{\"a\": 1}")), 8)
	assert.ErrorContains(t, err, "neither a zip archive nor a legacy torch.save file")
}
