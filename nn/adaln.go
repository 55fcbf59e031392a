package nn

import (
	"fmt"
	"math"

	"sargo/autograd"
	"sargo/tensor"
)

// AdaLNModulation maps a condition [B, D] through SiLU and Linear(D, N·C)
// to N modulation vectors of shape [B, 1, C]. It is VAR's ada_lin
// (nn.Sequential(SiLU, Linear)), so its linear layer is named "1".
type AdaLNModulation struct {
	C, N int
	Lin  *Linear
}

// NewAdaLNModulation makes the modulation of n chunks of width c from a
// condition of width d.
func NewAdaLNModulation(in *Init, d, c, n int) *AdaLNModulation {
	return &AdaLNModulation{C: c, N: n, Lin: NewLinear(in, d, n*c, true)}
}

// Forward returns the N chunks, each [B, 1, C], in the order of the
// linear layer's output rows.
func (m *AdaLNModulation) Forward(g *autograd.Graph, cond *autograd.Var) []*autograd.Var {
	h := m.Lin.Forward(g, g.Silu(cond))
	h = g.Reshape(h, -1, 1, m.N, m.C)
	parts := g.Chunk(h, 2, m.N)
	for i, p := range parts {
		parts[i] = g.Squeeze(p, 2)
	}
	return parts
}

// Parameters are "1.weight" and "1.bias".
func (m *AdaLNModulation) Parameters() []NamedParam {
	var p Params
	p.Sub("1", m.Lin)
	return p
}

// modulate returns ln(x)·(1+scale) + shift, in one launch.
func modulate(g *autograd.Graph, normed, scale, shift *autograd.Var) *autograd.Var {
	return g.MulAdd(normed, scale, shift, 1)
}

// residual returns x + drop-path(h·gate): one launch when drop-path is the
// identity.
func residual(g *autograd.Graph, x, h, gate *autograd.Var, dp *DropPath, dropOffset uint64) *autograd.Var {
	if !dp.Active() {
		return g.MulAdd(h, gate, x, 0)
	}
	return g.Add(x, dp.Forward(g, g.Mul(h, gate), dropOffset))
}

// BlockConfig sizes an AdaLN transformer block.
type BlockConfig struct {
	Dim, CondDim, Heads int
	MLPRatio            float64
	// L2Norm selects the L2-normalised attention with a learnable
	// temperature; otherwise AttnScale (0: 1/√headDim) scales the scores.
	L2Norm    bool
	AttnScale float32
	Eps       float32 // LayerNorm epsilon (VAR: 1e-6)
	DropPath  float32
	// Depth is the number of blocks of the model, used by the init.
	Depth int
	// InitAdaLN scales the scale/shift rows of ada_lin and InitAdaLNGamma
	// the gamma rows (VAR: 0.5 and 1e-5).
	InitAdaLN, InitAdaLNGamma float32
}

// DefaultBlockConfig is VAR's/FlexVAR's block: condition width = width,
// MLP ratio 4, L2-normalised attention, eps 1e-6, VAR's AdaLN init.
func DefaultBlockConfig(dim, heads, depth int) BlockConfig {
	return BlockConfig{Dim: dim, CondDim: dim, Heads: heads, MLPRatio: 4, L2Norm: true, Eps: 1e-6,
		Depth: depth, InitAdaLN: 0.5, InitAdaLNGamma: 1e-5}
}

// AdaLNBlock is VAR's AdaLNSelfAttn: pre-norm without affine, modulated
// by the condition, residual branches gated by gamma:
//
//	gamma1, gamma2, scale1, scale2, shift1, shift2 = ada_lin(cond)
//	x = x + drop_path(attn(ln(x)·(1+scale1) + shift1) · gamma1)
//	x = x + drop_path(ffn(ln(x)·(1+scale2) + shift2) · gamma2)
type AdaLNBlock struct {
	Cfg      BlockConfig
	Attn     *SelfAttention
	FFN      *MLP
	AdaLin   *AdaLNModulation
	Norm     *LayerNorm // without affine
	DropPath DropPath
}

// NewAdaLNBlock makes a block initialised as VAR's init_weights does:
// linears trunc-normal 0.02 with zero biases, attn.proj and ffn.fc2
// weights divided by √(2·depth), the ada_lin weight rows of the gammas
// scaled by InitAdaLNGamma and the others by InitAdaLN.
func NewAdaLNBlock(in *Init, cfg BlockConfig) (*AdaLNBlock, error) {
	attn, err := NewSelfAttention(in, cfg.Dim, cfg.Heads, cfg.L2Norm, cfg.AttnScale)
	if err != nil {
		return nil, fmt.Errorf("adaln block: %w", err)
	}
	hidden := int(math.Round(float64(cfg.Dim) * cfg.MLPRatio))
	b := &AdaLNBlock{
		Cfg:      cfg,
		Attn:     attn,
		FFN:      NewMLP(in, cfg.Dim, hidden),
		AdaLin:   NewAdaLNModulation(in, cfg.CondDim, cfg.Dim, 6),
		Norm:     NewLayerNorm(in, cfg.Dim, cfg.Eps, false),
		DropPath: DropPath{P: cfg.DropPath, Seed: in.Seed},
	}
	if cfg.Depth > 0 {
		s := float32(1 / math.Sqrt(2*float64(cfg.Depth)))
		scaleParam(b.Attn.Proj.Weight, s)
		scaleParam(b.FFN.FC2.Weight, s)
	}
	scaleRows(b.AdaLin.Lin.Weight, 2*cfg.Dim, 6*cfg.Dim, cfg.InitAdaLN)
	scaleRows(b.AdaLin.Lin.Weight, 0, 2*cfg.Dim, cfg.InitAdaLNGamma)
	return b, nil
}

// SetTrain switches drop-path between train and eval behaviour.
func (b *AdaLNBlock) SetTrain(train bool) { b.DropPath.Train = train }

// Forward runs the block on x [B, L, C] with condition cond [B, D]. cache
// (may be nil) is this layer's KV cache for inference. dropOffset selects
// the drop-path random numbers in train mode: the block uses 2·B stream
// elements from it, so callers advance it by at least that per block.
func (b *AdaLNBlock) Forward(g *autograd.Graph, x, cond *autograd.Var, mask tensor.AttentionMask, cache *KVCache, dropOffset uint64) *autograd.Var {
	m := b.AdaLin.Forward(g, cond)
	gamma1, gamma2, scale1, scale2, shift1, shift2 := m[0], m[1], m[2], m[3], m[4], m[5]
	h := b.Attn.Forward(g, modulate(g, b.Norm.Forward(g, x), scale1, shift1), mask, cache)
	x = residual(g, x, h, gamma1, &b.DropPath, dropOffset)
	h = b.FFN.Forward(g, modulate(g, b.Norm.Forward(g, x), scale2, shift2))
	return residual(g, x, h, gamma2, &b.DropPath, dropOffset+uint64(x.Value.Dim(0)))
}

// Parameters are attn.*, ffn.*, ada_lin.1.* (VAR's names).
func (b *AdaLNBlock) Parameters() []NamedParam {
	var p Params
	p.Sub("attn", b.Attn)
	p.Sub("ffn", b.FFN)
	p.Sub("ada_lin", b.AdaLin)
	return p
}

// AdaLNHead is VAR's AdaLNBeforeHead: ln(x)·(1+scale) + shift with
// (scale, shift) = ada_lin(cond).
type AdaLNHead struct {
	AdaLin *AdaLNModulation
	Norm   *LayerNorm
}

// NewAdaLNHead makes the head norm; its ada_lin weight is scaled by
// initAdaLN (VAR: 0.5) and its bias is zero.
func NewAdaLNHead(in *Init, dim, condDim int, eps, initAdaLN float32) *AdaLNHead {
	h := &AdaLNHead{AdaLin: NewAdaLNModulation(in, condDim, dim, 2), Norm: NewLayerNorm(in, dim, eps, false)}
	scaleParam(h.AdaLin.Lin.Weight, initAdaLN)
	return h
}

// Forward modulates x [B, L, C] by cond [B, D].
func (h *AdaLNHead) Forward(g *autograd.Graph, x, cond *autograd.Var) *autograd.Var {
	m := h.AdaLin.Forward(g, cond)
	return modulate(g, h.Norm.Forward(g, x), m[0], m[1])
}

// Parameters are ada_lin.1.*.
func (h *AdaLNHead) Parameters() []NamedParam {
	var p Params
	p.Sub("ada_lin", h.AdaLin)
	return p
}
