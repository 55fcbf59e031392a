package main

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/bench"
	"sargo/sar"
	"sargo/sar/preset"
	"sargo/sar/tokenizer"
	"sargo/sar/train"
	"sargo/tensor"
)

// TestSamplePublished samples 256-px images from synthetic released models
// (random weights under the authors' key names and layouts): FlexVAR d16
// with FlexVAE on the CPU, and a depth-2 FlexVAR of the same width on
// Vulkan, with the authors' sampling defaults.
func TestSamplePublished(t *testing.T) {
	if testing.Short() || os.Getenv("SARGO_LONG") != "1" {
		t.Skip("writes and samples a 1.3 GB model (minutes on the CPU, more on lavapipe): set SARGO_LONG=1")
	}
	dir := t.TempDir()
	vae := filepath.Join(dir, "FlexVAE.pth")
	require.NoError(t, bench.WriteSyntheticVQ(vae, tokenizer.FlexVAE(), 6))
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
			cfg := sar.Config{Depth: tc.depth, Width: 1024, Heads: 16, MLPRatio: 4, NumClasses: 1000, Vocab: 8912, CVae: 32,
				Largest: 16, CondDrop: 0.1, DropPath: 0.1 * float32(tc.depth) / 24, AttnL2: true}
			require.NoError(t, bench.WriteSyntheticFlexVAR(model, cfg, 5))
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
				"--out", out, "--steps", "2", "--batch", "2", "--log-every", "1", "--preset", "tiny", "--lr", "1e-4"})
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

// TestInitScheduleOfPublished checks that post-training a released d16
// continues FlexVAR d16's learning-rate schedule where the authors' SAR
// run does: at the start of epoch 179 of a schedule stretched to 190
// epochs, about 4.7e-5 falling to 3e-5, without warm-up.
func TestInitScheduleOfPublished(t *testing.T) {
	const images = 1281167
	d16, err := preset.Get("d16")
	require.NoError(t, err)
	// small_var.pth records "epoch": 180, as FlexVARd16-epo179.pth does.
	st, err := initTrainState(filepath.Join("..", "..", "testdata", "flexvar", "small_var.pth"), d16.Model, images)
	require.NoError(t, err)
	spe := images / 768
	assert.Equal(t, 179*spe, st.Step)
	run := d16.Train
	run.Method, run.Epochs = "sar", 11
	cfg, err := train.ContinueFrom(run, st, images)
	require.NoError(t, err)
	sched, from := cfg.Rates(cfg.TotalSteps(images))
	assert.Equal(t, 190*spe, sched.Total)
	assert.InDelta(t, 4.7e-5, sched.LR(from), 0.2e-5)
	assert.InDelta(t, 3.0e-5, sched.LR(from+cfg.TotalSteps(images)-1), 0.1e-5)

	_, err = initTrainState(filepath.Join("..", "..", "testdata", "flexvar", "small_var.pth"),
		sar.Config{Depth: 2, Width: 32}, images)
	assert.ErrorContains(t, err, "pass --lr")
}
