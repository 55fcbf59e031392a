package gpu

import "sargo/tensor"

// Resizing with PyTorch's align_corners=False semantics:
// shaders/interpolate.comp (one invocation per output element) and
// interpolate_backward.comp (one per input element, gathering the outputs
// that read it, so the backward is deterministic without atomics, from
// per-axis tables of tap weights that a first pass computes once per
// input row and column).

// interpolateVariants lists the interpolation pipelines (the mode is a
// push constant).
func interpolateVariants(t Tuning) []Variant {
	return []Variant{
		{Shader: "interpolate", Spec: t.specs().elem, Bindings: 2, Group: "interpolate"},
		{Shader: "interpolate_backward", Spec: t.interpBackwardSpec(interpWeights), Bindings: 3, Group: "interpolate_backward", Label: "weights"},
		{Shader: "interpolate_backward", Spec: t.interpBackwardSpec(interpGather), Bindings: 3, Group: "interpolate_backward", Label: "gather"},
	}
}

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
	launch(b, "interpolate", b.spec.elem, &push, groups1D(n, int(b.tune.Elem)), write(dst.Buf), read(src.Buf))
}

// Passes of interpolate_backward.comp (its MODE).
const (
	interpWeights = 0 // the per-axis tables of tap weights
	interpGather  = 1 // each input element sums its window
)

func (t Tuning) interpBackwardSpec(mode uint32) []uint32 { return []uint32{t.Elem, mode} }

type interpBackwardPush struct {
	offDsrc, offGdst, mode, planes, hin, win, hout, wout uint32
	wy, wx                                               uint32
	scaleY, scaleX                                       float32
}

// interpOutRange is outRange of interpolate_backward.comp: the outputs
// [lo, hi] of an axis resized from n to m whose taps may read input i.
func interpOutRange(i, n, m int) (lo, hi int) {
	if i >= 2 {
		lo = max(0, (i-2)*m/n-2)
	}
	hi = min(m-1, ((i+3)*m+n-1)/n+1)
	if i == n-1 {
		hi = m - 1
	}
	return lo, hi
}

// interpWindow is the widest window of outputs over the inputs of an axis
// resized from n to m: the slots per input of its weight table.
func interpWindow(n, m int) int {
	w := 1
	for i := range n {
		lo, hi := interpOutRange(i, n, m)
		w = max(w, hi-lo+1)
	}
	return w
}

// InterpolateBackward writes the gradient of src (overwritten) from the
// gradient of dst: a pass computes, for each input row and column, the
// weights with which the outputs of its window read it, then a pass
// gathers each input element's window.
func (b *Kernels) InterpolateBackward(a tensor.InterpArgs, dsrc, gdst tensor.Span) {
	n := a.Planes * a.Hin * a.Win
	if n == 0 {
		return
	}
	wy, wx := interpWindow(a.Hin, a.Hout), interpWindow(a.Win, a.Wout)
	tables := a.Hin*wy + a.Win*wx
	weights := b.dev.Alloc(tables)
	defer b.dev.Free(weights)
	sy, sx := interpScales(a)
	push := interpBackwardPush{uint32(dsrc.Offset), uint32(gdst.Offset), uint32(a.Mode), uint32(a.Planes),
		uint32(a.Hin), uint32(a.Win), uint32(a.Hout), uint32(a.Wout), uint32(wy), uint32(wx), sy, sx}
	bufs := []Binding{write(dsrc.Buf), read(gdst.Buf), write(weights)}
	launch(b, "interpolate_backward", b.tune.interpBackwardSpec(interpWeights), &push, groups1D(tables, int(b.tune.Elem)), bufs...)
	launch(b, "interpolate_backward", b.tune.interpBackwardSpec(interpGather), &push, groups1D(n, int(b.tune.Elem)), bufs...)
}
