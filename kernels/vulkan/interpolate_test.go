package vulkan

import (
	"fmt"
	"testing"

	"sargo/tensor"
)

func TestInterpolate(t *testing.T) {
	e := newNNEnv(t)
	sizes := []int{1, 2, 3, 5, 8, 13}
	modes := []tensor.InterpMode{tensor.InterpNearest, tensor.InterpBilinear, tensor.InterpBicubic, tensor.InterpArea}
	for _, mode := range modes {
		for i, hin := range sizes {
			for j, hout := range sizes {
				// widths walk the sizes in another order so that H and W differ
				win, wout := sizes[(i+2)%len(sizes)], sizes[(j+3)%len(sizes)]
				a := tensor.InterpArgs{Mode: mode, Planes: 3, Hin: hin, Win: win, Hout: hout, Wout: wout}
				t.Run(fmt.Sprintf("%v/%dx%d-%dx%d", mode, hin, win, hout, wout), func(t *testing.T) {
					in, out := a.Planes*a.Hin*a.Win, a.Planes*a.Hout*a.Wout
					src := e.input(e.normal(in, 1))
					dst := e.output(out)
					e.vk.Interpolate(a, dst.vk, src.vk)
					e.cpu.Interpolate(a, dst.cpu, src.cpu)
					e.check(t, "forward", dst, nnTol)

					g := e.input(e.normal(out, 1))
					ds := e.output(in)
					e.vk.InterpolateBackward(a, ds.vk, g.vk)
					e.cpu.InterpolateBackward(a, ds.cpu, g.cpu)
					e.check(t, "backward", ds, nnTol)
				})
			}
		}
	}
	// large up- and down-sampling factors
	for _, mode := range modes {
		for _, c := range [][4]int{{2, 3, 40, 33}, {40, 33, 3, 2}, {1, 64, 13, 1}} {
			a := tensor.InterpArgs{Mode: mode, Planes: 2, Hin: c[0], Win: c[1], Hout: c[2], Wout: c[3]}
			t.Run(fmt.Sprintf("%v/%dx%d-%dx%d", mode, a.Hin, a.Win, a.Hout, a.Wout), func(t *testing.T) {
				in, out := a.Planes*a.Hin*a.Win, a.Planes*a.Hout*a.Wout
				src, dst := e.input(e.normal(in, 1)), e.output(out)
				e.vk.Interpolate(a, dst.vk, src.vk)
				e.cpu.Interpolate(a, dst.cpu, src.cpu)
				e.check(t, "forward", dst, nnTol)
				g, ds := e.input(e.normal(out, 1)), e.output(in)
				e.vk.InterpolateBackward(a, ds.vk, g.vk)
				e.cpu.InterpolateBackward(a, ds.cpu, g.cpu)
				e.check(t, "backward", ds, nnTol)
			})
		}
	}
}
