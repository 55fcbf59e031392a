package cpu

import (
	"math/rand/v2"
	"testing"

	"sargo/tensor"
)

// kernConvRef is a direct float64 convolution; kernConvAdjoint gives the
// input and weight gradients of Σ gy·y.
func kernConvRef(a tensor.ConvArgs, x, w, b []float64) []float64 {
	y := make([]float64, a.N*a.Cout*a.Hout*a.Wout)
	kernConvLoop(a, func(yi, xi, wi int) { y[yi] += x[xi] * w[wi] })
	if b != nil {
		for i := range y {
			y[i] += b[(i/(a.Hout*a.Wout))%a.Cout]
		}
	}
	return y
}

func kernConvAdjoint(a tensor.ConvArgs, x, w, gy []float64) (dx, dw, db []float64) {
	dx, dw, db = make([]float64, len(x)), make([]float64, len(w)), make([]float64, a.Cout)
	kernConvLoop(a, func(yi, xi, wi int) {
		dx[xi] += gy[yi] * w[wi]
		dw[wi] += gy[yi] * x[xi]
	})
	for i, g := range gy {
		db[(i/(a.Hout*a.Wout))%a.Cout] += g
	}
	return dx, dw, db
}

// kernConvLoop calls f for every (output, input, weight) index triple that
// contributes to the convolution.
func kernConvLoop(a tensor.ConvArgs, f func(yi, xi, wi int)) {
	for n := range a.N {
		for co := range a.Cout {
			for oy := range a.Hout {
				for ox := range a.Wout {
					yi := ((n*a.Cout+co)*a.Hout+oy)*a.Wout + ox
					for ci := range a.Cin {
						for ky := range a.KH {
							for kx := range a.KW {
								iy, ix := oy*a.Stride-a.Pad+ky, ox*a.Stride-a.Pad+kx
								if iy < 0 || iy >= a.H || ix < 0 || ix >= a.W {
									continue
								}
								f(yi, ((n*a.Cin+ci)*a.H+iy)*a.W+ix, ((co*a.Cin+ci)*a.KH+ky)*a.KW+kx)
							}
						}
					}
				}
			}
		}
	}
}

// TestConv2d checks the convolution and its gradients against the float64
// loops, with the batch in one group of images, one image per group, and
// two images per group (leaving an odd group at the end).
func TestConv2d(t *testing.T) {
	for _, grouping := range []struct {
		name   string
		budget func(a tensor.ConvArgs) int
	}{
		{"one-group", func(tensor.ConvArgs) int { return 0 }},
		{"per-image", func(tensor.ConvArgs) int { return 1 }},
		{"pairs", func(a tensor.ConvArgs) int { return 2 * a.Cin * a.KH * a.KW * a.Hout * a.Wout }},
	} {
		t.Run(grouping.name, func(t *testing.T) {
			testConv2d(t, func(a tensor.ConvArgs) *Backend {
				return &Backend{workers: 2, convBudget: grouping.budget(a)}
			})
		})
	}
}

func testConv2d(t *testing.T, backend func(a tensor.ConvArgs) *Backend) {
	tests := []tensor.ConvArgs{
		{N: 1, Cin: 1, H: 1, W: 1, Cout: 1, KH: 1, KW: 1, Stride: 1, Pad: 0},
		{N: 2, Cin: 3, H: 7, W: 5, Cout: 4, KH: 3, KW: 3, Stride: 1, Pad: 1, HasBias: true},
		{N: 2, Cin: 2, H: 13, W: 7, Cout: 3, KH: 3, KW: 3, Stride: 2, Pad: 1, HasBias: true},
		{N: 1, Cin: 5, H: 8, W: 8, Cout: 7, KH: 4, KW: 4, Stride: 2, Pad: 1},
		{N: 3, Cin: 2, H: 6, W: 9, Cout: 2, KH: 1, KW: 3, Stride: 1, Pad: 0, HasBias: true},
		{N: 1, Cin: 3, H: 5, W: 5, Cout: 2, KH: 3, KW: 3, Stride: 2, Pad: 0},
		{N: 5, Cin: 4, H: 6, W: 6, Cout: 3, KH: 3, KW: 3, Stride: 1, Pad: 1, HasBias: true},
		{N: 3, Cin: 2, H: 7, W: 6, Cout: 5, KH: 3, KW: 3, Stride: 2, Pad: 1},
		{N: 3, Cin: 2, H: 4, W: 3, Cout: 2, KH: 5, KW: 5, Stride: 1, Pad: 2, HasBias: true},
		// 64 output pixels: images sit side by side in the GEMM in place.
		{N: 3, Cin: 2, H: 8, W: 8, Cout: 17, KH: 3, KW: 3, Stride: 1, Pad: 1, HasBias: true},
		{N: 2, Cin: 3, H: 16, W: 16, Cout: 5, KH: 3, KW: 3, Stride: 2, Pad: 1},
	}
	for ti, a := range tests {
		a.Hout = (a.H+2*a.Pad-a.KH)/a.Stride + 1
		a.Wout = (a.W+2*a.Pad-a.KW)/a.Stride + 1
		be := backend(a)
		rng := rand.New(rand.NewPCG(uint64(ti), 5))
		x := kernRand(rng, a.N*a.Cin*a.H*a.W, -1, 1)
		w := kernRand(rng, a.Cout*a.Cin*a.KH*a.KW, -1, 1)
		gy := kernRand(rng, a.N*a.Cout*a.Hout*a.Wout, -1, 1)
		var b []float32
		var b64 []float64
		bias := tensor.Span{}
		if a.HasBias {
			b = kernRand(rng, a.Cout, -1, 1)
			b64, bias = kernF64(b), kernSpan(b)
		}
		y := make([]float32, len(gy))
		be.Conv2d(a, kernSpan(y), kernSpan(x), kernSpan(w), bias)
		kernClose(t, kernConvRef(a, kernF64(x), kernF64(w), b64), y, 1e-5, 1e-5, "conv forward")

		wantDx, wantDw, wantDb := kernConvAdjoint(a, kernF64(x), kernF64(w), kernF64(gy))
		dx := kernRand(rng, len(x), -1, 1) // overwritten
		be.Conv2dBackwardInput(a, kernSpan(dx), kernSpan(gy), kernSpan(w))
		kernClose(t, wantDx, dx, 1e-5, 1e-5, "conv dx")
		dw, db := kernRand(rng, len(w), -1, 1), kernRand(rng, a.Cout, -1, 1)
		dbSpan := tensor.Span{}
		if a.HasBias {
			dbSpan = kernSpan(db)
		}
		be.Conv2dBackwardWeight(a, kernSpan(dw), dbSpan, kernSpan(x), kernSpan(gy))
		kernClose(t, wantDw, dw, 1e-5, 1e-5, "conv dw")
		if a.HasBias {
			kernClose(t, wantDb, db, 1e-5, 1e-5, "conv db")
		}
	}
}
