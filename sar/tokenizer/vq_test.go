package tokenizer

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"sargo/autograd"
	"sargo/sar/schedule"
	"sargo/tensor"
)

// smallConfig is a tokenizer with a latent of side 2 for each downsample.
func smallConfig(downsample int) Config {
	return Config{ImageChannels: 1, ImageSize: 2 * downsample, Downsample: downsample, Base: 4, ResBlocks: 1, CVae: 4, Codebook: 16, Beta: 0.25}
}

func TestConfigValidate(t *testing.T) {
	ok := smallConfig(4)
	cases := []struct {
		name   string
		mutate func(c *Config)
		want   string // "" for valid
	}{
		{"valid", func(c *Config) {}, ""},
		{"downsample", func(c *Config) { c.Downsample = 3 }, "Downsample: 3, want 4, 8 or 16"},
		{"image size", func(c *Config) { c.ImageSize = 10 }, "ImageSize: 10 is not a multiple of Downsample 4"},
		{"channels", func(c *Config) { c.ImageChannels = 0 }, "ImageChannels"},
		{"base", func(c *Config) { c.Base = 0 }, "Base"},
		{"resblocks", func(c *Config) { c.ResBlocks = 0 }, "ResBlocks"},
		{"cvae", func(c *Config) { c.CVae = 0 }, "CVae"},
		{"codebook", func(c *Config) { c.Codebook = 1 }, "Codebook"},
		{"beta", func(c *Config) { c.Beta = -1 }, "Beta"},
		{"NaN beta", func(c *Config) { c.Beta = float32(math.NaN()) }, "Beta: NaN"},
		{"huge base", func(c *Config) { c.Base = 1 << 20 }, "Base: 1048576, want 1 to 4096"},
		{"huge image", func(c *Config) { c.ImageSize = 1 << 20 }, "ImageSize: 1048576, want 1 to 8192"},
		{"huge codebook", func(c *Config) { c.Codebook = 1 << 30 }, "Codebook: 1073741824"},
		{"huge res blocks", func(c *Config) { c.ResBlocks = 100_000_000 }, "ResBlocks: 100000000"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := ok
			c.mutate(&cfg)
			err := cfg.Validate()
			if c.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, c.want)
		})
	}
}

// TestNumParams checks the closed form against the weights New makes.
func TestNumParams(t *testing.T) {
	for _, c := range []Config{smallConfig(4), smallConfig(8), smallConfig(16),
		{ImageChannels: 3, ImageSize: 16, Downsample: 8, Base: 6, ResBlocks: 2, CVae: 5, Codebook: 7, Beta: 0.25}} {
		m, err := New(c, cpu(t), 1)
		require.NoError(t, err)
		n := 0
		for _, p := range m.Parameters() {
			n += p.Var.Value.Size()
		}
		require.Equal(t, int64(n), c.NumParams(), "%+v", c)
	}
}

// TestMemoryBudget checks that a tokenizer larger than the memory budget
// is refused before any weight is made, naming both sizes.
func TestMemoryBudget(t *testing.T) {
	t.Setenv("SARGO_MEMORY_LIMIT", "1MiB")
	c := smallConfig(4)
	c.Base = 256
	_, err := New(c, cpu(t), 1)
	require.ErrorContains(t, err, fmt.Sprintf("a tokenizer of %d weights (base 256", c.NumParams()))
	require.ErrorContains(t, err, "but --memory-limit (SARGO_MEMORY_LIMIT) allows 1.0 MiB")
}

func TestShapes(t *testing.T) {
	b := cpu(t)
	cases := []struct {
		downsample, size, latent, levels int
	}{
		{4, 32, 8, 3},
		{8, 32, 4, 4},
		{16, 32, 2, 5},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("downsample %d", c.downsample), func(t *testing.T) {
			cfg := Config{ImageChannels: 3, ImageSize: c.size, Downsample: c.downsample, Base: 4, ResBlocks: 1, CVae: 5, Codebook: 7, Beta: 0.25}
			require.Equal(t, c.latent, cfg.Latent())
			require.Equal(t, c.levels, cfg.levels())
			m, err := New(cfg, b, 3)
			require.NoError(t, err)
			x := randImages(t, b, cfg, 2, 1)
			h := m.Encode(nil, autograd.Const(x))
			require.Equal(t, []int{2, 5, c.latent, c.latent}, h.Shape())
			for _, s := range []int{1, c.latent} {
				q := m.Quantize(nil, h, s)
				require.Equal(t, []int{2, 5, s, s}, q.Z.Shape())
				require.Equal(t, []int{2, s * s}, q.IDs.Shape())
				require.Equal(t, 1, q.Loss.Value.Size())
				y := m.Decode(nil, q.Z)
				require.Equal(t, []int{2, 3, c.size, c.size}, y.Shape())
			}
			require.Equal(t, []int{7, 5}, m.Codebook().Shape())
		})
	}
}

// TestGradCheck compares the analytic gradients of the decoder (from
// coarse latents, through the bicubic upsample) and of the encoder (through
// the area downsample and the normalisation the straight-through estimator
// passes the gradient to) with finite differences.
func TestGradCheck(t *testing.T) {
	b := cpu(t)
	// A 4×4 latent keeps several elements in every GroupNorm group, so
	// the function is smooth at the finite-difference step.
	cfg := smallConfig(4)
	cfg.ImageSize = 16
	m, err := New(cfg, b, 5)
	require.NoError(t, err)
	cases := []struct {
		name  string
		input *tensor.Tensor
		f     func(g *autograd.Graph, xs []*autograd.Var) *autograd.Var
	}{
		{"decoder from 2x2", tensor.Randn(b, 2, 0, 1, cfg.CVae, 2, 2), func(g *autograd.Graph, xs []*autograd.Var) *autograd.Var {
			return m.Decode(g, xs[0])
		}},
		{"decoder from 3x3", tensor.Randn(b, 3, 0, 1, cfg.CVae, 3, 3), func(g *autograd.Graph, xs []*autograd.Var) *autograd.Var {
			return m.Decode(g, xs[0])
		}},
		{"encoder to normalised 1x1 queries", randImages(t, b, cfg, 1, 4), func(g *autograd.Graph, xs []*autograd.Var) *autograd.Var {
			h := g.Interpolate(m.Encode(g, xs[0]), 1, 1, tensor.InterpArea)
			return g.L2Normalize(h, 1, l2Eps)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := autograd.CheckGrad(c.f, []*tensor.Tensor{c.input}, autograd.CheckOptions{H: 1e-2, ATol: 2e-3, RTol: 2e-2})
			require.NoError(t, err, "max abs %v rel %v", res.MaxAbs, res.MaxRel)
		})
	}
}

// TestStraightThrough checks that the gradient reaching the images
// through Quantize equals the gradient through the normalised,
// area-downsampled latent (the straight-through estimator), and that every
// parameter of the encoder, codebook and decoder receives a gradient from
// the training loss.
func TestStraightThrough(t *testing.T) {
	b := cpu(t)
	cfg := smallConfig(4)
	m, err := New(cfg, b, 6)
	require.NoError(t, err)
	x := randImages(t, b, cfg, 2, 7)
	r := tensor.Randn(b, 8, 0, 2, cfg.CVae, 1, 1)

	grad := func(through func(g *autograd.Graph, h *autograd.Var) *autograd.Var) []float32 {
		xp := autograd.Param(x.Clone())
		g := autograd.NewGraph(b)
		defer g.Close()
		out := through(g, m.Encode(g, xp))
		require.NoError(t, g.Backward(g.Sum(g.Mul(out, autograd.Const(r)), false)))
		v, err := xp.Grad.Read()
		require.NoError(t, err)
		return v
	}
	st := grad(func(g *autograd.Graph, h *autograd.Var) *autograd.Var { return m.Quantize(g, h, 1).Z })
	ref := grad(func(g *autograd.Graph, h *autograd.Var) *autograd.Var {
		return g.L2Normalize(g.Interpolate(h, 1, 1, tensor.InterpArea), 1, l2Eps)
	})
	require.InDeltaSlice(t, ref, st, 1e-5)
	nn0 := 0.0
	for _, v := range st {
		nn0 += math.Abs(float64(v))
	}
	require.Greater(t, nn0, 0.0)

	g := autograd.NewGraph(b)
	defer g.Close()
	xv := autograd.Const(x)
	q := m.Quantize(g, m.Encode(g, xv), 2)
	loss := g.Add(reconLoss(g, m.Decode(g, q.Z), xv), q.Loss)
	require.NoError(t, g.Backward(loss))
	for _, p := range m.Parameters() {
		require.NotNil(t, p.Var.Grad, "no gradient for %s", p.Name)
	}
}

// TestQuantizeCosineNearest compares Quantize with a brute-force search on
// the host over the area-downsampled latent.
func TestQuantizeCosineNearest(t *testing.T) {
	b := cpu(t)
	cfg := Config{ImageChannels: 1, ImageSize: 16, Downsample: 4, Base: 4, ResBlocks: 1, CVae: 6, Codebook: 40, Beta: 0.25}
	m, err := New(cfg, b, 9)
	require.NoError(t, err)
	L := cfg.Latent()
	h := tensor.Randn(b, 10, 0, 3, cfg.CVae, L, L)
	cb, err := m.Codebook().Read()
	require.NoError(t, err)
	for _, s := range []int{1, 2, 3, 4} {
		q := m.Quantize(nil, autograd.Const(h), s)
		ids, err := q.IDs.Read()
		require.NoError(t, err)
		z, err := q.Z.Value.Contiguous().Read()
		require.NoError(t, err)
		hs, err := tensor.Interpolate(h, s, s, tensor.InterpArea).Read()
		require.NoError(t, err)
		for bi := range 3 {
			for p := range s * s {
				best, bestSim := -1, math.Inf(-1)
				var norm float64
				for c := range cfg.CVae {
					v := float64(hs[(bi*cfg.CVae+c)*s*s+p])
					norm += v * v
				}
				norm = math.Sqrt(norm)
				for k := range cfg.Codebook {
					var dot float64
					for c := range cfg.CVae {
						dot += float64(hs[(bi*cfg.CVae+c)*s*s+p]) / norm * float64(cb[k*cfg.CVae+c])
					}
					if dot > bestSim {
						best, bestSim = k, dot
					}
				}
				require.Equal(t, float32(best), ids[bi*s*s+p], "scale %d image %d position %d", s, bi, p)
				for c := range cfg.CVae {
					require.InDelta(t, cb[best*cfg.CVae+c], z[(bi*cfg.CVae+c)*s*s+p], 1e-6)
				}
			}
		}
	}
}

func TestTokenizeMatchesQuantize(t *testing.T) {
	b := cpu(t)
	cfg := Config{ImageChannels: 1, ImageSize: 32, Downsample: 4, Base: 4, ResBlocks: 1, CVae: 4, Codebook: 32, Beta: 0.25}
	m, err := New(cfg, b, 11)
	require.NoError(t, err)
	x := randImages(t, b, cfg, 2, 12)
	sc := schedule.VARList(cfg.Latent())
	ids, z := m.Tokenize(x, sc)
	require.Len(t, ids, len(sc))
	require.Len(t, z, len(sc))
	h := m.Encode(nil, autograd.Const(x))
	for k, s := range sc {
		q := m.Quantize(nil, h, s)
		want, err := q.IDs.Read()
		require.NoError(t, err)
		got, err := ids[k].Read()
		require.NoError(t, err)
		require.Equal(t, want, got, "scale %d", s)
		require.Equal(t, []int{2, cfg.CVae, s, s}, z[k].Shape())
		zq, err := q.Z.Value.Contiguous().Read()
		require.NoError(t, err)
		zt, err := z[k].Read()
		require.NoError(t, err)
		require.InDeltaSlice(t, zq, zt, 1e-6, "scale %d", s)
		emb, err := m.Embed(ids[k], s).Read()
		require.NoError(t, err)
		require.Equal(t, zt, emb)
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	b := cpu(t)
	cfg := smallConfig(8)
	m, err := New(cfg, b, 13)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "tok.safetensors")
	require.NoError(t, m.Save(path, nil))

	got, err := ReadConfig(path)
	require.NoError(t, err)
	require.Equal(t, cfg, got)
	m2, st, err := Load(path, b)
	require.NoError(t, err)
	require.Equal(t, cfg, m2.Cfg)
	require.Equal(t, 0, st.Step)

	x := randImages(t, b, cfg, 2, 14)
	for _, s := range []int{1, 2} {
		a, err := m.Reconstruct(x, s).Read()
		require.NoError(t, err)
		c, err := m2.Reconstruct(x, s).Read()
		require.NoError(t, err)
		require.Equal(t, a, c, "scale %d", s)
	}
	ca, _ := m.Codebook().Read()
	cb, _ := m2.Codebook().Read()
	require.Equal(t, ca, cb)
}

func TestLoadErrors(t *testing.T) {
	b := cpu(t)
	dir := t.TempDir()
	cases := []struct {
		name string
		path string
		want string
	}{
		{"missing", filepath.Join(dir, "none.safetensors"), "none.safetensors"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := Load(c.path, b)
			require.ErrorContains(t, err, c.want)
		})
	}
}
