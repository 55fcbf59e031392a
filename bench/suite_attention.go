package bench

import (
	"fmt"
	"math"

	"sargo/nn"
	"sargo/tensor"
)

func init() {
	register(Suite{Name: "attention", Doc: "block-causal attention forward and backward at the bench model's shape", Cases: attentionCases,
		GPUCases: attentionGPUCases})
}

// benchScales is the 10-scale schedule of the bench model: 680 tokens.
var benchScales = []int{1, 2, 3, 4, 5, 6, 8, 10, 13, 16}

// quickScales is the schedule of quick runs: 14 tokens.
var quickScales = []int{1, 2, 3}

// attnShape is batch, heads, head dimension and the scale schedule whose
// block-causal mask the attention uses; without scales, the attention is
// unmasked over length tokens.
type attnShape struct {
	b, h, d int
	scales  []int
	length  int
}

func (s attnShape) tokens() int {
	if len(s.scales) == 0 {
		return s.length
	}
	n := 0
	for _, k := range s.scales {
		n += k * k
	}
	return n
}

// visiblePairs counts the (query, key) pairs the mask keeps: with the
// block-causal mask a token of scale i sees every token of scales 0..i;
// unmasked, every token sees every token.
func (s attnShape) visiblePairs() float64 {
	if len(s.scales) == 0 {
		return float64(s.length) * float64(s.length)
	}
	var pairs, seen float64
	for _, k := range s.scales {
		seen += float64(k * k)
		pairs += float64(k*k) * seen
	}
	return pairs
}

// attentionCases are the forward and the backward of batch 8, 6 heads,
// 680 tokens, head dimension 64.
func attentionCases(quick bool) ([]Case, error) {
	s := attnShape{b: 8, h: 6, d: 64, scales: benchScales}
	if quick {
		s = attnShape{b: 2, h: 2, d: 16, scales: quickScales}
	}
	return s.cases(), nil
}

// attentionGPUCases are the forward and the backward at head dimensions 64
// and 128 of two shapes: the bench model's block-causal 680 tokens with
// B·H = 192 (batch 32, 6 heads), and unmasked 1024 tokens with B·H = 32
// (batch 4, 8 heads). quick shrinks them to 14 and 16 tokens, head
// dimensions 16 and 32, and B·H = 4.
func attentionGPUCases(quick bool) ([]Case, error) {
	dims := []int{64, 128}
	causal, full := attnShape{b: 32, h: 6, scales: benchScales}, attnShape{b: 4, h: 8, length: 1024}
	if quick {
		dims = []int{16, 32}
		causal, full = attnShape{b: 2, h: 2, scales: quickScales}, attnShape{b: 2, h: 2, length: 16}
	}
	var cases []Case
	for _, s := range []attnShape{causal, full} {
		for _, d := range dims {
			s.d = d
			cases = append(cases, s.cases()...)
		}
	}
	return cases, nil
}

// cases are the forward and the backward of s. FLOPs count the visible
// pairs only (2·D each for QKᵀ and for PV; the backward is 2.5× the
// forward), for both implementations, so the ratio is a ratio of times.
func (s attnShape) cases() []Case {
	fwd := 4 * float64(s.b*s.h*s.d) * s.visiblePairs() / 1e9
	params := map[string]any{"b": s.b, "h": s.h, "d": s.d, "scales": s.scales, "scale": 1 / math.Sqrt(float64(s.d))}
	name := fmt.Sprintf("%dx%dx%dx%d block-causal", s.b, s.h, s.tokens(), s.d)
	if len(s.scales) == 0 {
		params["length"] = s.length
		name = fmt.Sprintf("%dx%dx%dx%d full", s.b, s.h, s.tokens(), s.d)
	}
	return []Case{
		{Name: "forward " + name, Kind: "attention_forward", Unit: "GFLOP/s", Work: fwd, Params: params,
			Setup: func(be tensor.Backend) (func() error, func(), error) { return s.setup(be, false) }},
		{Name: "backward " + name, Kind: "attention_backward", Unit: "GFLOP/s", Work: 2.5 * fwd, Params: params,
			Setup: func(be tensor.Backend) (func() error, func(), error) { return s.setup(be, true) }},
	}
}

func (s attnShape) setup(be tensor.Backend, backward bool) (func() error, func(), error) {
	L := s.tokens()
	q := tensor.Randn(be, 1, 0, s.b, s.h, L, s.d)
	k := tensor.Randn(be, 2, 0, s.b, s.h, L, s.d)
	v := tensor.Randn(be, 3, 0, s.b, s.h, L, s.d)
	out, lse := tensor.Empty(be, s.b, s.h, L, s.d), tensor.Empty(be, s.b, s.h, L)
	args := tensor.AttentionArgs{B: s.b, H: s.h, Lq: L, Lk: L, D: s.d, Scale: float32(1 / math.Sqrt(float64(s.d))),
		Q: q.Span(), K: k.Span(), V: v.Span(), Out: out.Span(), Lse: lse.Span()}
	if len(s.scales) > 0 {
		mask := nn.ScaleMask(be, s.scales...)
		args.Mask, args.ScaleQ, args.ScaleK = tensor.MaskScale, mask.ScaleQ.Span(), mask.ScaleK.Span()
	}
	if !backward {
		return syncRun(be, func() { be.Attention(args) }), nothing, nil
	}
	be.Attention(args)
	gout := tensor.Randn(be, 4, 0, s.b, s.h, L, s.d)
	dq, dk, dv := tensor.Empty(be, q.Shape()...), tensor.Empty(be, q.Shape()...), tensor.Empty(be, q.Shape()...)
	grads := tensor.AttentionGrads{GradOut: gout.Span(), GradQ: dq.Span(), GradK: dk.Span(), GradV: dv.Span()}
	return syncRun(be, func() { be.AttentionBackward(args, grads) }), nothing, nil
}
