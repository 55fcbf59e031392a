package sar

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/autograd"
	"sargo/nn"
	"sargo/nn/pth"
	"sargo/sar/schedule"
	"sargo/tensor"

	_ "sargo/kernels/vulkan"
)

// flexvarDir holds the small parity goldens of bench/torch/flexvar_golden.py:
// a FlexVAR state dict saved by torch.save in the authors' training
// checkpoint layout (trainer.var_wo_ddp) and its teacher-forcing logits.
var flexvarDir = filepath.Join("..", "testdata", "flexvar")

func smallVAR() string { return filepath.Join(flexvarDir, "small_var.pth") }

// openDevice opens cpu or vulkan; vulkan is skipped when absent (failing
// when SARGO_REQUIRE_VULKAN=1).
func openDevice(t *testing.T, name string) tensor.Backend {
	t.Helper()
	b, err := tensor.Open(name)
	if err != nil && name == "vulkan" && os.Getenv("SARGO_REQUIRE_VULKAN") != "1" {
		t.Skipf("no Vulkan device: %v", err)
	}
	require.NoError(t, err)
	return b
}

func TestConfigFromPyTorch(t *testing.T) {
	cfg, err := ReadConfig(smallVAR())
	require.NoError(t, err)
	assert.Equal(t, Config{Depth: 2, Width: 32, Heads: 2, MLPRatio: 4, NumClasses: 10, Vocab: 64, CVae: 8, Largest: 8,
		CondDrop: 0.1, DropPath: 0.1 * 2 / 24, AttnL2: true}, cfg)
	assert.True(t, IsPublished(smallVAR()))
	assert.False(t, IsPublished(filepath.Join("..", "testdata", "sar", "model.safetensors")))
}

// TestPyTorchParity checks the teacher-forcing logits of a FlexVAR state
// dict saved by PyTorch (with its buffers attn_bias_for_masking and
// zero_k_bias, under trainer.var_wo_ddp) against the reference, through
// Forward and through the KV-cached Step, on the CPU and on Vulkan.
func TestPyTorchParity(t *testing.T) {
	for _, name := range []string{"cpu", "vulkan"} {
		t.Run(name, func(t *testing.T) {
			d := openDevice(t, name)
			m, st, err := LoadModel(smallVAR(), d)
			require.NoError(t, err)
			assert.Zero(t, st.Step)
			f, err := nn.ReadSafetensorsFile(filepath.Join(flexvarDir, "small_golden.safetensors"))
			require.NoError(t, err)
			get := func(name string) *tensor.Tensor {
				s, ok := f.Lookup(name)
				require.True(t, ok, name)
				v, err := s.Float32s()
				require.NoError(t, err)
				return tensor.FromSlice(d, v, s.Shape...)
			}
			sc, err := schedule.Parse(f.Metadata["schedule"], 0)
			require.NoError(t, err)
			labels, inputs := get("labels"), get("inputs")
			want, err := get("logits").Read()
			require.NoError(t, err)
			check := func(what string, got []float32, off int) {
				var scale, diff float64
				for i, g := range got {
					w := float64(want[off+i])
					scale = math.Max(scale, math.Abs(w))
					diff = math.Max(diff, math.Abs(w-float64(g)))
				}
				t.Logf("%-14s relative error %.2e", what, diff/scale)
				assert.LessOrEqual(t, diff/scale, 1e-4, what)
			}
			m.SetTrain(false)
			logits, err := m.Forward(nil, labels, sc, autograd.Const(inputs)).Value.Read()
			require.NoError(t, err)
			check("forward", logits, 0)

			// Step by step with the KV cache: scale k's rows of the logits.
			c := m.NewCache()
			b, v := labels.Dim(0), m.Cfg.Vocab
			offs := sc.Offsets()
			L := sc.Tokens()
			for k, s := range sc {
				var in *tensor.Tensor
				if k > 0 {
					in = inputs.Narrow(1, offs[k]-offs[1], s*s).Contiguous()
				}
				got, err := m.Step(c, labels, sc, k, in).Read()
				require.NoError(t, err)
				for i := range b { // rows of image i at scale k
					check(fmt.Sprintf("step %d image %d", k, i), got[i*s*s*v:(i+1)*s*s*v], (i*L+offs[k])*v)
				}
			}
			require.NoError(t, d.Sync())
		})
	}
}

// TestLoadWeightsFormats loads the same weights from the PyTorch file, its
// safetensors conversion and a sargo checkpoint, and checks they agree.
func TestLoadWeightsFormats(t *testing.T) {
	ref, _, err := LoadModel(smallVAR(), dev())
	require.NoError(t, err)
	dir := t.TempDir()

	sd, err := nn.OpenStateDict(smallVAR(), "trainer.var_wo_ddp")
	require.NoError(t, err)
	ts, err := sd.Tensors()
	require.NoError(t, err)
	require.NoError(t, sd.Close())
	conv := filepath.Join(dir, "var.safetensors")
	require.NoError(t, nn.WriteSafetensorsFile(conv, ts, nil))
	own := filepath.Join(dir, "own.safetensors")
	require.NoError(t, ref.Save(own, nil))

	for _, path := range []string{smallVAR(), conv, own} {
		cfg, err := ReadConfig(path)
		require.NoError(t, err, path)
		m, err := NewModel(cfg, dev(), 7)
		require.NoError(t, err)
		require.NoError(t, m.LoadWeights(path), path)
		for i, p := range m.Parameters() {
			assert.Equal(t, ref.Parameters()[i].Var.Value.Data(), p.Var.Value.Data(), "%s from %s", p.Name, path)
		}
	}
}

// TestPyTorchMismatch checks the errors of a state dict that does not fit.
func TestPyTorchMismatch(t *testing.T) {
	m := tinyModel(t, 1)
	var ts []pth.Tensor
	for _, p := range m.Parameters() {
		sh := p.Var.Value.Shape()
		if p.Name == "head.bias" {
			sh = []int{99}
		}
		n := 1
		for _, d := range sh {
			n *= d
		}
		if p.Name != "pos_start" {
			ts = append(ts, pth.Tensor{Name: p.Name, DType: "F32", Shape: sh, Raw: make([]byte, 4*n)})
		}
	}
	ts = append(ts, pth.Tensor{Name: "blocks.0.attn.zero_k_bias", DType: "F32", Shape: []int{32}, Raw: make([]byte, 128)},
		pth.Tensor{Name: "lvl_embed.weight", DType: "F32", Shape: []int{10, 32}, Raw: make([]byte, 1280)})
	path := filepath.Join(t.TempDir(), "bad.pth")
	require.NoError(t, pth.WriteFile(path, ts, pth.WriteOptions{}))
	err := m.LoadWeights(path)
	require.Error(t, err)
	for _, want := range []string{"3 mismatches", "missing pos_start", "shape of head.bias: want [16], got [99]", "unexpected lvl_embed.weight"} {
		assert.ErrorContains(t, err, want)
	}
	assert.NotContains(t, err.Error(), "zero_k_bias")
}
