package nn

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/autograd"
	"sargo/tensor"
)

// attnBlockReference computes the block in float64 on the host, straight
// from its definition, for one image at a time.
func attnBlockReference(t *testing.T, a *AttnBlock, x *tensor.Tensor) []float64 {
	t.Helper()
	read := func(v *autograd.Var) []float64 {
		d, err := v.Value.Read()
		require.NoError(t, err)
		out := make([]float64, len(d))
		for i, f := range d {
			out[i] = float64(f)
		}
		return out
	}
	hn := a.Norm.Forward(nil, autograd.Const(x)) // GroupNorm is checked elsewhere
	h := read(hn)
	xs := read(autograd.Const(x))
	s := x.Shape()
	n, c, hw := s[0], s[1], s[2]*s[3]
	conv := func(cv *Conv2d, in []float64) []float64 { // 1×1 conv of one image [C, HW]
		w, b := read(cv.Weight), read(cv.Bias)
		out := make([]float64, c*hw)
		for o := range c {
			for p := range hw {
				acc := b[o]
				for i := range c {
					acc += w[o*c+i] * in[i*hw+p]
				}
				out[o*hw+p] = acc
			}
		}
		return out
	}
	res := make([]float64, 0, n*c*hw)
	for b := range n {
		hb := h[b*c*hw : (b+1)*c*hw]
		q, k, v := conv(a.Q, hb), conv(a.K, hb), conv(a.V, hb)
		att := make([]float64, c*hw)
		for i := range hw {
			logits := make([]float64, hw)
			mx := math.Inf(-1)
			for j := range hw {
				for ch := range c {
					logits[j] += q[ch*hw+i] * k[ch*hw+j]
				}
				logits[j] /= math.Sqrt(float64(c))
				mx = math.Max(mx, logits[j])
			}
			var z float64
			for j := range logits {
				logits[j] = math.Exp(logits[j] - mx)
				z += logits[j]
			}
			for ch := range c {
				for j := range hw {
					att[ch*hw+i] += v[ch*hw+j] * logits[j] / z
				}
			}
		}
		proj := conv(a.ProjOut, att)
		for i := range proj {
			res = append(res, xs[b*c*hw+i]+proj[i])
		}
	}
	return res
}

func TestAttnBlock(t *testing.T) {
	a, err := NewAttnBlock(NewInit(dev(), 31), 8, 4, 1e-6)
	require.NoError(t, err)
	assert.Equal(t, []string{"norm.weight", "norm.bias", "q.weight", "q.bias", "k.weight", "k.bias",
		"v.weight", "v.bias", "proj_out.weight", "proj_out.bias"}, paramNames(a))
	x := randT(5, 1, 2, 8, 3, 2)
	y := a.Forward(nil, autograd.Const(x))
	assert.Equal(t, []int{2, 8, 3, 2}, y.Shape())
	got, err := y.Value.Read()
	require.NoError(t, err)
	want := attnBlockReference(t, a, x)
	for i := range want {
		assert.InDelta(t, want[i], float64(got[i]), 1e-5, "element %d", i)
	}
	// Finite differences in float64 through the input and every parameter.
	checkModuleGrad(t, a, []*tensor.Tensor{randT(6, 1, 1, 8, 2, 3)}, func(g *autograd.Graph, xs []*autograd.Var) *autograd.Var {
		return a.Forward(g, xs[0])
	})
}

func paramNames(m Module) []string {
	var out []string
	for _, p := range m.Parameters() {
		out = append(out, p.Name)
	}
	return out
}
