package vulkan

import (
	"fmt"
	"testing"

	"sargo/tensor"
)

func TestConv2d(t *testing.T) {
	e := newNNEnv(t)
	type conv struct{ n, cin, h, w, cout, k, stride, pad int }
	cases := []conv{
		{1, 1, 1, 1, 1, 1, 1, 0},
		{2, 3, 7, 13, 5, 3, 1, 1},
		{2, 3, 7, 13, 5, 3, 2, 1},
		{1, 4, 8, 8, 7, 1, 1, 0},
		{3, 2, 13, 5, 3, 3, 2, 0},
		{1, 5, 9, 9, 6, 4, 2, 2},
		{2, 33, 5, 7, 70, 3, 1, 1},
		{1, 3, 33, 17, 2, 5, 1, 2},
	}
	for _, c := range cases {
		for _, bias := range []bool{false, true} {
			a := tensor.ConvArgs{N: c.n, Cin: c.cin, H: c.h, W: c.w, Cout: c.cout, KH: c.k, KW: c.k, Stride: c.stride, Pad: c.pad, HasBias: bias}
			a.Hout = (a.H+2*a.Pad-a.KH)/a.Stride + 1
			a.Wout = (a.W+2*a.Pad-a.KW)/a.Stride + 1
			t.Run(fmt.Sprintf("%+v", c)+fmt.Sprintf("/bias=%v", bias), func(t *testing.T) {
				nx, nw, ny := a.N*a.Cin*a.H*a.W, a.Cout*a.Cin*a.KH*a.KW, a.N*a.Cout*a.Hout*a.Wout
				x, w := e.input(e.normal(nx, 1)), e.input(e.normal(nw, 1))
				var b pair
				if bias {
					b = e.input(e.normal(a.Cout, 1))
				}
				y := e.output(ny)
				e.vk.Conv2d(a, y.vk, x.vk, w.vk, b.vk)
				e.cpu.Conv2d(a, y.cpu, x.cpu, w.cpu, b.cpu)
				e.check(t, "y", y, nnTol)

				gy := e.input(e.normal(ny, 1))
				dx := e.output(nx)
				e.vk.Conv2dBackwardInput(a, dx.vk, gy.vk, w.vk)
				e.cpu.Conv2dBackwardInput(a, dx.cpu, gy.cpu, w.cpu)
				e.check(t, "dx", dx, nnTol)

				dw := e.output(nw)
				var db pair
				if bias {
					db = e.output(a.Cout)
				}
				e.vk.Conv2dBackwardWeight(a, dw.vk, db.vk, x.vk, gy.vk)
				e.cpu.Conv2dBackwardWeight(a, dw.cpu, db.cpu, x.cpu, gy.cpu)
				e.check(t, "dw", dw, nnTol)
				if bias {
					e.check(t, "db", db, nnTol)
				}
			})
		}
	}
}

func BenchmarkConv2d(b *testing.B) {
	a := tensor.ConvArgs{N: 2, Cin: 32, H: 32, W: 32, Cout: 32, KH: 3, KW: 3, Stride: 1, Pad: 1, Hout: 32, Wout: 32, HasBias: true}
	benchBackends(b, func(b *testing.B, be tensor.Backend) {
		x, w := benchInput(be, a.N*a.Cin*a.H*a.W), benchInput(be, a.Cout*a.Cin*9)
		bias, y := benchInput(be, a.Cout), benchInput(be, a.N*a.Cout*a.Hout*a.Wout)
		dx, dw, db := benchInput(be, a.N*a.Cin*a.H*a.W), benchInput(be, a.Cout*a.Cin*9), benchInput(be, a.Cout)
		for b.Loop() {
			be.Conv2d(a, y, x, w, bias)
			be.Conv2dBackwardInput(a, dx, y, w)
			be.Conv2dBackwardWeight(a, dw, db, x, y)
			_ = be.Sync()
		}
	})
}

// TestConv2dNoInputChannels checks that a convolution over no input
// channels is the bias alone, and its weight gradient over an empty batch
// is zero.
func TestConv2dNoInputChannels(t *testing.T) {
	e := newNNEnv(t)
	a := tensor.ConvArgs{N: 2, Cin: 0, H: 4, W: 5, Cout: 3, KH: 3, KW: 3, Stride: 1, Pad: 1, Hout: 4, Wout: 5, HasBias: true}
	bias := e.input(e.normal(a.Cout, 1))
	y := e.output(a.N * a.Cout * a.Hout * a.Wout)
	b := tensor.ConvArgs{N: 0, Cin: 2, H: 4, W: 5, Cout: 3, KH: 3, KW: 3, Stride: 1, Pad: 1, Hout: 4, Wout: 5, HasBias: true}
	dw, db := e.output(b.Cout*b.Cin*9), e.output(b.Cout)
	for _, side := range []struct {
		b               tensor.Backend
		bias, y, dw, db tensor.Span
	}{{e.vk, bias.vk, y.vk, dw.vk, db.vk}, {e.cpu, bias.cpu, y.cpu, dw.cpu, db.cpu}} {
		empty := tensor.Span{Buf: side.b.Alloc(0)}
		side.b.Conv2d(a, side.y, empty, empty, side.bias)
		side.b.Conv2dBackwardWeight(b, side.dw, side.db, empty, empty)
	}
	e.exact(t, "y", y)
	e.exact(t, "dw", dw)
	e.exact(t, "db", db)
}
