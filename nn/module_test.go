package nn

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func names(ps []NamedParam) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

func TestParameterNames(t *testing.T) {
	in := NewInit(dev(), 1)
	blk, err := NewAdaLNBlock(in, DefaultBlockConfig(8, 2, 2))
	require.NoError(t, err)
	rb, err := NewResBlock(in, 4, 8, 2, 1e-6)
	require.NoError(t, err)
	vq, err := NewVectorQuantizer(in, DefaultVQConfig(16, 4))
	require.NoError(t, err)
	tests := []struct {
		name string
		m    Module
		want []string
	}{
		{"linear", NewLinear(in, 3, 4, true), []string{"weight", "bias"}},
		{"linear no bias", NewLinear(in, 3, 4, false), []string{"weight"}},
		{"layernorm", NewLayerNorm(in, 4, 1e-6, true), []string{"weight", "bias"}},
		{"layernorm no affine", NewLayerNorm(in, 4, 1e-6, false), nil},
		{"block", blk, []string{"attn.mat_qkv.weight", "attn.q_bias", "attn.v_bias", "attn.scale_mul_1H11",
			"attn.proj.weight", "attn.proj.bias", "ffn.fc1.weight", "ffn.fc1.bias", "ffn.fc2.weight", "ffn.fc2.bias",
			"ada_lin.1.weight", "ada_lin.1.bias"}},
		{"head", NewAdaLNHead(in, 8, 8, 1e-6, 0.5), []string{"ada_lin.1.weight", "ada_lin.1.bias"}},
		{"resblock", rb, []string{"norm1.weight", "norm1.bias", "conv1.weight", "conv1.bias", "norm2.weight", "norm2.bias",
			"conv2.weight", "conv2.bias", "nin_shortcut.weight", "nin_shortcut.bias"}},
		{"downsample", NewDownsample(in, 4), []string{"conv.weight", "conv.bias"}},
		{"vq", vq, []string{"embedding.weight"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, names(tc.m.Parameters()))
		})
	}
}

func TestParamsHelpers(t *testing.T) {
	in := NewInit(dev(), 1)
	var p Params
	for i := range 2 {
		p.SubIndex("blocks", i, NewLinear(in, 2, 2, true))
	}
	assert.Equal(t, []string{"blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias"}, names(p))
	assert.Equal(t, []bool{false, true, false, true}, []bool{p[0].NoDecay, p[1].NoDecay, p[2].NoDecay, p[3].NoDecay})
	assert.Equal(t, 12, NumParams(p))
	_, err := ParamIndex(append(p, p[0]))
	assert.ErrorContains(t, err, "duplicate parameter name \"blocks.0.weight\"")
}

func TestInitReproducible(t *testing.T) {
	build := func(seed uint64) []NamedParam {
		b, err := NewAdaLNBlock(NewInit(dev(), seed), DefaultBlockConfig(8, 2, 4))
		require.NoError(t, err)
		return b.Parameters()
	}
	a, b, c := build(7), build(7), build(8)
	differs := false
	for i := range a {
		assert.Equal(t, a[i].Var.Value.Data(), b[i].Var.Value.Data(), a[i].Name)
		if !assert.ObjectsAreEqual(a[i].Var.Value.Data(), c[i].Var.Value.Data()) {
			differs = true
		}
	}
	assert.True(t, differs, "another seed gives other weights")
}
