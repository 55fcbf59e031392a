package main

import (
	"bytes"
	"encoding/json"
	"hash/crc32"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/bench"
	"sargo/nn"
	"sargo/sar"
	"sargo/sar/tokenizer"
)

func runConvert(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newConvertCmd()
	var buf bytes.Buffer
	cmd.SetOut(&buf)
	cmd.SetErr(&buf)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return buf.String(), err
}

func stateTensors(t *testing.T, path, key string) []nn.STensor {
	t.Helper()
	sd, err := nn.OpenStateDict(path, key)
	require.NoError(t, err)
	defer sd.Close()
	ts, err := sd.Tensors()
	require.NoError(t, err)
	return ts
}

// TestConvertRoundTrip converts PyTorch → safetensors → PyTorch →
// safetensors and checks that every name, dtype, shape and byte survives
// (float32, float16, bfloat16, int64, strided views, a 0-d and an empty
// tensor), and that torch.load reads the PyTorch file sargo wrote.
func TestConvertRoundTrip(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join("..", "..", "testdata", "pth", "state.pth")
	st1, pt, st2 := filepath.Join(dir, "a.safetensors"), filepath.Join(dir, "b.pth"), filepath.Join(dir, "c.safetensors")
	out, err := runConvert(t, src, st1)
	require.NoError(t, err)
	assert.Contains(t, out, "wrote 9 tensors")
	_, err = runConvert(t, st1, pt, "--wrap", "model")
	require.NoError(t, err)
	_, err = runConvert(t, pt, st2)
	require.NoError(t, err)
	a, err := os.ReadFile(st1)
	require.NoError(t, err)
	c, err := os.ReadFile(st2)
	require.NoError(t, err)
	assert.Equal(t, a, c, "safetensors → pth → safetensors is bit-exact")
	want := stateTensors(t, src, "")
	for _, got := range [][]nn.STensor{stateTensors(t, st1, ""), stateTensors(t, pt, "model")} {
		require.Len(t, got, len(want))
		for i := range want {
			assert.Equal(t, want[i].Name, got[i].Name)
			assert.Equal(t, want[i].DType, got[i].DType, want[i].Name)
			assert.Equal(t, len(want[i].Shape), len(got[i].Shape), want[i].Name)
			assert.Equal(t, want[i].Raw, got[i].Raw, want[i].Name)
		}
	}

	if err := bench.TorchAvailable(""); err != nil {
		t.Logf("skipping the torch.load check: %v", err)
		return
	}
	script := `import json, sys, zlib, torch
sd = torch.load(sys.argv[1])["model"]
out = {}
for k, v in sd.items():
    b = v.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
    out[k] = [str(v.dtype), list(v.shape), zlib.crc32(b)]
print(json.dumps(out))`
	cmd := exec.Command(bench.DefaultPython, "-c", script, pt)
	cmd.Dir = os.TempDir()
	res, err := cmd.Output()
	require.NoError(t, err, "torch.load of a file sargo wrote")
	var got map[string][]any
	require.NoError(t, json.Unmarshal(res, &got))
	dtypes := map[string]string{"F32": "torch.float32", "F16": "torch.float16", "BF16": "torch.bfloat16", "I64": "torch.int64"}
	for _, w := range want {
		g, ok := got[w.Name]
		require.True(t, ok, w.Name)
		assert.Equal(t, dtypes[w.DType], g[0], w.Name)
		assert.EqualValues(t, crc32.ChecksumIEEE(w.Raw), g[2], w.Name)
	}
}

// TestConvertPthBitExact converts synthetic released files (a FlexVAR
// transformer under trainer.var_wo_ddp with its non-parameter buffers,
// and a VQ-16 tokenizer under model, as the authors' files nest them) to
// safetensors and back, and checks the PyTorch file comes back byte for
// byte.
func TestConvertPthBitExact(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, wrap string
		write      func(path string) error
	}{
		{"FlexVAR", "trainer.var_wo_ddp", func(path string) error {
			cfg := sar.Config{Depth: 2, Width: 64, Heads: 4, MLPRatio: 4, NumClasses: 10, Vocab: 64, CVae: 8, Largest: 4, AttnL2: true}
			return bench.WriteSyntheticFlexVAR(path, cfg, 3)
		}},
		{"FlexVAE", "model", func(path string) error {
			cfg := tokenizer.FlexVAE()
			cfg.Base, cfg.ChannelMult, cfg.Downsample, cfg.ZChannels, cfg.CVae, cfg.Codebook = 32, []int{1, 1, 2}, 4, 8, 4, 16
			return bench.WriteSyntheticVQ(path, cfg, 4)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := filepath.Join(dir, tc.name+".pth")
			st, back := filepath.Join(dir, tc.name+".safetensors"), filepath.Join(dir, tc.name+"_back.pth")
			require.NoError(t, tc.write(src))
			_, err := runConvert(t, src, st)
			require.NoError(t, err)
			_, err = runConvert(t, st, back, "--wrap", tc.wrap)
			require.NoError(t, err)
			a, err := os.ReadFile(src)
			require.NoError(t, err)
			b, err := os.ReadFile(back)
			require.NoError(t, err)
			assert.True(t, bytes.Equal(a, b), "pth -> safetensors -> pth is bit-exact (%d and %d bytes)", len(a), len(b))
		})
	}
}

func TestConvertErrors(t *testing.T) {
	dir := t.TempDir()
	nested := filepath.Join("..", "..", "testdata", "pth", "nested.pth")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"ambiguous", []string{nested, filepath.Join(dir, "x.safetensors")}, "2 state dicts fit"},
		{"missing key", []string{nested, filepath.Join(dir, "x.safetensors"), "--key", "trainer.nope"}, `"trainer" has no entry "nope"`},
		{"refused global", []string{filepath.Join("..", "..", "testdata", "pth", "namespace.pth"), filepath.Join(dir, "x.safetensors")},
			"refused global argparse.Namespace"},
		{"bad format", []string{nested, filepath.Join(dir, "x.bin"), "--to", "onnx"}, `--to "onnx"`},
		{"wrap safetensors", []string{nested, filepath.Join(dir, "x.safetensors"), "--wrap", "model"}, "--wrap applies to PyTorch output only"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runConvert(t, tc.args...)
			require.Error(t, err)
			assert.ErrorContains(t, err, tc.want)
		})
	}
	_, err := runConvert(t, nested, filepath.Join(dir, "ok.pt"), "--key", "trainer.var_wo_ddp")
	require.NoError(t, err)
}
