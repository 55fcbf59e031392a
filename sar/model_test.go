package sar

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/autograd"
	"sargo/nn"
	"sargo/sar/schedule"
	"sargo/tensor"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"ok", func(*Config) {}, ""},
		{"depth", func(c *Config) { c.Depth = 0 }, "Depth"},
		{"odd width", func(c *Config) { c.Width = 33 }, "Width"},
		{"heads", func(c *Config) { c.Heads = 3 }, "Heads"},
		{"mlp", func(c *Config) { c.MLPRatio = 0 }, "MLPRatio"},
		{"classes", func(c *Config) { c.NumClasses = 0 }, "NumClasses"},
		{"vocab", func(c *Config) { c.Vocab = 0 }, "Vocab"},
		{"cvae", func(c *Config) { c.CVae = 0 }, "CVae"},
		{"largest", func(c *Config) { c.Largest = 0 }, "Largest"},
		{"cond drop", func(c *Config) { c.CondDrop = 1 }, "CondDrop"},
		{"drop path", func(c *Config) { c.DropPath = -0.1 }, "DropPath"},
		{"huge depth", func(c *Config) { c.Depth = 100_000_000 }, "Depth 100000000 must be in [1, 1024]"},
		{"huge width", func(c *Config) { c.Width, c.Heads = 1<<20, 2 }, "Width 1048576"},
		{"tiny mlp ratio", func(c *Config) { c.MLPRatio = 0.001 }, "MLPRatio 0.001 gives an MLP of 0 hidden units"},
		{"huge mlp ratio", func(c *Config) { c.MLPRatio = 1e12 }, "MLPRatio 1e+12 must be in (0, 64]"},
		{"NaN mlp ratio", func(c *Config) { c.MLPRatio = float32(math.NaN()) }, "MLPRatio NaN"},
		{"huge classes", func(c *Config) { c.NumClasses = 1 << 40 }, "NumClasses 1099511627776"},
		{"huge vocab", func(c *Config) { c.Vocab = 1 << 30 }, "Vocab 1073741824"},
		{"huge largest", func(c *Config) { c.Largest = 1 << 30 }, "Largest 1073741824"},
		{"NaN cond drop", func(c *Config) { c.CondDrop = float32(math.NaN()) }, "CondDrop NaN"},
		{"init gamma", func(c *Config) { c.InitGamma = -1e-3 }, "InitGamma"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tinyConfig()
			tc.change(&c)
			err := c.Validate()
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.want)
		})
	}
}

// TestNumParams checks the closed form against the weights NewModel makes.
func TestNumParams(t *testing.T) {
	dev := tensor.MustOpen("cpu")
	for _, change := range []func(*Config){
		func(*Config) {},
		func(c *Config) { c.AttnL2 = false },
		func(c *Config) { c.MLPRatio, c.Depth, c.NumClasses = 2.5, 3, 7 },
		func(c *Config) { c.Width, c.Heads, c.Largest, c.Vocab, c.CVae = 24, 3, 5, 11, 6 },
	} {
		c := tinyConfig()
		change(&c)
		m, err := NewModel(c, dev, 1)
		require.NoError(t, err)
		assert.Equal(t, int64(nn.NumParams(m.Parameters())), c.NumParams(), "%+v", c)
	}
}

// TestModelMemoryBudget checks that a model larger than the memory budget
// is refused before any weight is made, naming both sizes.
func TestModelMemoryBudget(t *testing.T) {
	t.Setenv("SARGO_MEMORY_LIMIT", "1MiB")
	c := tinyConfig()
	c.Width, c.Depth = 1024, 8
	_, err := NewModel(c, tensor.MustOpen("cpu"), 1)
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf("a model of %d weights (depth 8, width 1024", c.NumParams()))
	assert.Contains(t, err.Error(), "needs 584.8 MiB")
	assert.Contains(t, err.Error(), "--memory-limit (SARGO_MEMORY_LIMIT) allows 1.0 MiB")
}

func TestParameters(t *testing.T) {
	m := tinyModel(t, 1)
	idx, err := nn.ParamIndex(m.Parameters())
	require.NoError(t, err)
	c := m.Cfg
	shapes := map[string][]int{
		"word_embed.weight":            {c.Width, c.CVae},
		"word_embed.bias":              {c.Width},
		"class_emb.weight":             {c.NumClasses + 1, c.Width},
		"pos_start":                    {1, 1, c.Width},
		"pos_1LC":                      {1, c.Width, 2 * c.Largest, 2 * c.Largest},
		"blocks.1.attn.mat_qkv.weight": {3 * c.Width, c.Width},
		"blocks.1.attn.scale_mul_1H11": {1, c.Heads, 1, 1},
		"blocks.0.ffn.fc2.weight":      {c.Width, 4 * c.Width},
		"blocks.0.ada_lin.1.weight":    {6 * c.Width, c.Width},
		"head_nm.ada_lin.1.weight":     {2 * c.Width, c.Width},
		"head.weight":                  {c.Vocab, c.Width},
		"head.bias":                    {c.Vocab},
	}
	for name, want := range shapes {
		p, ok := idx[name]
		require.True(t, ok, name)
		assert.Equal(t, want, p.Var.Shape(), name)
	}
	assert.Len(t, idx, 5+2*12+4) // top level, 12 per block, head
}

func TestInitScales(t *testing.T) {
	m := tinyModel(t, 2)
	std := func(v *autograd.Var) float64 {
		d := v.Value.Data()
		s := 0.0
		for _, x := range d {
			s += float64(x) * float64(x)
		}
		return math.Sqrt(s / float64(len(d)))
	}
	want := m.Cfg.InitStd()
	tests := []struct {
		name string
		v    *autograd.Var
		want float64
	}{
		{"class_emb", m.ClassEmb.Weight, want},
		{"word_embed", m.WordEmbed.Weight, want},
		{"fc1", m.Blocks[0].FFN.FC1.Weight, want},
		{"fc2", m.Blocks[0].FFN.FC2.Weight, want / 2},
		{"head", m.Head.Weight, want * initHead},
	}
	for _, tc := range tests {
		assert.InEpsilon(t, tc.want, std(tc.v), 0.2, tc.name)
	}
	// sin/cos grid: channel 0 is sin(row), channel 1 cos(col).
	g := m.PosGrid.Value
	n := 2 * m.Cfg.Largest
	d := g.Data()
	assert.InDelta(t, math.Sin(3), d[0*n*n+3*n+5], 1e-6)
	assert.InDelta(t, math.Cos(5), d[1*n*n+3*n+5], 1e-6)
}

// TestInitGamma checks the AdaLN gamma rows' scale: VAR's 1e-5 by
// default, the scripts' --alng when InitGamma is set.
func TestInitGamma(t *testing.T) {
	assert.Equal(t, float32(1e-3), ScriptInitGamma(16))
	assert.Equal(t, float32(1e-3), ScriptInitGamma(20))
	assert.Equal(t, float32(1e-4), ScriptInitGamma(24))
	rms := func(m *Model) float64 {
		w := m.Blocks[0].AdaLin.Lin.Weight.Value
		c := m.Cfg.Width
		d := w.Data()[:2*c*c] // rows [0, 2C): gamma1, gamma2
		s := 0.0
		for _, x := range d {
			s += float64(x) * float64(x)
		}
		return math.Sqrt(s / float64(len(d)))
	}
	for _, g := range []float32{0, 1e-3, 1e-4} {
		c := tinyConfig()
		c.InitGamma = g
		m, err := NewModel(c, dev(), 3)
		require.NoError(t, err)
		want := float64(g)
		if g == 0 {
			want = 1e-5
		}
		assert.InEpsilon(t, want*c.InitStd(), rms(m), 0.2, "InitGamma %g", g)
	}
}

// TestForwardStudent checks SAR's pass-2 first token: the class
// embedding alone. With the start vector zeroed, Forward and
// ForwardStudent agree; with it, every scale's logits differ.
func TestForwardStudent(t *testing.T) {
	m := tinyModel(t, 6)
	for _, b := range m.Blocks {
		scaleValue(b.AdaLin.Lin.Weight, 1e4)
	}
	sc := schedule.Schedule{1, 4}
	z := randLatents(2, m.Cfg.CVae, sc, 3)
	in := autograd.Const(NextScaleInputs(z, sc))
	labels := labelsOf(0, 2)
	tf := m.Forward(nil, labels, sc, in).Value.Data()
	sf := m.ForwardStudent(nil, labels, sc, in).Value.Data()
	assert.Greater(t, maxAbsDiff(t, tf, sf), 1e-3)
	scaleValue(m.PosStart, 0)
	tf0 := m.Forward(nil, labels, sc, in).Value.Data()
	assert.Less(t, maxAbsDiff(t, tf0, sf), 1e-6)
}

func TestForwardShapes(t *testing.T) {
	m := tinyModel(t, 3)
	tests := []schedule.Schedule{{1}, {1, 2}, {1, 2, 3, 4}, {2, 4}, {1, 3, 5, 8}}
	for _, sc := range tests {
		t.Run(sc.String(), func(t *testing.T) {
			b := 2
			z := randLatents(b, m.Cfg.CVae, sc, 7)
			var in *autograd.Var
			if x := NextScaleInputs(z, sc); x != nil {
				in = autograd.Const(x)
			}
			y := m.Forward(nil, labelsOf(0, 3), sc, in)
			assert.Equal(t, []int{b, sc.Tokens(), m.Cfg.Vocab}, y.Shape())
			for _, v := range y.Value.Data() {
				require.False(t, math.IsNaN(float64(v)))
			}
		})
	}
}

func TestForwardPanicsOnBadInputs(t *testing.T) {
	m := tinyModel(t, 3)
	bad := autograd.Const(tensor.Zeros(dev(), 1, 3, m.Cfg.CVae))
	assert.Panics(t, func() { m.Forward(nil, labelsOf(0), schedule.Schedule{1, 2}, bad) })
	assert.Panics(t, func() { m.Forward(nil, labelsOf(0), schedule.Schedule{1, 2}, nil) })
	assert.Panics(t, func() { m.Forward(nil, labelsOf(0), schedule.Schedule{2, 1}, nil) })
}

// TestBlockCausal changes the input of the last scale and checks that the
// logits of the earlier scales stay as they were while the last one moves.
func TestBlockCausal(t *testing.T) {
	m := tinyModel(t, 4)
	sc := schedule.Schedule{1, 2, 3, 4}
	b := 2
	z := randLatents(b, m.Cfg.CVae, sc, 8)
	in := NextScaleInputs(z, sc)
	y1 := m.Forward(nil, labelsOf(1, 2), sc, autograd.Const(in)).Value.Data()

	last := sc[len(sc)-1] * sc[len(sc)-1]
	rest := in.Dim(1)
	d := in.Data()
	for bi := range b {
		for i := rest - last; i < rest; i++ {
			for c := range m.Cfg.CVae {
				d[(bi*rest+i)*m.Cfg.CVae+c] += 3
			}
		}
	}
	in2 := tensor.FromSlice(dev(), d, in.Shape()...)
	y2 := m.Forward(nil, labelsOf(1, 2), sc, autograd.Const(in2)).Value.Data()
	L, V := sc.Tokens(), m.Cfg.Vocab
	for bi := range b {
		early := y1[bi*L*V : (bi*L+L-last)*V]
		assert.Equal(t, early, y2[bi*L*V:(bi*L+L-last)*V], "earlier scales changed")
		assert.Greater(t, maxAbsDiff(t, y1[(bi*L+L-last)*V:(bi+1)*L*V], y2[(bi*L+L-last)*V:(bi+1)*L*V]), 1e-4)
	}
}

func TestStepMatchesForward(t *testing.T) {
	m := tinyModel(t, 5)
	// Make the blocks matter: gammas at VAR's 1e-5 init hide them.
	for _, b := range m.Blocks {
		scaleValue(b.AdaLin.Lin.Weight, 1e4)
	}
	for _, sc := range []schedule.Schedule{{1, 2, 3, 4}, {1, 3, 6}, {2, 5, 8}} {
		t.Run(sc.String(), func(t *testing.T) {
			b := 3
			z := randLatents(b, m.Cfg.CVae, sc, 9)
			labels := labelsOf(0, 2, 3)
			full := m.Forward(nil, labels, sc, autograd.Const(NextScaleInputs(z, sc))).Value.Data()
			c := m.NewCache()
			off := sc.Offsets()
			L, V := sc.Tokens(), m.Cfg.Vocab
			for k, s := range sc {
				var in *tensor.Tensor
				if k > 0 {
					in = UpsampleTokens(z[k-1], s)
				}
				got := m.Step(c, labels, sc, k, in).Data()
				for bi := range b {
					want := full[(bi*L+off[k])*V : (bi*L+off[k+1])*V]
					d := maxAbsDiff(t, want, got[bi*s*s*V:(bi+1)*s*s*V])
					assert.Less(t, d, 1e-5, fmt.Sprintf("scale %d sample %d", k, bi))
				}
			}
			assert.Equal(t, L, c.Len())
			assert.Panics(t, func() { m.Step(c, labels, sc, 0, nil) })
			c.Reset()
			assert.Equal(t, 0, c.Next())
		})
	}
}

// TestPositions checks the grid resize against a direct area average and
// that the position gradient reaches the grid.
func TestPositions(t *testing.T) {
	m := tinyModel(t, 6)
	n := 2 * m.Cfg.Largest
	grid := m.PosGrid.Value.Data()
	sc := schedule.Schedule{1, 2, 4}
	g := autograd.NewGraph(dev())
	defer g.Close()
	p := m.Positions(g, sc)
	require.Equal(t, []int{1, sc.Tokens(), m.Cfg.Width}, p.Shape())
	got := p.Value.Data()
	at := 0
	for _, s := range sc {
		r := n / s
		for i := range s {
			for j := range s {
				for c := range m.Cfg.Width {
					sum := 0.0
					for u := range r {
						for v := range r {
							sum += float64(grid[c*n*n+(i*r+u)*n+j*r+v])
						}
					}
					assert.InDelta(t, sum/float64(r*r), got[(at+i*s+j)*m.Cfg.Width+c], 1e-5)
				}
			}
		}
		at += s * s
	}
	require.NoError(t, g.Backward(g.Sum(p, false)))
	require.NotNil(t, m.PosGrid.Grad)
	// Every grid cell is covered by the 1×1 scale once, so the gradient sum
	// is the token count times width.
	gs := 0.0
	for _, v := range m.PosGrid.Grad.Data() {
		gs += float64(v)
	}
	assert.InDelta(t, float64(sc.Tokens()*m.Cfg.Width), gs, 1e-2)
}

// TestPositionsReadAgain checks that a second pass on one graph (SAR's
// student pass) reads the first pass's position embeddings of a scale
// size, that the grid's gradient is that of both passes, and that another
// graph resizes the grid again.
func TestPositionsReadAgain(t *testing.T) {
	m := tinyModel(t, 6)
	g := autograd.NewGraph(dev())
	defer g.Close()
	p1 := m.Positions(g, schedule.Schedule{1, 2, 4})
	p2 := m.Positions(g, schedule.Schedule{1, 4})
	require.Equal(t, []int{1, 17, m.Cfg.Width}, p2.Shape())
	assert.Equal(t, p1.Value.Narrow(1, 5, 16).Data(), p2.Value.Narrow(1, 1, 16).Data())
	assert.Same(t, m.scalePositions(g, 4), m.scalePositions(g, 4))
	require.NoError(t, g.Backward(g.Add(g.Sum(p1, false), g.Sum(p2, false))))
	gs := 0.0
	for _, v := range m.PosGrid.Grad.Data() {
		gs += float64(v)
	}
	assert.InDelta(t, float64((21+17)*m.Cfg.Width), gs, 1e-2)

	g2 := autograd.NewGraph(dev())
	defer g2.Close()
	assert.NotSame(t, m.scalePositions(g, 4), m.scalePositions(g2, 4))
	assert.NotSame(t, m.scalePositions(nil, 2), m.scalePositions(nil, 2))
}

func TestDropLabels(t *testing.T) {
	m := tinyModel(t, 7)
	n := 20000
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(i % m.Cfg.NumClasses)
	}
	labels := tensor.FromSlice(dev(), v, n)
	out := m.DropLabels(labels, 11, 0).Data()
	dropped := 0
	for i, l := range out {
		if l == float32(m.Cfg.NumClasses) {
			dropped++
		} else {
			require.Equal(t, v[i], l)
		}
	}
	assert.InDelta(t, m.Cfg.CondDrop, float64(dropped)/float64(n), 0.01)
	assert.Equal(t, out, m.DropLabels(labels, 11, 0).Data(), "same seed and offset")
	assert.NotEqual(t, out, m.DropLabels(labels, 11, uint64(n)).Data(), "another offset")
	assert.Equal(t, v, labels.Data(), "input untouched")
}

func TestNextScaleInputs(t *testing.T) {
	sc := schedule.Schedule{1, 2, 4, 5}
	b, cv := 2, 3
	z := randLatents(b, cv, sc, 12)
	got := NextScaleInputs(z, sc)
	require.Equal(t, []int{b, sc.Tokens() - 1, cv}, got.Shape())
	gd := got.Data()
	rest := sc.Tokens() - 1
	at := 0
	for k := 1; k < len(sc); k++ {
		s := sc[k]
		up := tensor.Interpolate(z[k-1], s, s, tensor.InterpBicubic).Data() // [B, C, s, s]
		for bi := range b {
			for i := range s * s {
				for c := range cv {
					assert.Equal(t, up[(bi*cv+c)*s*s+i], gd[(bi*rest+at+i)*cv+c])
				}
			}
		}
		at += s * s
	}
	assert.Nil(t, NextScaleInputs(z, schedule.Schedule{1}))
}

func TestSaveLoad(t *testing.T) {
	m := tinyModel(t, 13)
	path := t.TempDir() + "/model.safetensors"
	st := &nn.TrainState{Step: 42, RNGOffset: 7, Config: []byte(`{"method":"sar"}`)}
	require.NoError(t, m.Save(path, st))
	assert.Equal(t, `{"method":"sar"}`, string(st.Config), "caller's state untouched")
	m2, st2, err := LoadModel(path, dev())
	require.NoError(t, err)
	assert.Equal(t, m.Cfg, m2.Cfg)
	assert.Equal(t, 42, st2.Step)
	assert.Equal(t, uint64(7), st2.RNGOffset)
	assert.Contains(t, string(st2.Config), `"method":"sar"`)
	p1, p2 := m.Parameters(), m2.Parameters()
	require.Equal(t, len(p1), len(p2))
	for i := range p1 {
		assert.Equal(t, p1[i].Var.Value.Data(), p2[i].Var.Value.Data(), p1[i].Name)
	}
	require.NoError(t, m.Save(path, nil))
	_, _, err = LoadModel(path, dev())
	require.NoError(t, err)
	_, _, err = LoadModel(t.TempDir()+"/missing.safetensors", dev())
	require.Error(t, err)
	require.ErrorContains(t, m.Save(path, &nn.TrainState{Config: []byte(`[1]`)}), "JSON object")
}

func TestDropPathTrainMode(t *testing.T) {
	cfg := tinyConfig()
	cfg.DropPath = 0.5
	m, err := NewModel(cfg, dev(), 14)
	require.NoError(t, err)
	for _, b := range m.Blocks {
		scaleValue(b.AdaLin.Lin.Weight, 1e4) // make the residual branches visible
	}
	sc := schedule.Schedule{1, 2}
	labels := labelsOf(0, 1, 2, 0, 1, 2, 0, 1)
	in := autograd.Const(NextScaleInputs(randLatents(8, cfg.CVae, sc, 15), sc))
	eval := m.Forward(nil, labels, sc, in).Value.Data()
	assert.Equal(t, eval, m.Forward(nil, labels, sc, in).Value.Data(), "eval mode is deterministic")
	m.SetTrain(true)
	require.True(t, m.Training())
	a := m.Forward(nil, labels, sc, in).Value.Data()
	b := m.Forward(nil, labels, sc, in).Value.Data()
	assert.NotEqual(t, a, b, "fresh drop-path draws per call")
	m.SetDropPathOffset(0)
	assert.Equal(t, a, m.Forward(nil, labels, sc, in).Value.Data(), "offset replays the stream")
	m.SetTrain(false)
	assert.Equal(t, eval, m.Forward(nil, labels, sc, in).Value.Data())
}

// TestStepHoldsOneBlock checks that a sampling step frees each block's
// temporaries as the block ends: the device's peak during a step of a
// deep model stays within the KV cache, the logits and a few blocks'
// activations, instead of growing with every block's.
func TestStepHoldsOneBlock(t *testing.T) {
	cfg := tinyConfig()
	cfg.Depth, cfg.Width, cfg.Heads, cfg.Vocab, cfg.Largest = 12, 64, 2, 256, 8
	d := dev()
	s := tensor.NewScope(d)
	defer s.Close()
	m, err := NewModel(cfg, d, 3)
	require.NoError(t, err)
	sc := schedule.Schedule{1, 8}
	b := 4
	z := randLatents(b, cfg.CVae, sc, 9)
	labels := labelsOf(0, 1, 2, 0)
	c := m.NewCache()
	defer c.Reset()
	m.Step(c, labels, sc, 0, nil)
	in := UpsampleTokens(z[0], sc[1])
	before := d.MemStats()
	d.ResetPeak()
	logits := m.Step(c, labels, sc, 1, in)
	peak := d.MemStats().PeakBytes - before.LiveBytes
	// One block's activation: [B, s², Width] floats; its MLP hidden layer
	// is 4 of them. Every block's temporaries together are about 25 per
	// block, 300 for this model; one block at a time stays under 60. The
	// cache took room for the whole schedule at the first step, so the
	// second allocates no cache.
	act := int64(4 * b * sc[1] * sc[1] * cfg.Width)
	kept := int64(4 * logits.Size())
	t.Logf("peak above the start beyond the logits: %.1f activations", float64(peak-kept)/float64(act))
	assert.LessOrEqual(t, peak-kept, 60*act, "peak device bytes of a step beyond the logits: %.1f activations", float64(peak-kept)/float64(act))
}
