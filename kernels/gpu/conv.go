package gpu

import "sargo/tensor"

// 2-D convolution as an implicit GEMM: shaders/conv2d.comp, specialised by
// MODE into the forward, the input gradient and the weight gradient; the
// bias gradient is two reductions (convBiasGrad). No im2col matrix is
// materialised; each GEMM tile gathers its operands straight from the
// tensors into shared memory.

// Specialization of conv2d.comp: outputs per invocation along each axis
// (a workgroup of 16×16 covers convMicro·16 squared) and the shared tile depth.
const (
	convMicro = 4
	convDepth = 16
	convTile  = 16 * convMicro
)

// Modes of conv2d.comp.
const (
	convForward        = 0
	convBackwardInput  = 1
	convBackwardWeight = 2
)

// convVariants lists the convolution pipelines: each mode of conv2d.comp
// and the bias gradient.
func convVariants(Features) []Variant {
	return []Variant{
		{Shader: "conv2d", Spec: convSpec(convForward), Bindings: 4, Group: "conv2d", Label: "forward"},
		{Shader: "conv2d", Spec: convSpec(convBackwardInput), Bindings: 4, Group: "conv2d", Label: "input gradient"},
		{Shader: "conv2d", Spec: convSpec(convBackwardWeight), Bindings: 4, Group: "conv2d", Label: "weight gradient"},
	}
}

type convPush struct {
	offOut, offIn1, offIn2, offBias  uint32
	n, cin, h, w, cout, kh, kw       uint32
	stride, pad, hout, wout, hasBias uint32
}

func convArgs(a tensor.ConvArgs, out, in1, in2, bias tensor.Span, hasBias bool) convPush {
	return convPush{uint32(out.Offset), uint32(in1.Offset), uint32(in2.Offset), uint32(bias.Offset),
		uint32(a.N), uint32(a.Cin), uint32(a.H), uint32(a.W), uint32(a.Cout), uint32(a.KH), uint32(a.KW),
		uint32(a.Stride), uint32(a.Pad), uint32(a.Hout), uint32(a.Wout), flag(hasBias)}
}

// convGroups tiles an M×N GEMM output; tiles along N beyond the cap are
// walked by the shader.
func convGroups(m, n int) [3]uint32 {
	g := groups1D(n, convTile)
	g[1] = uint32(max((m+convTile-1)/convTile, 1))
	return g
}

func convSpec(mode uint32) []uint32 { return []uint32{mode, convMicro, convDepth} }

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
	push := convArgs(a, y, x, w, bias, hasBias)
	b.launch("conv2d", convSpec(convForward), &push, convGroups(a.Cout, cols), write(y.Buf), read(xb), read(wb), read(bb))
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
	push := convArgs(a, dx, gy, w, tensor.Span{}, false)
	b.launch("conv2d", convSpec(convBackwardInput), &push, convGroups(a.Cin, cols), write(dx.Buf), read(gy.Buf), read(w.Buf), read(dummy))
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
	push := convArgs(a, dw, gy, x, tensor.Span{}, false)
	b.launch("conv2d", convSpec(convBackwardWeight), &push, convGroups(a.Cout, cols), write(dw.Buf), read(gyb), read(xb), read(dummy))
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
