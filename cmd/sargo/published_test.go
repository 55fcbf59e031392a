package main

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/nn"
	"sargo/nn/pth"
	"sargo/sar"
	"sargo/sar/schedule"
	"sargo/sar/tokenizer"
	"sargo/tensor"
)

// pthTensors reads params to PyTorch tensors.
func pthTensors(t *testing.T, params []nn.NamedParam) []pth.Tensor {
	t.Helper()
	out := make([]pth.Tensor, 0, len(params))
	for _, p := range params {
		d, err := p.Var.Value.Read()
		require.NoError(t, err)
		out = append(out, pth.Tensor(nn.NewSTensorF32(p.Name, p.Var.Value.Shape(), d)))
	}
	return out
}

// writeSyntheticFlexVAR writes a randomly initialised FlexVAR of the given
// depth and width (heads = depth, 1000 classes, 8912 codes, grid 32) as
// FlexVAR's training checkpoints lay it out: under trainer.var_wo_ddp, with
// the buffers attn_bias_for_masking [1, 1, 680, 680] and every block's
// attn.zero_k_bias.
func writeSyntheticFlexVAR(t *testing.T, path string, depth, width int) {
	t.Helper()
	cfg := sar.Config{Depth: depth, Width: width, Heads: width / 64, MLPRatio: 4, NumClasses: 1000, Vocab: 8912, CVae: 32,
		Largest: 16, CondDrop: 0.1, DropPath: 0.1 * float32(depth) / 24, AttnL2: true}
	m, err := sar.NewModel(cfg, tensor.MustOpen("cpu"), 5)
	require.NoError(t, err)
	ts := pthTensors(t, m.Parameters())
	ids := schedule.VARList(16).ScaleIDs()
	mask := make([]float32, len(ids)*len(ids))
	for i := range ids {
		for j := range ids {
			if ids[j] > ids[i] {
				mask[i*len(ids)+j] = float32(math.Inf(-1))
			}
		}
	}
	ts = append(ts, pth.Tensor(nn.NewSTensorF32("attn_bias_for_masking", []int{1, 1, len(ids), len(ids)}, mask)))
	for i := range depth {
		ts = append(ts, pth.Tensor(nn.NewSTensorF32("blocks."+strconv.Itoa(i)+".attn.zero_k_bias", []int{width}, make([]float32, width))))
	}
	require.NoError(t, pth.WriteFile(path, ts, pth.WriteOptions{Key: "trainer.var_wo_ddp"}))
}

// writeSyntheticFlexVAE writes a randomly initialised FlexVAE as
// FlexVAE.pth lays it out: under "model", with quantize.codebook_used.
func writeSyntheticFlexVAE(t *testing.T, path string) {
	t.Helper()
	vq, err := tokenizer.New(tokenizer.FlexVAE(), tensor.MustOpen("cpu"), 6)
	require.NoError(t, err)
	ts := pthTensors(t, vq.Parameters())
	used := make([]byte, 8*65536)
	for i := range 65536 {
		binary.LittleEndian.PutUint64(used[8*i:], uint64(i%8912))
	}
	ts = append(ts, pth.Tensor{Name: "quantize.codebook_used", DType: "I64", Shape: []int{65536}, Raw: used})
	require.NoError(t, pth.WriteFile(path, ts, pth.WriteOptions{Key: "model"}))
}

// TestSamplePublished samples 256-px images from synthetic released models
// (random weights under the authors' key names and layouts): FlexVAR d16
// with FlexVAE on the CPU, and a depth-2 FlexVAR of the same width on
// Vulkan, with the authors' sampling defaults.
func TestSamplePublished(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and samples a 1.3 GB model")
	}
	dir := t.TempDir()
	vae := filepath.Join(dir, "FlexVAE.pth")
	writeSyntheticFlexVAE(t, vae)
	tests := []struct {
		device string
		depth  int
	}{{"cpu", 16}, {"vulkan", 2}}
	for _, tc := range tests {
		t.Run(tc.device, func(t *testing.T) {
			if tc.device == "vulkan" && !vulkanAvailable() {
				if os.Getenv("SARGO_REQUIRE_VULKAN") == "1" {
					t.Fatal("no Vulkan device")
				}
				t.Skip("no Vulkan device")
			}
			model := filepath.Join(dir, "FlexVARd"+strconv.Itoa(tc.depth)+".pth")
			writeSyntheticFlexVAR(t, model, tc.depth, 1024)
			out := filepath.Join(dir, tc.device+".png")
			cmd := newSampleCmd(&globalOptions{device: tc.device, seed: 1})
			var buf bytes.Buffer
			cmd.SetOut(&buf)
			cmd.SetErr(&buf)
			cmd.SetArgs([]string{"--model", model, "--tokenizer", vae, "--class", "207", "--out", out})
			require.NoError(t, cmd.Execute(), buf.String())
			assert.Contains(t, buf.String(), "wrote 1 samples (schedule 1_2_3_4_5_6_8_10_13_16, cfg 2.2)")
			f, err := os.Open(out)
			require.NoError(t, err)
			defer f.Close()
			img, err := png.Decode(f)
			require.NoError(t, err)
			assert.GreaterOrEqual(t, img.Bounds().Dx(), 256)
			assert.GreaterOrEqual(t, img.Bounds().Dy(), 256)
		})
	}
}

// TestTrainInitPublished post-trains (SAR) a FlexVAR state dict saved by
// PyTorch, and its safetensors conversion, with its VQ-16 tokenizer on a
// folder of images of mixed sizes (random crops and flips).
func TestTrainInitPublished(t *testing.T) {
	dir := t.TempDir()
	flex := filepath.Join("..", "..", "testdata", "flexvar")
	vae, model := filepath.Join(flex, "small_vae.pth"), filepath.Join(flex, "small_var.pth")
	conv := filepath.Join(dir, "var.safetensors")
	_, err := runConvert(t, model, conv)
	require.NoError(t, err)
	for c, class := range []string{"n01", "n02"} {
		for i := range 3 {
			img := image.NewRGBA(image.Rect(0, 0, 40+9*i, 35+4*c))
			for p := range img.Pix {
				img.Pix[p] = uint8(p*(3+i+c) + 255*((p+1)%4/3))
			}
			var b bytes.Buffer
			require.NoError(t, png.Encode(&b, img))
			p := filepath.Join(dir, "data", class, strconv.Itoa(i)+".png")
			require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
			require.NoError(t, os.WriteFile(p, b.Bytes(), 0o644))
		}
	}
	for i, init := range []string{model, conv} {
		t.Run(filepath.Ext(init), func(t *testing.T) {
			out := filepath.Join(dir, "run"+strconv.Itoa(i))
			cmd := newTrainCmd(&globalOptions{device: "cpu"})
			var buf bytes.Buffer
			cmd.SetOut(&buf)
			cmd.SetErr(&buf)
			cmd.SetArgs([]string{"--method", "sar", "--init", init, "--tokenizer", vae, "--data", filepath.Join(dir, "data"),
				"--out", out, "--steps", "2", "--batch", "2", "--log-every", "1", "--preset", "tiny"})
			require.NoError(t, cmd.Execute(), buf.String())
			m, _, err := sar.LoadModel(filepath.Join(out, "model.safetensors"), tensor.MustOpen("cpu"))
			require.NoError(t, err)
			assert.Equal(t, 10, m.Cfg.NumClasses, "sizes from the released file")
			assert.Equal(t, 64, m.Cfg.Vocab)
			_, err = os.Stat(filepath.Join(out, "samples", "step_000002.png"))
			require.NoError(t, err)
		})
	}
}
