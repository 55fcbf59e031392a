package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"sargo/tensor"
)

// kernCubic is PyTorch's cubic convolution kernel with A = -0.75.
func kernCubic(x float64) float64 {
	const a = -0.75
	x = math.Abs(x)
	switch {
	case x <= 1:
		return ((a+2)*x-(a+3))*x*x + 1
	case x < 2:
		return ((a*x-5*a)*x+8*a)*x - 4*a
	}
	return 0
}

// kernAxisWeights returns the dense [out, in] weight matrix of one axis,
// written from PyTorch's formulas with float32 source coordinates.
func kernAxisWeights(mode tensor.InterpMode, in, out int) [][]float64 {
	w := make([][]float64, out)
	scale := float32(in) / float32(out)
	clampi := func(i int) int { return min(max(i, 0), in-1) }
	for o := range out {
		w[o] = make([]float64, in)
		switch mode {
		case tensor.InterpNearest:
			w[o][min(int(math.Floor(float64(float32(o)*scale))), in-1)] = 1
		case tensor.InterpBilinear:
			src := float64(max(scale*(float32(o)+0.5)-0.5, 0))
			i0 := int(math.Floor(src))
			l := src - float64(i0)
			w[o][clampi(i0)] += 1 - l
			w[o][clampi(i0+1)] += l
		case tensor.InterpBicubic:
			src := float64(scale*(float32(o)+0.5) - 0.5)
			i0 := int(math.Floor(src))
			for k := -1; k <= 2; k++ {
				w[o][clampi(i0+k)] += kernCubic(src - float64(i0+k))
			}
		case tensor.InterpArea:
			s := int(math.Floor(float64(o) * float64(in) / float64(out)))
			e := int(math.Ceil(float64(o+1) * float64(in) / float64(out)))
			for i := s; i < e; i++ {
				w[o][i] = 1 / float64(e-s)
			}
		}
	}
	return w
}

// kernInterpRef resizes planes of x with the dense axis weights; with
// transpose it applies the adjoint (x is then the output gradient).
func kernInterpRef(a tensor.InterpArgs, x []float64, transpose bool) []float64 {
	wy, wx := kernAxisWeights(a.Mode, a.Hin, a.Hout), kernAxisWeights(a.Mode, a.Win, a.Wout)
	in, out := a.Hin*a.Win, a.Hout*a.Wout
	var res []float64
	if transpose {
		res = make([]float64, a.Planes*in)
	} else {
		res = make([]float64, a.Planes*out)
	}
	for p := range a.Planes {
		for y := range a.Hout {
			for xo := range a.Wout {
				for h := range a.Hin {
					for w := range a.Win {
						c := wy[y][h] * wx[xo][w]
						if c == 0 {
							continue
						}
						if transpose {
							res[p*in+h*a.Win+w] += c * x[p*out+y*a.Wout+xo]
						} else {
							res[p*out+y*a.Wout+xo] += c * x[p*in+h*a.Win+w]
						}
					}
				}
			}
		}
	}
	return res
}

func TestInterpolate(t *testing.T) {
	be := kernBackend()
	sizes := [][4]int{{1, 1, 3, 2}, {4, 4, 8, 8}, {7, 5, 13, 11}, {13, 11, 7, 5}, {8, 8, 3, 5}, {5, 7, 5, 7}, {3, 9, 1, 2}, {6, 6, 9, 4},
		{3, 5, 6, 15}, {2, 3, 8, 3}, {1, 4, 2, 8}}
	for mode := tensor.InterpMode(0); mode <= tensor.InterpArea; mode++ {
		for _, sz := range sizes {
			a := tensor.InterpArgs{Mode: mode, Planes: 3, Hin: sz[0], Win: sz[1], Hout: sz[2], Wout: sz[3]}
			rng := rand.New(rand.NewPCG(uint64(mode), uint64(sz[0]*100+sz[2])))
			x := kernRand(rng, a.Planes*a.Hin*a.Win, -1, 1)
			g := kernRand(rng, a.Planes*a.Hout*a.Wout, -1, 1)
			y := make([]float32, len(g))
			be.Interpolate(a, kernSpan(y), kernSpan(x))
			kernClose(t, kernInterpRef(a, kernF64(x), false), y, 1e-5, 1e-6, mode.String())
			dx := kernRand(rng, len(x), -1, 1) // overwritten
			be.InterpolateBackward(a, kernSpan(dx), kernSpan(g))
			kernClose(t, kernInterpRef(a, kernF64(g), true), dx, 1e-5, 1e-5, mode.String()+" backward")
		}
	}
}

// TestInterpolateKnownValues pins a few values computed by PyTorch's
// F.interpolate(align_corners=False) semantics by hand.
func TestInterpolateKnownValues(t *testing.T) {
	be := kernBackend()
	tests := []struct {
		name string
		mode tensor.InterpMode
		in   []float32
		out  int
		want []float64
	}{
		// Row [0 1 2 3] to 8: nearest repeats each value twice.
		{"nearest up", tensor.InterpNearest, []float32{0, 1, 2, 3}, 8, []float64{0, 0, 1, 1, 2, 2, 3, 3}},
		// Bilinear 4 -> 8: src = (o+0.5)/2 - 0.5, clamped at 0.
		{"bilinear up", tensor.InterpBilinear, []float32{0, 1, 2, 3}, 8, []float64{0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3}},
		// Area 4 -> 2: pairwise means.
		{"area down", tensor.InterpArea, []float32{0, 1, 2, 3}, 2, []float64{0.5, 2.5}},
		// Bicubic 4 -> 2: src = 0.5 and 2.5, t = 0.5, weights -0.09375, 0.59375, 0.59375, -0.09375.
		{"bicubic down", tensor.InterpBicubic, []float32{0, 1, 2, 3}, 2, []float64{
			-0.09375*0 + 0.59375*0 + 0.59375*1 - 0.09375*2,
			-0.09375*1 + 0.59375*2 + 0.59375*3 - 0.09375*3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := tensor.InterpArgs{Mode: tc.mode, Planes: 1, Hin: 1, Win: len(tc.in), Hout: 1, Wout: tc.out}
			y := make([]float32, tc.out)
			be.Interpolate(a, kernSpan(y), kernSpan(tc.in))
			kernClose(t, tc.want, y, 1e-6, 1e-7, tc.name)
		})
	}
	require.Equal(t, [4]float32{-0.09375, 0.59375, 0.59375, -0.09375}, cubicWeights(0.5))
}

// TestNearestWholeMatchesTaps checks that whole-factor nearest upsampling
// (nearestUp) gives the bits of the tap-table passes, forward and
// backward, and that nearestWhole takes exactly the whole factors.
func TestNearestWholeMatchesTaps(t *testing.T) {
	be := kernBackend()
	tests := []struct {
		hin, win, hout, wout int
		whole                bool
	}{
		{8, 8, 16, 16, true},
		{16, 16, 32, 32, true},
		{1, 1, 2, 2, true},
		{3, 5, 9, 10, true},
		{2, 7, 8, 7, true},
		{5, 3, 15, 12, true},
		{4, 4, 6, 8, false},
		{3, 3, 2, 2, false},
	}
	for _, tc := range tests {
		a := tensor.InterpArgs{Mode: tensor.InterpNearest, Planes: 5, Hin: tc.hin, Win: tc.win, Hout: tc.hout, Wout: tc.wout}
		require.Equal(t, tc.whole, nearestWhole(a), "%+v", a)
		for _, mode := range []tensor.InterpMode{tensor.InterpBilinear, tensor.InterpBicubic, tensor.InterpArea} {
			a.Mode = mode
			require.False(t, nearestWhole(a), "%+v", a)
		}
		a.Mode = tensor.InterpNearest
		if !tc.whole {
			continue
		}
		rng := rand.New(rand.NewPCG(uint64(tc.hin), uint64(tc.wout)))
		x := kernRand(rng, a.Planes*a.Hin*a.Win, -1, 1)
		g := kernRand(rng, a.Planes*a.Hout*a.Wout, -1, 1)
		want, got := make([]float32, len(g)), make([]float32, len(g))
		be.interpolateTaps(a, want, x)
		be.nearestUp(a, got, x)
		require.Equal(t, want, got, "forward %+v", a)
		wantDx, gotDx := make([]float32, len(x)), make([]float32, len(x))
		be.interpolateTapsBackward(a, wantDx, g)
		be.nearestUpBackward(a, gotDx, g)
		require.Equal(t, wantDx, gotDx, "backward %+v", a)
	}
}
