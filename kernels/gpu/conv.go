package gpu

import "sargo/tensor"

// 2-D convolution as an implicit GEMM: shaders/conv2d.comp, specialised by
// MODE into the forward, the input gradient and the weight gradient, on
// the tiling of the matrix product (gemm.glsl, planned by gemmPlan, the
// weight gradient split along its long K = N·Hout·Wout); the bias gradient
// is two reductions (convBiasGrad). No im2col matrix is materialised; each
// GEMM tile gathers its operands straight from the tensors.

// Modes of conv2d.comp.
const (
	convForward        = 0
	convBackwardInput  = 1
	convBackwardWeight = 2
)

var convModeNames = [...]string{"forward", "input gradient", "weight gradient"}

// convVariants lists the convolution pipelines: each mode in each tiling
// the device can run, and the weight gradient as the first pass of a
// split-K product.
func convVariants(info Features, t Tuning) []Variant {
	var vs []Variant
	for _, t := range matmulTiles {
		if t != tileMedium && !t.fits(info) {
			continue
		}
		for mode := range uint32(len(convModeNames)) {
			vs = append(vs, Variant{Shader: "conv2d", Spec: convSpec(t, mode, false), Bindings: 4, Group: "conv2d " + t.String(), Label: convModeNames[mode]})
		}
		vs = append(vs, Variant{Shader: "conv2d", Spec: convSpec(t, convBackwardWeight, true), Bindings: 4, Group: "conv2d " + t.String(), Label: "weight gradient split-K"})
	}
	return vs
}

type convPush struct {
	offOut, offIn1, offIn2, offBias  uint32
	n, cin, h, w, cout, kh, kw       uint32
	stride, pad, hout, wout, hasBias uint32
	splits, kChunk                   uint32
}

func convArgs(a tensor.ConvArgs, out, in1, in2, bias tensor.Span, hasBias bool) convPush {
	return convPush{uint32(out.Offset), uint32(in1.Offset), uint32(in2.Offset), uint32(bias.Offset),
		uint32(a.N), uint32(a.Cin), uint32(a.H), uint32(a.W), uint32(a.Cout), uint32(a.KH), uint32(a.KW),
		uint32(a.Stride), uint32(a.Pad), uint32(a.Hout), uint32(a.Wout), flag(hasBias), 1, 0}
}

func convSpec(t matmulTile, mode uint32, split bool) []uint32 {
	return []uint32{t.bm, t.bn, t.bk, t.tm, t.tn, t.threads(), mode, b2u(split)}
}

// conv launches mode of conv2d.comp, the M x NC x K implicit GEMM, planned
// as matmul plans its products; the weight gradient may split K, through
// a partial buffer and matmul_splitk.
func (b *Kernels) conv(mode uint32, p convPush, m, nc, k int, out, in1, in2, bias tensor.Storage) {
	t, splits, chunk := b.gemmPlan(m, nc, k, 1)
	if mode != convBackwardWeight {
		splits, chunk = 1, k
	}
	p.splits, p.kChunk = uint32(splits), uint32(chunk)
	groups := [3]uint32{
		uint32(min((nc+int(t.bn)-1)/int(t.bn), maxGroups)),
		uint32(min((m+int(t.bm)-1)/int(t.bm), maxGroups)),
		uint32(min(splits, maxGroups)),
	}
	if splits == 1 {
		launch(b, "conv2d", convSpec(t, mode, false), &p, groups, write(out), read(in1), read(in2), read(bias))
		return
	}
	part := b.dev.Alloc(splits * m * nc)
	defer b.dev.Free(part)
	offOut := p.offOut
	p.offOut = 0
	launch(b, "conv2d", convSpec(t, mode, true), &p, groups, write(part), read(in1), read(in2), read(bias))
	b.splitk(&splitkPush{OffC: offOut, M: uint32(m), N: uint32(nc), Batch: 1, Splits: uint32(splits), Alpha: 1}, false, part, out, bias)
}

// Conv2d computes y = conv(x, w) + b: the GEMM [Cout, N·Hout·Wout] =
// w [Cout, Cin·KH·KW] · im2col(x).
func (b *Kernels) Conv2d(a tensor.ConvArgs, y, x, w, bias tensor.Span) {
	cols := a.N * a.Hout * a.Wout
	if cols == 0 || a.Cout == 0 {
		return
	}
	hasBias := a.HasBias && bias.Buf != nil
	bb, free := b.placeholder(optional(bias, hasBias))
	defer free()
	// with no input channels y is the bias alone
	xb, freeX := b.sized(x, a.N*a.Cin*a.H*a.W)
	defer freeX()
	wb, freeW := b.sized(w, a.Cout*a.Cin*a.KH*a.KW)
	defer freeW()
	b.conv(convForward, convArgs(a, y, x, w, bias, hasBias), a.Cout, cols, a.Cin*a.KH*a.KW, y.Buf, xb, wb, bb)
}

// Conv2dBackwardInput writes dx: the GEMM [Cin, N·H·W] = wᵀ [Cin, Cout·KH·KW]
// · the col2im view of gy, each dx element gathering the taps that reach it.
func (b *Kernels) Conv2dBackwardInput(a tensor.ConvArgs, dx, gy, w tensor.Span) {
	cols := a.N * a.H * a.W
	if cols == 0 || a.Cin == 0 {
		return
	}
	dummy, free := b.placeholder(tensor.Span{})
	defer free()
	b.conv(convBackwardInput, convArgs(a, dx, gy, w, tensor.Span{}, false), a.Cin, cols, a.Cout*a.KH*a.KW, dx.Buf, gy.Buf, w.Buf, dummy)
}

// Conv2dBackwardWeight writes dw: the GEMM [Cout, Cin·KH·KW] = gy
// [Cout, N·Hout·Wout] · im2col(x)ᵀ, and db (the sum of gy over batch and
// space) when HasBias.
func (b *Kernels) Conv2dBackwardWeight(a tensor.ConvArgs, dw, db, x, gy tensor.Span) {
	cols := a.Cin * a.KH * a.KW
	if cols == 0 || a.Cout == 0 {
		return
	}
	dummy, free := b.placeholder(tensor.Span{})
	defer free()
	// with an empty batch the gradients are zeros
	gyb, freeGy := b.sized(gy, a.N*a.Cout*a.Hout*a.Wout)
	defer freeGy()
	xb, freeX := b.sized(x, a.N*a.Cin*a.H*a.W)
	defer freeX()
	b.conv(convBackwardWeight, convArgs(a, dw, gy, x, tensor.Span{}, false), a.Cout, cols, a.N*a.Hout*a.Wout, dw.Buf, gyb, xb, dummy)
	if a.HasBias && db.Buf != nil {
		b.convBiasGrad(a, db, gy)
	}
}

// convBiasGrad writes db[co], the sum of gy [N, Cout, Hout·Wout] over the
// batch and space, as two reductions: each (image, channel) plane as a
// row, then the [N, Cout] plane sums as columns (see Reduce).
func (b *Kernels) convBiasGrad(a tensor.ConvArgs, db, gy tensor.Span) {
	hw := a.Hout * a.Wout
	if a.N == 0 || hw == 0 {
		b.Fill(tensor.View{Buf: db.Buf, Offset: db.Offset, Shape: []int{a.Cout}, Strides: []int{1}}, 0)
		return
	}
	planes := b.dev.Alloc(a.N * a.Cout)
	defer b.dev.Free(planes)
	b.Reduce(tensor.ReduceSum, tensor.Span{Buf: planes}, gy, a.N*a.Cout, hw, 1)
	b.Reduce(tensor.ReduceSum, db, tensor.Span{Buf: planes}, 1, a.N, a.Cout)
}
