package nn

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/autograd"
	"sargo/tensor"
)

// gradBlockConfig is a tiny block whose every path carries gradient (the
// AdaLN gates are not shrunk as VAR's init does).
func gradBlockConfig(l2 bool) BlockConfig {
	cfg := DefaultBlockConfig(8, 2, 2)
	cfg.MLPRatio = 2
	cfg.L2Norm = l2
	cfg.InitAdaLN, cfg.InitAdaLNGamma = 1, 1
	return cfg
}

func TestSelfAttentionGrad(t *testing.T) {
	for _, l2 := range []bool{true, false} {
		t.Run(map[bool]string{true: "l2norm", false: "plain"}[l2], func(t *testing.T) {
			in := NewInit(dev(), 11)
			a, err := NewSelfAttention(in, 8, 2, l2, 0)
			require.NoError(t, err)
			// Non-zero biases so their gradients are exercised.
			a.QBias = autograd.Param(randT(5, 0.3, 8))
			a.VBias = autograd.Param(randT(6, 0.3, 8))
			a.MatQKV.Weight = autograd.Param(randT(7, 0.4, 24, 8))
			if l2 {
				assert.InDelta(t, math.Log(4), a.ScaleMul.Value.Data()[0], 1e-6)
				assert.Equal(t, float32(1), a.Scale)
			} else {
				assert.InDelta(t, 1/math.Sqrt(4), a.Scale, 1e-7)
			}
			mask := ScaleMask(dev(), 1, 2)
			x := randT(1, 1, 2, 5, 8)
			y := a.Forward(nil, autograd.Const(x), mask, nil)
			assert.Equal(t, []int{2, 5, 8}, y.Shape())
			checkModuleGrad(t, a, []*tensor.Tensor{x}, func(g *autograd.Graph, xs []*autograd.Var) *autograd.Var {
				return a.Forward(g, xs[0], mask, nil)
			})
		})
	}
}

func TestAdaLNBlockGrad(t *testing.T) {
	in := NewInit(dev(), 12)
	b, err := NewAdaLNBlock(in, gradBlockConfig(true))
	require.NoError(t, err)
	mask := ScaleMask(dev(), 1, 2)
	x, cond := randT(1, 1, 2, 5, 8), randT(2, 1, 2, 8)
	y := b.Forward(nil, autograd.Const(x), autograd.Const(cond), mask, nil, 0)
	assert.Equal(t, []int{2, 5, 8}, y.Shape())
	checkModuleGrad(t, b, []*tensor.Tensor{x, cond}, func(g *autograd.Graph, xs []*autograd.Var) *autograd.Var {
		return b.Forward(g, xs[0], xs[1], mask, nil, 0)
	})
}

func TestAdaLNHeadGrad(t *testing.T) {
	h := NewAdaLNHead(NewInit(dev(), 13), 8, 6, 1e-6, 1)
	x, cond := randT(1, 1, 2, 3, 8), randT(2, 1, 2, 6)
	checkModuleGrad(t, h, []*tensor.Tensor{x, cond}, func(g *autograd.Graph, xs []*autograd.Var) *autograd.Var {
		return h.Forward(g, xs[0], xs[1])
	})
}

func TestAdaLNBlockInit(t *testing.T) {
	C, depth := 16, 4
	b, err := NewAdaLNBlock(NewInit(dev(), 1), DefaultBlockConfig(C, 4, depth))
	require.NoError(t, err)
	rms := func(v []float32) float64 {
		s := 0.0
		for _, x := range v {
			s += float64(x) * float64(x)
		}
		return math.Sqrt(s / float64(len(v)))
	}
	w := b.AdaLin.Lin.Weight.Value.Data()
	proj := 0.02 / math.Sqrt(2*float64(depth))
	assert.InEpsilon(t, 0.02*1e-5, rms(w[:2*C*C]), 0.25, "gamma rows scaled by 1e-5")
	assert.InEpsilon(t, 0.02*0.5, rms(w[2*C*C:]), 0.25, "scale and shift rows scaled by 0.5")
	assert.InEpsilon(t, proj, rms(b.Attn.Proj.Weight.Value.Data()), 0.25)
	assert.InEpsilon(t, proj, rms(b.FFN.FC2.Weight.Value.Data()), 0.25)
	assert.InEpsilon(t, 0.02, rms(b.FFN.FC1.Weight.Value.Data()), 0.25)
	assert.Equal(t, 0.0, rms(b.AdaLin.Lin.Bias.Value.Data()))
}

// TestKVCacheMatchesMask runs a stack of two blocks over scales 1, 2, 3 in
// one block-causal pass and again one scale at a time with KV caches; the
// outputs agree, whether the cache reserves room for all 14 tokens at the
// first step (and then keeps its storage), grows by concatenation, or
// outgrows its reserve.
func TestKVCacheMatchesMask(t *testing.T) {
	in := NewInit(dev(), 14)
	var blocks []*AdaLNBlock
	for range 2 {
		b, err := NewAdaLNBlock(in, gradBlockConfig(true))
		require.NoError(t, err)
		blocks = append(blocks, b)
	}
	sizes := []int{1, 2, 3}
	x, cond := randT(3, 1, 2, 14, 8), autograd.Const(randT(4, 1, 2, 8))
	full := autograd.Const(x)
	mask := ScaleMask(dev(), sizes...)
	for _, b := range blocks {
		full = b.Forward(nil, full, cond, mask, nil, 0)
	}
	want := full.Value.Data()

	tests := []struct {
		name    string
		reserve int
		kept    bool // the first step's storage serves every step
	}{
		{"reserved for the schedule", 14, true},
		{"grown by concatenation", 0, false},
		{"reserve outgrown", 5, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			caches := make([]KVCache, len(blocks))
			for i := range caches {
				caches[i].Reserve = tc.reserve
			}
			var got [][]float32
			var first tensor.Storage
			kept := true
			start := 0
			for _, s := range sizes {
				h := autograd.Const(x.Narrow(1, start, s*s))
				for i, b := range blocks {
					h = b.Forward(nil, h, cond, tensor.AttentionMask{}, &caches[i], 0)
				}
				if first == nil {
					first = caches[0].k.View().Buf
				}
				kept = kept && caches[0].k.View().Buf == first
				got = append(got, h.Value.Data())
				start += s * s
			}
			assert.Equal(t, 14, caches[0].Len())
			assert.Equal(t, tc.kept, kept, "storage kept across steps")
			// Reassemble [B, L, C] from the per-scale outputs [B, s², C].
			for b := range 2 {
				off := 0
				for k, s := range sizes {
					n := s * s * 8
					for j := range n {
						assert.InDelta(t, want[b*14*8+off+j], got[k][b*n+j], 1e-5)
					}
					off += n
				}
			}
			for i := range caches {
				caches[i].Reset()
			}
			assert.Equal(t, 0, caches[0].Len())
		})
	}
}

func TestScaleMulClamp(t *testing.T) {
	assert.InDelta(t, math.Log(100), MaxScaleMul, 1e-12)
	a, err := NewSelfAttention(NewInit(dev(), 15), 8, 2, true, 0)
	require.NoError(t, err)
	x := autograd.Const(randT(1, 1, 1, 4, 8))
	run := func(v float32) []float32 {
		a.ScaleMul.Value.CopyFrom(tensor.Full(dev(), v, 1, 2, 1, 1))
		return a.Forward(nil, x, tensor.AttentionMask{}, nil).Value.Data()
	}
	capped, above, below := run(MaxScaleMul), run(10), run(1)
	assert.Equal(t, capped, above, "temperature capped at 100")
	assert.NotEqual(t, capped, below)
}
