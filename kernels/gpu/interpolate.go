package gpu

import "sargo/tensor"

// Resizing with PyTorch's align_corners=False semantics:
// shaders/interpolate.comp (one invocation per output element) and
// interpolate_backward.comp (one per input element, gathering the outputs
// that read it, so the backward is deterministic without atomics).

type interpPush struct {
	offDst, offSrc, mode, planes, hin, win, hout, wout uint32
	scaleY, scaleX                                     float32
}

// interpScales are the source-per-output scales of the two axes, divided
// here as the CPU backend divides them: a division on the device may be
// off by an ulp (Vulkan allows 2.5), which moves a nearest-neighbour tap
// at an exact boundary.
func interpScales(a tensor.InterpArgs) (float32, float32) {
	return float32(a.Hin) / float32(max(a.Hout, 1)), float32(a.Win) / float32(max(a.Wout, 1))
}

// Interpolate resizes each Hin×Win plane of src into Hout×Wout of dst.
func (b *Kernels) Interpolate(a tensor.InterpArgs, dst, src tensor.Span) {
	n := a.Planes * a.Hout * a.Wout
	if n == 0 || a.Hin == 0 || a.Win == 0 {
		return
	}
	sy, sx := interpScales(a)
	push := interpPush{uint32(dst.Offset), uint32(src.Offset), uint32(a.Mode), uint32(a.Planes),
		uint32(a.Hin), uint32(a.Win), uint32(a.Hout), uint32(a.Wout), sy, sx}
	launch(b, "interpolate", elemSpec, &push, groups1D(n, elemLocal), write(dst.Buf), read(src.Buf))
}

// InterpolateBackward writes the gradient of src (overwritten) from the
// gradient of dst.
func (b *Kernels) InterpolateBackward(a tensor.InterpArgs, dsrc, gdst tensor.Span) {
	n := a.Planes * a.Hin * a.Win
	if n == 0 {
		return
	}
	sy, sx := interpScales(a)
	push := interpPush{uint32(dsrc.Offset), uint32(gdst.Offset), uint32(a.Mode), uint32(a.Planes),
		uint32(a.Hin), uint32(a.Win), uint32(a.Hout), uint32(a.Wout), sy, sx}
	launch(b, "interpolate_backward", elemSpec, &push, groups1D(n, elemLocal), write(dsrc.Buf), read(gdst.Buf))
}
