package bench

import (
	"fmt"

	"sargo/tensor"
)

func init() {
	register(Suite{Name: "conv", Doc: "conv2d forward and backward at the tokenizer's shapes", Cases: convCases})
}

// conv is one 2-D convolution with bias, NCHW.
type conv struct {
	label                string
	n, cin, h, w         int
	cout, kernel, stride int
	pad                  int
}

func (c conv) args() tensor.ConvArgs {
	a := tensor.ConvArgs{N: c.n, Cin: c.cin, H: c.h, W: c.w, Cout: c.cout, KH: c.kernel, KW: c.kernel,
		Stride: c.stride, Pad: c.pad, HasBias: true}
	a.Hout = (c.h+2*c.pad-c.kernel)/c.stride + 1
	a.Wout = (c.w+2*c.pad-c.kernel)/c.stride + 1
	return a
}

// flops is 2·MACs of the forward.
func (c conv) flops() float64 {
	a := c.args()
	return 2 * float64(a.N*a.Cout*a.Hout*a.Wout) * float64(a.Cin*a.KH*a.KW)
}

// convCases are the convolutions of the tokenizer on a batch of 8 images
// of 32×32 with 3 channels and 64 base channels (doubled per level): the
// input and output convolutions, the 3×3 convolutions of the ResBlocks at
// each resolution and the stride-2 downsampling. The backward computes
// the input and the weight (and bias) gradients; its FLOPs are twice the
// forward's.
func convCases(quick bool) ([]Case, error) {
	n, img, base, ch := 8, 32, 64, 3
	if quick {
		n, img, base = 2, 8, 8
	}
	cs := []conv{
		{label: "conv_in", n: n, cin: ch, h: img, w: img, cout: base, kernel: 3, stride: 1, pad: 1},
		{label: "res", n: n, cin: base, h: img, w: img, cout: base, kernel: 3, stride: 1, pad: 1},
		{label: "down", n: n, cin: base, h: img, w: img, cout: base, kernel: 3, stride: 2, pad: 1},
		{label: "res", n: n, cin: 2 * base, h: img / 2, w: img / 2, cout: 2 * base, kernel: 3, stride: 1, pad: 1},
		{label: "shortcut", n: n, cin: base, h: img / 2, w: img / 2, cout: 2 * base, kernel: 1, stride: 1, pad: 0},
		{label: "res", n: n, cin: 2 * base, h: img / 4, w: img / 4, cout: 2 * base, kernel: 3, stride: 1, pad: 1},
		{label: "conv_out", n: n, cin: base, h: img, w: img, cout: ch, kernel: 3, stride: 1, pad: 1},
	}
	var cases []Case
	for _, c := range cs {
		name := fmt.Sprintf("%s %dx%dx%d²→%d k%d s%d", c.label, c.n, c.cin, c.h, c.cout, c.kernel, c.stride)
		params := map[string]any{"n": c.n, "cin": c.cin, "h": c.h, "w": c.w, "cout": c.cout,
			"kernel": c.kernel, "stride": c.stride, "pad": c.pad}
		c := c
		cases = append(cases,
			Case{Name: "forward " + name, Kind: "conv_forward", Unit: "GFLOP/s", Work: c.flops() / 1e9, Params: params,
				Setup: func(be tensor.Backend) (func() error, func(), error) { return c.setup(be, false) }},
			Case{Name: "backward " + name, Kind: "conv_backward", Unit: "GFLOP/s", Work: 2 * c.flops() / 1e9, Params: params,
				Setup: func(be tensor.Backend) (func() error, func(), error) { return c.setup(be, true) }})
	}
	return cases, nil
}

func (c conv) setup(be tensor.Backend, backward bool) (func() error, func(), error) {
	a := c.args()
	x := tensor.Randn(be, 1, 0, a.N, a.Cin, a.H, a.W)
	w := tensor.Randn(be, 2, 0, a.Cout, a.Cin, a.KH, a.KW)
	b := tensor.Randn(be, 3, 0, a.Cout)
	y := tensor.Empty(be, a.N, a.Cout, a.Hout, a.Wout)
	if !backward {
		return syncRun(be, func() { be.Conv2d(a, y.Span(), x.Span(), w.Span(), b.Span()) }), nothing, nil
	}
	dx, dw, db := tensor.Empty(be, x.Shape()...), tensor.Empty(be, w.Shape()...), tensor.Empty(be, a.Cout)
	run := func() {
		be.Conv2dBackwardInput(a, dx.Span(), y.Span(), w.Span())
		be.Conv2dBackwardWeight(a, dw.Span(), db.Span(), x.Span(), y.Span())
	}
	return syncRun(be, run), nothing, nil
}
