package tokenizer

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
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

// flexvarDir holds the small parity goldens written by
// bench/torch/flexvar_golden.py from its PyTorch reference of FlexVAR's
// VQ-16 (weights under the authors' names, saved with torch.save).
var flexvarDir = filepath.Join("..", "..", "testdata", "flexvar")

// vulkan opens the Vulkan device, skipping when there is none (failing
// when SARGO_REQUIRE_VULKAN=1).
func vulkan(t *testing.T) tensor.Backend {
	t.Helper()
	b, err := tensor.Open("vulkan")
	if err != nil {
		if os.Getenv("SARGO_REQUIRE_VULKAN") == "1" {
			require.NoError(t, err)
		}
		t.Skipf("no Vulkan device: %v", err)
	}
	return b
}

// goldenFile is a parity golden: named tensors and metadata.
type goldenFile struct {
	t *testing.T
	f *nn.Safetensors
}

func readGolden(t *testing.T, path string) goldenFile {
	t.Helper()
	f, err := nn.ReadSafetensorsFile(path)
	require.NoError(t, err, "goldens are written by bench/torch/flexvar_golden.py")
	return goldenFile{t, f}
}

func (g goldenFile) values(name string) ([]float32, []int) {
	g.t.Helper()
	st, ok := g.f.Lookup(name)
	require.True(g.t, ok, "golden tensor %s", name)
	d, err := st.Float32s()
	require.NoError(g.t, err)
	return d, st.Shape
}

func (g goldenFile) tensor(dev tensor.Backend, name string) *tensor.Tensor {
	d, sh := g.values(name)
	return tensor.FromSlice(dev, d, sh...)
}

// vqSchedule is the scales the golden tokenized.
func (g goldenFile) vqSchedule() schedule.Schedule {
	sc, err := schedule.Parse(g.f.Metadata["vq_schedule"], 0)
	require.NoError(g.t, err)
	return sc
}

// match checks got against the golden tensor to rel relative to the
// golden's largest magnitude.
func (g goldenFile) match(name string, got *tensor.Tensor, rel float64) {
	g.t.Helper()
	want, sh := g.values(name)
	require.Equal(g.t, sh, got.Shape(), name)
	d, err := got.Read()
	require.NoError(g.t, err)
	var scale, diff float64
	for i, w := range want {
		scale = math.Max(scale, math.Abs(float64(w)))
		diff = math.Max(diff, math.Abs(float64(w)-float64(d[i])))
	}
	g.t.Logf("%-16s relative error %.2e", name, diff/scale)
	assert.LessOrEqual(g.t, diff/scale, rel, name)
}

// matchIDs checks that every id equals the golden's where the golden's
// cosine margin over the second-best code exceeds minMargin (closer calls
// may flip with float32 rounding), and reports how many calls were closer.
func (g goldenFile) matchIDs(k int, got *tensor.Tensor, minMargin float32) {
	g.t.Helper()
	want, _ := g.values("ids." + strconv.Itoa(k))
	margin, _ := g.values("margin." + strconv.Itoa(k))
	d, err := got.Read()
	require.NoError(g.t, err)
	require.Len(g.t, d, len(want))
	close, wrong := 0, 0
	for i := range want {
		if margin[i] <= minMargin {
			close++
			continue
		}
		if d[i] != want[i] {
			wrong++
		}
	}
	assert.Zero(g.t, wrong, "scale %d: ids differing from the reference (of %d; %d near ties skipped)", k, len(want), close)
}

// loadSmallVAE loads the small VQ-16 (stored as float16 under the
// authors' names, nested under "model") onto dev; its images are 32 px.
func loadSmallVAE(t *testing.T, dev tensor.Backend) *VQ {
	t.Helper()
	m, st, err := Load(filepath.Join(flexvarDir, "small_vae.pth"), dev)
	require.NoError(t, err)
	assert.Zero(t, st.Step)
	m.Cfg.ImageSize = 32 // a convolutional model: the file does not say
	return m
}

func TestVQ16ConfigFromFile(t *testing.T) {
	cfg, err := ReadConfig(filepath.Join(flexvarDir, "small_vae.pth"))
	require.NoError(t, err)
	assert.Equal(t, Config{ImageChannels: 3, ImageSize: 64, Downsample: 4, Base: 32, ResBlocks: 1, CVae: 8, Codebook: 64,
		Beta: 0.25, Arch: ArchVQ16, ChannelMult: []int{1, 1, 1}, ZChannels: 16}, cfg)
}

// TestVQ16Parity checks encode (latent and ids per scale) and decode (at
// full and native size) against the PyTorch reference, on the CPU and on
// Vulkan.
func TestVQ16Parity(t *testing.T) {
	for _, name := range []string{"cpu", "vulkan"} {
		t.Run(name, func(t *testing.T) {
			dev := cpu(t)
			if name == "vulkan" {
				dev = vulkan(t)
			}
			g := readGolden(t, filepath.Join(flexvarDir, "small_golden.safetensors"))
			m := loadSmallVAE(t, dev)
			x := g.tensor(dev, "image")
			h := m.Encode(nil, autograd.Const(x))
			g.match("latent", h.Value, 1e-4)
			sc := g.vqSchedule()
			ids, _ := m.Tokenize(x, sc)
			for k := range sc {
				g.matchIDs(k, ids[k], 1e-5)
			}
			last := sc.Last()
			z := m.Embed(g.tensor(dev, "ids."+strconv.Itoa(len(sc)-1)), last)
			g.match("decoded", m.Decode(nil, autograd.Const(z)).Value, 1e-4)

			ns, err := strconv.Atoi(g.f.Metadata["native_scale"])
			require.NoError(t, err)
			k := slices.Index(sc, ns)
			require.GreaterOrEqual(t, k, 0, "native scale %d in schedule %s", ns, sc)
			zn := m.Embed(g.tensor(dev, "ids."+strconv.Itoa(k)), ns)
			native := m.dec.forward(nil, m.postQuantConv.Forward(nil, autograd.Const(zn)))
			g.match("decoded_native", native.Value, 1e-4)
			// Decode gives the native-size image upsampled to the full size.
			full := m.Decode(nil, autograd.Const(zn)).Value
			assert.Equal(t, []int{2, 3, 32, 32}, full.Shape())
			require.NoError(t, dev.Sync())
		})
	}
}

// TestVQ16Names checks the full FlexVAE configuration's parameter names
// and shapes against the reference state dict's (FlexVAE.pth), and its size.
func TestVQ16Names(t *testing.T) {
	m, err := New(FlexVAE(), cpu(t), 1)
	require.NoError(t, err)
	shapes := map[string][]int{}
	var n int
	for _, p := range m.Parameters() {
		shapes[p.Name] = p.Var.Value.Shape()
		n += p.Var.Value.Size()
	}
	want := map[string][]int{
		"encoder.conv_in.weight":                          {128, 3, 3, 3},
		"encoder.conv_blocks.0.res.1.conv2.weight":        {128, 128, 3, 3},
		"encoder.conv_blocks.2.res.0.nin_shortcut.weight": {256, 128, 1, 1},
		"encoder.conv_blocks.3.downsample.conv.weight":    {256, 256, 3, 3},
		"encoder.conv_blocks.4.res.0.conv1.weight":        {512, 256, 3, 3},
		"encoder.conv_blocks.4.attn.1.proj_out.weight":    {512, 512, 1, 1},
		"encoder.mid.1.norm.weight":                       {512},
		"encoder.mid.2.conv2.bias":                        {512},
		"encoder.conv_out.weight":                         {256, 512, 3, 3},
		"quant_conv.weight":                               {32, 256, 1, 1},
		"quantize.embedding.weight":                       {8912, 32},
		"post_quant_conv.weight":                          {256, 32, 1, 1},
		"decoder.conv_in.weight":                          {512, 256, 3, 3},
		"decoder.mid.1.q.weight":                          {512, 512, 1, 1},
		"decoder.conv_blocks.0.res.2.conv1.weight":        {512, 512, 3, 3},
		"decoder.conv_blocks.0.attn.2.k.bias":             {512},
		"decoder.conv_blocks.0.upsample.conv.weight":      {512, 512, 3, 3},
		"decoder.conv_blocks.1.res.0.nin_shortcut.weight": {256, 512, 1, 1},
		"decoder.conv_blocks.3.res.0.nin_shortcut.weight": {128, 256, 1, 1},
		"decoder.conv_blocks.4.res.2.norm2.weight":        {128},
		"decoder.conv_out.weight":                         {3, 128, 3, 3},
	}
	for name, sh := range want {
		assert.Equal(t, sh, shapes[name], name)
	}
	for _, absent := range []string{"decoder.conv_blocks.4.upsample.conv.weight", "encoder.conv_blocks.4.downsample.conv.weight",
		"encoder.conv_blocks.3.attn.0.q.weight", "decoder.conv_blocks.1.attn.0.q.weight"} {
		assert.NotContains(t, shapes, absent)
	}
	assert.Len(t, shapes, 343, "tensors in FlexVAE.pth's state dict, less quantize.codebook_used")
	assert.Equal(t, 72_049_827, n, "parameters of VQ-16 with 8912 codes of 32 channels")
	assert.Equal(t, int64(n), FlexVAE().NumParams())
}

// TestVQ16ForeignErrors checks that files that are not VQ-16 state dicts
// say what is missing.
func TestVQ16ForeignErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, ts []pth.Tensor, opt pth.WriteOptions) string {
		p := filepath.Join(dir, name)
		require.NoError(t, pth.WriteFile(p, ts, opt))
		return p
	}
	f32 := func(name string, shape ...int) pth.Tensor {
		n := 1
		for _, d := range shape {
			n *= d
		}
		return pth.Tensor{Name: name, DType: "F32", Shape: shape, Raw: make([]byte, 4*n)}
	}
	noConv := write("noconv.pth", []pth.Tensor{f32("quantize.embedding.weight", 16, 4)}, pth.WriteOptions{Key: "model"})
	_, err := ReadConfig(noConv)
	assert.ErrorContains(t, err, "not a VQ-16 state dict")
	assert.ErrorContains(t, err, "no encoder.conv_in.weight")
	other := write("other.pth", []pth.Tensor{f32("head.weight", 4, 4)}, pth.WriteOptions{})
	_, _, err = Load(other, cpu(t))
	assert.ErrorContains(t, err, "no state dict holds quantize.embedding.weight")
}
