package gpu

import "sargo/tensor"

// 2-D convolution as an implicit GEMM: shaders/conv2d.comp, specialised by
// MODE into the forward, the input gradient and the weight gradient, and
// conv2d_bias_backward.comp for the bias gradient. No im2col matrix is
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
	launch(b, "conv2d", convSpec(convForward), &push, convGroups(a.Cout, cols), write(y.Buf), read(xb), read(wb), read(bb))
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
	launch(b, "conv2d", convSpec(convBackwardInput), &push, convGroups(a.Cin, cols), write(dx.Buf), read(gy.Buf), read(w.Buf), read(dummy))
}

type convBiasPush struct {
	offDb, offGy, n, cout, hw uint32
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
	launch(b, "conv2d", convSpec(convBackwardWeight), &push, convGroups(a.Cout, cols), write(dw.Buf), read(gyb), read(xb), read(dummy))
	if a.HasBias && db.Buf != nil {
		bp := convBiasPush{uint32(db.Offset), uint32(gy.Offset), uint32(a.N), uint32(a.Cout), uint32(a.Hout * a.Wout)}
		launch(b, "conv2d_bias_backward", rowSpec, &bp, rowGroups(a.Cout), write(db.Buf), read(gyb))
	}
}
