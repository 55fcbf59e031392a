package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

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
// loops, on the im2col path with the batch in one group of images, one
// image per group, and two images per group (leaving an odd group at the
// end), and on the implicit path wherever it applies.
func TestConv2d(t *testing.T) {
	for _, grouping := range []struct {
		name   string
		mode   int
		budget func(a tensor.ConvArgs) int
	}{
		{"one-group", -1, func(tensor.ConvArgs) int { return 0 }},
		{"per-image", -1, func(tensor.ConvArgs) int { return 1 }},
		{"pairs", -1, func(a tensor.ConvArgs) int { return 2 * a.Cin * a.KH * a.KW * a.Hout * a.Wout }},
		{"implicit", 1, func(tensor.ConvArgs) int { return 0 }},
	} {
		t.Run(grouping.name, func(t *testing.T) {
			if grouping.mode > 0 && convIndirect == nil {
				t.Skip("no indirect kernel on this processor")
			}
			testConv2d(t, func(a tensor.ConvArgs) *Backend {
				return &Backend{workers: 2, convBudget: grouping.budget(a), convPath: grouping.mode}
			})
		})
	}
}

// TestConv2dImplicitDeterministic checks that the implicit path gives the
// same bits with one worker as with several, for all three products.
func TestConv2dImplicitDeterministic(t *testing.T) {
	if convIndirect == nil {
		t.Skip("no indirect kernel on this processor")
	}
	for _, a := range []tensor.ConvArgs{
		{N: 3, Cin: 5, H: 19, W: 23, Cout: 33, KH: 3, KW: 3, Stride: 1, Pad: 1, HasBias: true},
		{N: 3, Cin: 5, H: 19, W: 23, Cout: 33, KH: 3, KW: 3, Stride: 2, Pad: 1, HasBias: true},
	} {
		a.Hout = (a.H+2*a.Pad-a.KH)/a.Stride + 1
		a.Wout = (a.W+2*a.Pad-a.KW)/a.Stride + 1
		t.Run(fmt.Sprintf("stride%d", a.Stride), func(t *testing.T) { testConvDeterministic(t, a) })
	}
}

func testConvDeterministic(t *testing.T, a tensor.ConvArgs) {
	rng := rand.New(rand.NewPCG(7, 7))
	x := kernRand(rng, a.N*a.Cin*a.H*a.W, -1, 1)
	w := kernRand(rng, a.Cout*a.Cin*a.KH*a.KW, -1, 1)
	bias := kernRand(rng, a.Cout, -1, 1)
	gy := kernRand(rng, a.N*a.Cout*a.Hout*a.Wout, -1, 1)
	var first [3][]float32 // y, dx, dw with one worker
	for _, workers := range []int{1, 2, 5} {
		be := &Backend{workers: workers}
		y := make([]float32, len(gy))
		be.Conv2d(a, kernSpan(y), kernSpan(x), kernSpan(w), kernSpan(bias))
		dx := make([]float32, len(x))
		be.Conv2dBackwardInput(a, kernSpan(dx), kernSpan(gy), kernSpan(w))
		dw := make([]float32, len(w))
		be.Conv2dBackwardWeight(a, kernSpan(dw), tensor.Span{}, kernSpan(x), kernSpan(gy))
		if workers == 1 {
			first = [3][]float32{y, dx, dw}
			continue
		}
		for i, got := range [3][]float32{y, dx, dw} {
			require.Equal(t, first[i], got, "%s with %d workers differs from one worker", [3]string{"y", "dx", "dw"}[i], workers)
		}
	}
}

// convTol is the absolute tolerance of a float32 sum of depth products of
// values in [−1, 1]: its rounding error grows about as √depth.
func convTol(depth int) float64 { return 1e-5 * max(1, math.Sqrt(float64(depth)/64)) }

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
		// Stride 1 at odd sizes, for the implicit path: Cout not a
		// multiple of 14 (nor Cin, for the input gradient), several row
		// panels, padded planes from 2×3 to 40×37, pads 0 to 2.
		{N: 1, Cin: 3, H: 2, W: 3, Cout: 15, KH: 1, KW: 1, Stride: 1, Pad: 0, HasBias: true},
		{N: 2, Cin: 2, H: 4, W: 5, Cout: 3, KH: 3, KW: 3, Stride: 1, Pad: 0},
		{N: 1, Cin: 4, H: 38, W: 35, Cout: 29, KH: 3, KW: 3, Stride: 1, Pad: 1, HasBias: true},
		{N: 3, Cin: 17, H: 11, W: 13, Cout: 31, KH: 5, KW: 5, Stride: 1, Pad: 2},
		{N: 2, Cin: 15, H: 9, W: 7, Cout: 43, KH: 1, KW: 1, Stride: 1, Pad: 0, HasBias: true},
		{N: 4, Cin: 3, H: 10, W: 6, Cout: 16, KH: 3, KW: 5, Stride: 1, Pad: 1, HasBias: true},
		{N: 2, Cin: 30, H: 5, W: 9, Cout: 2, KH: 3, KW: 3, Stride: 1, Pad: 2},
		{N: 1, Cin: 2, H: 36, W: 33, Cout: 14, KH: 5, KW: 5, Stride: 1, Pad: 2, HasBias: true},
		// Strided, for the implicit path's phase planes: odd sizes,
		// pads 0 to 2, kernels smaller than the stride (phases with no
		// taps), strides 3 and 4, input rows and columns no output reads,
		// and the tokenizer's downsample at 64 channels.
		{N: 2, Cin: 3, H: 9, W: 11, Cout: 15, KH: 3, KW: 3, Stride: 2, Pad: 1, HasBias: true},
		{N: 3, Cin: 5, H: 10, W: 7, Cout: 7, KH: 1, KW: 1, Stride: 2, Pad: 0, HasBias: true},
		{N: 1, Cin: 4, H: 13, W: 12, Cout: 9, KH: 5, KW: 3, Stride: 2, Pad: 2},
		{N: 2, Cin: 6, H: 11, W: 14, Cout: 17, KH: 3, KW: 3, Stride: 3, Pad: 1, HasBias: true},
		{N: 2, Cin: 3, H: 12, W: 9, Cout: 5, KH: 2, KW: 3, Stride: 4, Pad: 0},
		{N: 2, Cin: 64, H: 16, W: 16, Cout: 64, KH: 3, KW: 3, Stride: 2, Pad: 1, HasBias: true},
		// Weight gradients whose depth spans several images and kc slices.
		{N: 4, Cin: 7, H: 17, W: 19, Cout: 45, KH: 3, KW: 3, Stride: 1, Pad: 1, HasBias: true},
		{N: 3, Cin: 5, H: 12, W: 10, Cout: 33, KH: 1, KW: 1, Stride: 1, Pad: 2},
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
		kernClose(t, kernConvRef(a, kernF64(x), kernF64(w), b64), y, 1e-5, convTol(a.Cin*a.KH*a.KW), "conv forward")

		wantDx, wantDw, wantDb := kernConvAdjoint(a, kernF64(x), kernF64(w), kernF64(gy))
		dx := kernRand(rng, len(x), -1, 1) // overwritten
		be.Conv2dBackwardInput(a, kernSpan(dx), kernSpan(gy), kernSpan(w))
		kernClose(t, wantDx, dx, 1e-5, convTol(a.Cout*a.KH*a.KW), "conv dx")
		dw, db := kernRand(rng, len(w), -1, 1), kernRand(rng, a.Cout, -1, 1)
		dbSpan := tensor.Span{}
		if a.HasBias {
			dbSpan = kernSpan(db)
		}
		be.Conv2dBackwardWeight(a, kernSpan(dw), dbSpan, kernSpan(x), kernSpan(gy))
		kernClose(t, wantDw, dw, 1e-5, convTol(a.N*a.Hout*a.Wout), "conv dw")
		if a.HasBias {
			kernClose(t, wantDb, db, 1e-5, convTol(a.N*a.Hout*a.Wout), "conv db")
		}
	}
}
