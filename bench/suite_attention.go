package bench

import (
	"fmt"
	"math"

	"sargo/nn"
	"sargo/tensor"
)

func init() {
	register(Suite{Name: "attention", Doc: "block-causal attention forward and backward at the bench model's shape", Cases: attentionCases})
}

// benchScales is the 10-scale schedule of the bench model: 680 tokens.
var benchScales = []int{1, 2, 3, 4, 5, 6, 8, 10, 13, 16}

// quickScales is the schedule of quick runs: 14 tokens.
var quickScales = []int{1, 2, 3}

// attnShape is batch, heads, head dimension and the scale schedule whose
// block-causal mask the attention uses.
type attnShape struct {
	b, h, d int
	scales  []int
}

func (s attnShape) tokens() int {
	n := 0
	for _, k := range s.scales {
		n += k * k
	}
	return n
}

// visiblePairs counts the (query, key) pairs the block-causal mask keeps:
// a token of scale i sees every token of scales 0..i.
func (s attnShape) visiblePairs() float64 {
	var pairs, seen float64
	for _, k := range s.scales {
		seen += float64(k * k)
		pairs += float64(k*k) * seen
	}
	return pairs
}

// attentionCases are the forward and the backward of batch 8, 6 heads,
// 680 tokens, head dimension 64. FLOPs count the visible pairs only
// (2·D each for QKᵀ and for PV; the backward is 2.5× the forward), for
// both implementations, so the ratio is a ratio of times.
func attentionCases(quick bool) ([]Case, error) {
	s := attnShape{b: 8, h: 6, d: 64, scales: benchScales}
	if quick {
		s = attnShape{b: 2, h: 2, d: 16, scales: quickScales}
	}
	fwd := 4 * float64(s.b*s.h*s.d) * s.visiblePairs() / 1e9
	params := map[string]any{"b": s.b, "h": s.h, "d": s.d, "scales": s.scales, "scale": 1 / math.Sqrt(float64(s.d))}
	name := fmt.Sprintf("%dx%dx%dx%d block-causal", s.b, s.h, s.tokens(), s.d)
	return []Case{
		{Name: "forward " + name, Kind: "attention_forward", Unit: "GFLOP/s", Work: fwd, Params: params,
			Setup: func(be tensor.Backend) (func() error, func(), error) { return s.setup(be, false) }},
		{Name: "backward " + name, Kind: "attention_backward", Unit: "GFLOP/s", Work: 2.5 * fwd, Params: params,
			Setup: func(be tensor.Backend) (func() error, func(), error) { return s.setup(be, true) }},
	}, nil
}

func (s attnShape) setup(be tensor.Backend, backward bool) (func() error, func(), error) {
	L := s.tokens()
	q := tensor.Randn(be, 1, 0, s.b, s.h, L, s.d)
	k := tensor.Randn(be, 2, 0, s.b, s.h, L, s.d)
	v := tensor.Randn(be, 3, 0, s.b, s.h, L, s.d)
	out, lse := tensor.Empty(be, s.b, s.h, L, s.d), tensor.Empty(be, s.b, s.h, L)
	mask := nn.ScaleMask(be, s.scales...)
	args := tensor.AttentionArgs{B: s.b, H: s.h, Lq: L, Lk: L, D: s.d, Scale: float32(1 / math.Sqrt(float64(s.d))),
		Mask: tensor.MaskScale, Q: q.Span(), K: k.Span(), V: v.Span(), Out: out.Span(), Lse: lse.Span(),
		ScaleQ: mask.ScaleQ.Span(), ScaleK: mask.ScaleK.Span()}
	if !backward {
		return syncRun(be, func() { be.Attention(args) }), nothing, nil
	}
	be.Attention(args)
	gout := tensor.Randn(be, 4, 0, s.b, s.h, L, s.d)
	dq, dk, dv := tensor.Empty(be, q.Shape()...), tensor.Empty(be, q.Shape()...), tensor.Empty(be, q.Shape()...)
	grads := tensor.AttentionGrads{GradOut: gout.Span(), GradQ: dq.Span(), GradK: dk.Span(), GradV: dv.Span()}
	return syncRun(be, func() { be.AttentionBackward(args, grads) }), nothing, nil
}
