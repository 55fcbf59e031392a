package gpu

import "sargo/tensor"

// Resizing with PyTorch's align_corners=False semantics:
// shaders/interpolate.comp (one invocation per output element) and
// interpolate_backward.comp (one per input element, gathering the outputs
// that read it, so the backward is deterministic without atomics).

type interpPush struct {
	offDst, offSrc, mode, planes, hin, win, hout, wout uint32
}

// Interpolate resizes each Hin×Win plane of src into Hout×Wout of dst.
func (b *Kernels) Interpolate(a tensor.InterpArgs, dst, src tensor.Span) {
	n := a.Planes * a.Hout * a.Wout
	if n == 0 || a.Hin == 0 || a.Win == 0 {
		return
	}
	push := interpPush{uint32(dst.Offset), uint32(src.Offset), uint32(a.Mode), uint32(a.Planes),
		uint32(a.Hin), uint32(a.Win), uint32(a.Hout), uint32(a.Wout)}
	launch(b, "interpolate", elemSpec, &push, groups1D(n, elemLocal), write(dst.Buf), read(src.Buf))
}

// InterpolateBackward writes the gradient of src (overwritten) from the
// gradient of dst.
func (b *Kernels) InterpolateBackward(a tensor.InterpArgs, dsrc, gdst tensor.Span) {
	n := a.Planes * a.Hin * a.Win
	if n == 0 {
		return
	}
	push := interpPush{uint32(dsrc.Offset), uint32(gdst.Offset), uint32(a.Mode), uint32(a.Planes),
		uint32(a.Hin), uint32(a.Win), uint32(a.Hout), uint32(a.Wout)}
	launch(b, "interpolate_backward", elemSpec, &push, groups1D(n, elemLocal), write(dsrc.Buf), read(gdst.Buf))
}
