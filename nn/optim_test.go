package nn

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/autograd"
	"sargo/tensor"
)

// adamwRef is torch.optim.AdamW's update in float64.
func adamwRef(p, g, m, v []float64, step int, lr, b1, b2, eps, wd float64) {
	bc1 := 1 - math.Pow(b1, float64(step))
	bc2 := 1 - math.Pow(b2, float64(step))
	for i := range p {
		p[i] *= 1 - lr*wd
		m[i] = b1*m[i] + (1-b1)*g[i]
		v[i] = b2*v[i] + (1-b2)*g[i]*g[i]
		denom := math.Sqrt(v[i])/math.Sqrt(bc2) + eps
		p[i] -= lr / bc1 * m[i] / denom
	}
}

func f64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

func TestAdamWMatchesReference(t *testing.T) {
	tests := []struct {
		name    string
		noDecay bool
		cfg     AdamWConfig
	}{
		{"decay", false, AdamWConfig{LR: 1e-2, Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, WeightDecay: 0.05}},
		{"no decay group", true, AdamWConfig{LR: 1e-2, Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, WeightDecay: 0.05}},
		{"torch defaults", false, AdamWConfig{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 1e-2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p0 := randT(1, 1, 3, 5)
			w := autograd.Param(p0.Clone())
			opt, err := NewAdamW([]NamedParam{{Name: "w", Var: w, NoDecay: tc.noDecay}}, tc.cfg)
			require.NoError(t, err)
			p, m, v := f64(p0.Data()), make([]float64, 15), make([]float64, 15)
			wd := float64(tc.cfg.WeightDecay)
			if tc.noDecay {
				wd = 0
			}
			for step := 1; step <= 5; step++ {
				gr := randT(uint64(10+step), 1, 3, 5)
				w.Grad = gr
				require.NoError(t, opt.Update())
				adamwRef(p, f64(gr.Data()), m, v, step, float64(tc.cfg.LR), float64(tc.cfg.Beta1), float64(tc.cfg.Beta2), float64(tc.cfg.Eps), wd)
			}
			got := w.Value.Data()
			for i := range p {
				assert.InDelta(t, p[i], got[i], 1e-6+1e-5*math.Abs(p[i]))
			}
			assert.Equal(t, 5, opt.Step)
		})
	}
}

func TestAdamWSkipsParamsWithoutGrad(t *testing.T) {
	a := autograd.Param(tensor.Ones(dev(), 2))
	opt, err := NewAdamW([]NamedParam{{Name: "a", Var: a}}, DefaultAdamWConfig())
	require.NoError(t, err)
	require.NoError(t, opt.Update())
	assert.Equal(t, []float32{1, 1}, a.Value.Data())
	_, err = NewAdamW([]NamedParam{{Name: "a", Var: a}, {Name: "a", Var: a}}, DefaultAdamWConfig())
	assert.ErrorContains(t, err, "adamw: duplicate parameter name")
}

func TestClipGradNorm(t *testing.T) {
	tests := []struct {
		name     string
		max      float64
		wantNorm float64
		scale    float64
	}{
		{"clipped", 2.5, 5, 2.5 / (5 + 1e-6)},
		{"untouched", 10, 5, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := autograd.Param(tensor.Zeros(dev(), 2)), autograd.Param(tensor.Zeros(dev(), 1))
			c := autograd.Param(tensor.Zeros(dev(), 1)) // no gradient
			a.Grad = tensor.FromSlice(dev(), []float32{3, 0}, 2)
			b.Grad = tensor.FromSlice(dev(), []float32{-4}, 1)
			ps := []NamedParam{{Name: "a", Var: a}, {Name: "b", Var: b}, {Name: "c", Var: c}}
			norm, err := ClipGradNorm(ps, tc.max)
			require.NoError(t, err)
			assert.InDelta(t, tc.wantNorm, norm, 1e-6)
			assert.InDelta(t, 3*tc.scale, a.Grad.Data()[0], 1e-6)
			assert.InDelta(t, -4*tc.scale, b.Grad.Data()[0], 1e-6)
			after, err := GradNorm(ps)
			require.NoError(t, err)
			assert.InDelta(t, math.Min(tc.max, 5), after, 1e-5)
		})
	}
}

func TestClipGradNormDeviceMatchesHost(t *testing.T) {
	cases := []struct {
		name    string
		maxNorm float32
	}{
		{"clips", 0.5},
		{"keeps", 100},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mk := func() []NamedParam {
				var ps []NamedParam
				for i, n := range []int{3, 5} {
					v := autograd.Param(tensor.Zeros(dev(), n))
					v.Grad = tensor.Randn(dev(), 30, uint64(10*i), n)
					ps = append(ps, NamedParam{Name: string(rune('a' + i)), Var: v})
				}
				return ps
			}
			p1, p2 := mk(), mk()
			norm := ClipGradNormDevice(p1, c.maxNorm)
			want, err := ClipGradNorm(p2, float64(c.maxNorm))
			require.NoError(t, err)
			got, err := norm.Read()
			require.NoError(t, err)
			require.InDelta(t, want, got[0], 1e-5)
			for i := range p1 {
				g1, _ := p1[i].Var.Grad.Read()
				g2, _ := p2[i].Var.Grad.Read()
				require.InDeltaSlice(t, g2, g1, 1e-6)
			}
		})
	}
}

func TestGradSquaredNorm(t *testing.T) {
	c := autograd.Param(tensor.Zeros(dev(), 1))
	assert.Nil(t, GradSquaredNorm([]NamedParam{{Name: "c", Var: c}}), "no gradient, no tensor")
	assert.Nil(t, ClipGradNormDevice([]NamedParam{{Name: "c", Var: c}}, 1))
	norm, err := GradNorm([]NamedParam{{Name: "c", Var: c}})
	require.NoError(t, err)
	assert.Zero(t, norm)

	a := autograd.Param(tensor.Zeros(dev(), 2))
	a.Grad = tensor.FromSlice(dev(), []float32{3, 0}, 2)
	c.Grad = tensor.FromSlice(dev(), []float32{-4}, 1)
	ps := []NamedParam{{Name: "a", Var: a}, {Name: "c", Var: c}}
	sq := GradSquaredNorm(ps)
	require.NotNil(t, sq)
	assert.Equal(t, []float32{25}, sq.Data())
	sq.Release()
	assert.False(t, ClipGradsTo(ps, 5, 10), "under the limit")
	assert.Equal(t, []float32{3, 0}, a.Grad.Data())
	assert.True(t, ClipGradsTo(ps, 5, 2.5))
	assert.InDelta(t, 3*2.5/(5+1e-6), a.Grad.Data()[0], 1e-6)
	assert.InDelta(t, -4*2.5/(5+1e-6), c.Grad.Data()[0], 1e-6)
}

func TestSchedule(t *testing.T) {
	lin := Schedule{Peak: 1, Floor: 0.1, Warmup: 4, Total: 14, Kind: DecayLinear}
	cos := Schedule{Peak: 1, Floor: 0.1, Warmup: 4, Total: 14, Kind: DecayCosine}
	con := Schedule{Peak: 1, Warmup: 2, Kind: DecayConstant}
	// FlexVAR's lin0 with wp0 0.005, a 5% plateau and wpe 0.1, as the
	// authors' lr_wd_annealing computes it for cur_it, wp_it 4, max_it 25.
	lin0 := Schedule{Peak: 1, Floor: 0.1, Warmup: 4, Total: 25, Kind: DecayPlateauLinear, WarmupFrom: 0.005, Plateau: 0.05}
	lin0At := func(it float64) float64 {
		if it < 4 {
			return 0.005 + 0.995*it/4
		}
		pasd := (it - 4) / (25 - 1 - 4)
		if pasd < 0.05 {
			return 1
		}
		return 0.1 + 0.9*(1-pasd)/0.95
	}
	tests := []struct {
		name string
		s    Schedule
		step int
		want float64
	}{
		{"warmup first", lin, 0, 0.25},
		{"warmup last", lin, 3, 1},
		{"linear start", lin, 4, 1},
		{"linear middle", lin, 9, 0.55},
		{"linear end", lin, 14, 0.1},
		{"linear after", lin, 100, 0.1},
		{"cosine middle", cos, 9, 0.55},
		{"cosine quarter", cos, 6, 0.1 + 0.9*0.5*(1+math.Cos(math.Pi*0.2))},
		{"cosine end", cos, 14, 0.1},
		{"constant", con, 50, 1},
		{"constant warmup", con, 0, 0.5},
		{"lin0 first", lin0, 0, 0.005},
		{"lin0 warmup", lin0, 3, lin0At(3)},
		{"lin0 peak", lin0, 4, 1},
		{"lin0 plateau end", lin0, 5, lin0At(5)},
		{"lin0 decay", lin0, 13, lin0At(13)},
		{"lin0 last", lin0, 24, 0.1},
		{"lin0 after", lin0, 40, 0.1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.InDelta(t, tc.want, tc.s.LR(tc.step), 1e-12)
		})
	}
}

func TestGradAccumulator(t *testing.T) {
	a := GradAccumulator{Micro: 3}
	assert.InDelta(t, 1.0/3, a.Scale(), 1e-7)
	var got []bool
	for range 6 {
		got = append(got, a.Done())
	}
	assert.Equal(t, []bool{false, false, true, false, false, true}, got)
}

func TestEMA(t *testing.T) {
	w := autograd.Param(tensor.FromSlice(dev(), []float32{0, 10}, 2))
	ps := []NamedParam{{Name: "w", Var: w}}
	e := NewEMA(ps, 0.9)
	w.Value.CopyFrom(tensor.FromSlice(dev(), []float32{1, 0}, 2))
	e.Update()
	assert.InDeltaSlice(t, []float32{0.1, 9}, e.Parameters()[0].Var.Value.Data(), 1e-6)
	e.Swap()
	assert.InDeltaSlice(t, []float32{0.1, 9}, w.Value.Data(), 1e-6)
	e.Swap()
	assert.Equal(t, []float32{1, 0}, w.Value.Data())
	assert.Equal(t, "w", e.Parameters()[0].Name)
	require.NoError(t, e.Load([]*tensor.Tensor{tensor.Zeros(dev(), 2)}))
	assert.ErrorContains(t, e.Load([]*tensor.Tensor{tensor.Zeros(dev(), 3)}), "shape [3], want [2]")
}
