package sar_test

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/autograd"
	"sargo/bench"
	"sargo/nn"
	"sargo/sar"
	"sargo/sar/schedule"
	"sargo/sar/tokenizer"
	"sargo/tensor"
)

// TestFullSizeParity checks the released sizes against the PyTorch
// reference: bench/torch/flexvar_golden.py writes, into a temporary
// folder, a FlexVAE (VQ-16, 72 M parameters) and a FlexVAR d16 (316 M)
// with random weights under the authors' layouts, a 256-px image's latent,
// ids per scale and decoding, and the transformer's logits over the
// schedule 1, 2, 3, 4; sargo loads the files and must match at 1e-4
// relative. It needs Debian's python3-torch and some 3 GB of memory, and
// is skipped without PyTorch and with -short.
func TestFullSizeParity(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and reads 1.6 GB of PyTorch checkpoints")
	}
	if err := bench.TorchAvailable(""); err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	cmd := exec.Command(bench.DefaultPython, filepath.Join("..", "bench", "torch", "flexvar_golden.py"), "full", dir)
	cmd.Env = bench.ReferenceEnv(os.Environ(), runtime.GOMAXPROCS(0))
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	dev := tensor.MustOpen("cpu")
	gf, err := nn.ReadSafetensorsFile(filepath.Join(dir, "full_golden.safetensors"))
	require.NoError(t, err)
	get := func(name string) *tensor.Tensor {
		s, ok := gf.Lookup(name)
		require.True(t, ok, name)
		v, err := s.Float32s()
		require.NoError(t, err)
		return tensor.FromSlice(dev, v, s.Shape...)
	}
	match := func(name string, got *tensor.Tensor) {
		want, err := get(name).Read()
		require.NoError(t, err)
		d, err := got.Read()
		require.NoError(t, err)
		require.Len(t, d, len(want), name)
		var scale, diff float64
		for i, w := range want {
			scale = math.Max(scale, math.Abs(float64(w)))
			diff = math.Max(diff, math.Abs(float64(w)-float64(d[i])))
		}
		t.Logf("%-10s relative error %.2e", name, diff/scale)
		assert.LessOrEqual(t, diff/scale, 1e-4, name)
	}
	sc, err := schedule.Parse(gf.Metadata["schedule"], 0)
	require.NoError(t, err)
	vqSc, err := schedule.Parse(gf.Metadata["vq_schedule"], 0)
	require.NoError(t, err)

	vq, _, err := tokenizer.Load(filepath.Join(dir, "full_vae.pth"), dev)
	require.NoError(t, err)
	assert.Equal(t, tokenizer.FlexVAE(), vq.Cfg)
	x := get("image")
	match("latent", vq.Encode(nil, autograd.Const(x)).Value)
	ids, _ := vq.Tokenize(x, vqSc)
	for k := range vqSc {
		want, err := get("ids." + strconv.Itoa(k)).Read()
		require.NoError(t, err)
		margin, err := get("margin." + strconv.Itoa(k)).Read()
		require.NoError(t, err)
		got, err := ids[k].Read()
		require.NoError(t, err)
		for i := range want {
			if margin[i] > 1e-4 {
				assert.Equal(t, want[i], got[i], "scale %d id %d", k, i)
			}
		}
	}
	z := vq.Embed(get("ids."+strconv.Itoa(len(vqSc)-1)), vqSc.Last())
	match("decoded", vq.Decode(nil, autograd.Const(z)).Value)

	m, _, err := sar.LoadModel(filepath.Join(dir, "full_var.pth"), dev)
	require.NoError(t, err)
	assert.Equal(t, sar.Config{Depth: 16, Width: 1024, Heads: 16, MLPRatio: 4, NumClasses: 1000, Vocab: 8912, CVae: 32,
		Largest: 16, CondDrop: 0.1, DropPath: 0.1 * 16 / 24, AttnL2: true}, m.Cfg)
	m.SetTrain(false)
	match("logits", m.Forward(nil, get("labels"), sc, autograd.Const(get("inputs"))).Value)
}
