package softplus_test

import (
	_ "embed"
	"fmt"
	"math"

	"sargo/autograd"
	"sargo/kernels/cpu"
	"sargo/kernels/gpu"
	"sargo/kernels/vulkan"
	"sargo/tensor"
)

// The compiled shaders (go generate writes them from the .comp files).
var (
	//go:embed softplus.spv
	forwardSPV []byte
	//go:embed softplus_backward.spv
	backwardSPV []byte
)

// Softplus is y = log(1 + e^x), elementwise, recorded on g with its
// derivative dy/dx = σ(x). It runs on the CPU and Vulkan backends.
func Softplus(g *autograd.Graph, x *autograd.Var) *autograd.Var {
	xv := x.Value.Contiguous() // the kernels read one contiguous span
	dev := xv.Backend()
	y := tensor.Empty(dev, xv.Shape()...)
	forward(dev, y.Span(), xv.Span(), xv.Size())
	return g.Custom("Softplus", y, func(gy *tensor.Tensor) []*tensor.Tensor {
		gy = gy.Contiguous()
		dx := tensor.Empty(dev, gy.Shape()...)
		backward(dev, dx.Span(), xv.Span(), gy.Span(), xv.Size())
		return []*tensor.Tensor{dx}
	}, x)
}

// forward computes y = softplus(x) over n elements on dev.
func forward(dev tensor.Backend, y, x tensor.Span, n int) {
	switch b := dev.(type) {
	case *cpu.Backend:
		xs, ys := cpuFloats(x, n), cpuFloats(y, n)
		for i, v := range xs {
			ys[i] = softplus(v)
		}
	case *vulkan.Backend:
		push := struct{ OffX, OffY, N uint32 }{uint32(x.Offset), uint32(y.Offset), uint32(n)}
		var d gpu.Dispatch
		gpu.SetDispatch(&d, "softplus", nil, &push, groups(n),
			gpu.Binding{Storage: x.Buf}, gpu.Binding{Storage: y.Buf, Write: true})
		b.Launch(&d)
	default:
		panic(fmt.Sprintf("softplus: no kernel for backend %T", b))
	}
}

// backward computes dx = gy · σ(x) over n elements on dev.
func backward(dev tensor.Backend, dx, x, gy tensor.Span, n int) {
	switch b := dev.(type) {
	case *cpu.Backend:
		xs, gys, dxs := cpuFloats(x, n), cpuFloats(gy, n), cpuFloats(dx, n)
		for i, v := range xs {
			dxs[i] = gys[i] * sigmoid(v)
		}
	case *vulkan.Backend:
		push := struct{ OffX, OffGy, OffDx, N uint32 }{uint32(x.Offset), uint32(gy.Offset), uint32(dx.Offset), uint32(n)}
		var d gpu.Dispatch
		gpu.SetDispatch(&d, "softplus_backward", nil, &push, groups(n),
			gpu.Binding{Storage: x.Buf}, gpu.Binding{Storage: gy.Buf}, gpu.Binding{Storage: dx.Buf, Write: true})
		b.Launch(&d)
	default:
		panic(fmt.Sprintf("softplus: no kernel for backend %T", b))
	}
}

// softplus is the CPU kernel's scalar function, in the overflow-free form
// max(x, 0) + log1p(e^-|x|), evaluated in float64 and rounded once.
func softplus(x float32) float32 {
	v := float64(x)
	return float32(math.Max(v, 0) + math.Log1p(math.Exp(-math.Abs(v))))
}

// sigmoid is σ(x) with an exponential that never overflows.
func sigmoid(x float32) float32 {
	e := math.Exp(-math.Abs(float64(x)))
	if x >= 0 {
		return float32(1 / (1 + e))
	}
	return float32(e / (1 + e))
}

// Register makes the shaders launchable on dev when it is a Vulkan device
// (doing nothing elsewhere, and nothing the second time).
func Register(dev tensor.Backend) error {
	v, ok := dev.(*vulkan.Backend)
	if !ok {
		return nil
	}
	if err := v.AddShader("softplus", forwardSPV); err != nil {
		return err
	}
	return v.AddShader("softplus_backward", backwardSPV)
}

// cpuFloats is the n elements of a CPU span: the CPU backend's storage is
// a Go slice.
func cpuFloats(s tensor.Span, n int) []float32 {
	return s.Buf.(*cpu.Buffer).Data[s.Offset : s.Offset+n]
}

// groups is the workgroup count of an n-element dispatch of 256-wide
// workgroups, capped at 65535 (the shaders loop beyond it).
func groups(n int) [3]uint32 {
	return [3]uint32{uint32(min((n+255)/256, 65535)), 1, 1}
}
