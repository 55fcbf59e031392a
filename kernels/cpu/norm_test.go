package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"sargo/tensor"
)

// kernNormRef is the float64 layer/group norm of x with parameters p
// (weight then bias, each optional) laid out as shapeOf(a) describes.
func kernNormRef(a tensor.NormArgs, x, w, b []float64) (y, mean, rstd []float64) {
	s := shapeOf(a)
	n := s.rowLen
	y = make([]float64, len(x))
	for r := range s.rows {
		var mu float64
		for _, v := range x[r*n : (r+1)*n] {
			mu += v
		}
		mu /= float64(n)
		var vr float64
		for _, v := range x[r*n : (r+1)*n] {
			vr += (v - mu) * (v - mu)
		}
		rs := 1 / math.Sqrt(vr/float64(n)+float64(a.Eps))
		mean, rstd = append(mean, mu), append(rstd, rs)
		for i := range n {
			h := (x[r*n+i] - mu) * rs
			c := (r%s.groups)*s.chans + i/s.hw
			if w != nil {
				h *= w[c]
			}
			if b != nil {
				h += b[c]
			}
			y[r*n+i] = h
		}
	}
	return y, mean, rstd
}

func TestNorm(t *testing.T) {
	be := kernBackend()
	tests := []struct {
		name string
		a    tensor.NormArgs
	}{
		{"layer 1x1", tensor.NormArgs{Rows: 1, N: 1, Eps: 1e-5}},
		{"layer 7x13", tensor.NormArgs{Rows: 7, N: 13, Eps: 1e-5, HasWeight: true, HasBias: true}},
		{"layer 3x131 weight", tensor.NormArgs{Rows: 3, N: 131, Eps: 1e-6, HasWeight: true}},
		{"group 2x6x7 g3", tensor.NormArgs{Batch: 2, C: 6, HW: 7, Groups: 3, Eps: 1e-5, HasWeight: true, HasBias: true}},
		{"group 3x4x5 g1 bias", tensor.NormArgs{Batch: 3, C: 4, HW: 5, Groups: 1, Eps: 1e-5, HasBias: true}},
		{"group 1x5x1 g5", tensor.NormArgs{Batch: 1, C: 5, HW: 1, Groups: 5, Eps: 1e-3, HasWeight: true, HasBias: true}},
		{"group 2x9x5 g3 odd channels", tensor.NormArgs{Batch: 2, C: 9, HW: 5, Groups: 3, Eps: 1e-5, HasWeight: true, HasBias: true}},
		{"group 2x6x9 g6 one channel each", tensor.NormArgs{Batch: 2, C: 6, HW: 9, Groups: 6, Eps: 1e-5, HasWeight: true, HasBias: true}},
		{"group 2x7x2 g1 weight", tensor.NormArgs{Batch: 2, C: 7, HW: 2, Groups: 1, Eps: 1e-5, HasWeight: true}},
		{"group 3x6x1 g2", tensor.NormArgs{Batch: 3, C: 6, HW: 1, Groups: 2, Eps: 1e-5, HasWeight: true, HasBias: true}},
		{"group 2x4x3 g2 plain", tensor.NormArgs{Batch: 2, C: 4, HW: 3, Groups: 2, Eps: 1e-5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.a
			s := shapeOf(a)
			total := s.rows * s.rowLen
			rng := rand.New(rand.NewPCG(uint64(total), 1))
			x := kernRand(rng, total, -2, 3)
			gy := kernRand(rng, total, -1, 1)
			var w, b []float32
			var w64, b64 []float64
			if a.HasWeight {
				w = kernRand(rng, s.params, 0.5, 1.5)
				w64 = kernF64(w)
			}
			if a.HasBias {
				b = kernRand(rng, s.params, -1, 1)
				b64 = kernF64(b)
			}
			x64 := kernF64(x)
			wantY, wantMean, wantRstd := kernNormRef(a, x64, w64, b64)
			y, mean, rstd := make([]float32, total), make([]float32, s.rows), make([]float32, s.rows)
			opt := func(v []float32) tensor.Span {
				if v == nil {
					return tensor.Span{}
				}
				return kernSpan(v)
			}
			be.Norm(a, kernSpan(y), kernSpan(mean), kernSpan(rstd), kernSpan(x), opt(w), opt(b))
			kernClose(t, wantY, y, 1e-5, 1e-5, "y")
			kernClose(t, wantMean, mean, 1e-6, 1e-6, "mean")
			kernClose(t, wantRstd, rstd, 1e-5, 0, "rstd")

			loss := func(x, w, b []float64) float64 {
				y, _, _ := kernNormRef(a, x, w, b)
				var l float64
				for i, v := range y {
					l += float64(gy[i]) * v
				}
				return l
			}
			wantDx := kernGrad(x64, func(z []float64) float64 { return loss(z, w64, b64) })
			// dw and db start non-zero to check they accumulate.
			var dw, db []float32
			var wantDw, wantDb []float64
			if a.HasWeight {
				dw = kernRand(rng, s.params, -1, 1)
				wantDw = kernGrad(w64, func(z []float64) float64 { return loss(x64, z, b64) })
				for i := range wantDw {
					wantDw[i] += float64(dw[i])
				}
			}
			if a.HasBias {
				db = kernRand(rng, s.params, -1, 1)
				bb := b64
				wantDb = kernGrad(bb, func(z []float64) float64 { return loss(x64, w64, z) })
				for i := range wantDb {
					wantDb[i] += float64(db[i])
				}
			}
			dx := make([]float32, total)
			be.NormBackward(a, kernSpan(dx), opt(dw), opt(db), kernSpan(x), kernSpan(mean), kernSpan(rstd), opt(w), kernSpan(gy))
			kernClose(t, wantDx, dx, 1e-3, 1e-4, "dx")
			if a.HasWeight {
				kernClose(t, wantDw, dw, 1e-4, 1e-5, "dw")
			}
			if a.HasBias {
				kernClose(t, wantDb, db, 1e-4, 1e-5, "db")
			}
		})
	}
}

// TestGroupNormMatchesRowNorm checks groupNorm and groupNormBackward against
// the row-by-row kernels (rowNorm) and the float64 reference on the
// tokenizer's kinds of shapes, with inputs far from zero (mean 100,
// spread 1) so that the one-pass statistics would show cancellation, and
// checks that the worker count does not change a bit.
func TestGroupNormMatchesRowNorm(t *testing.T) {
	tests := []struct {
		name string
		a    tensor.NormArgs
	}{
		{"4x64x64 g32", tensor.NormArgs{Batch: 4, C: 64, HW: 64, Groups: 32, Eps: 1e-6, HasWeight: true, HasBias: true}},
		{"2x16x256 g16", tensor.NormArgs{Batch: 2, C: 16, HW: 256, Groups: 16, Eps: 1e-6, HasWeight: true, HasBias: true}},
		{"3x12x7 g4", tensor.NormArgs{Batch: 3, C: 12, HW: 7, Groups: 4, Eps: 1e-6, HasWeight: true}},
		{"2x5x3 g1 plain", tensor.NormArgs{Batch: 2, C: 5, HW: 3, Groups: 1, Eps: 1e-6}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.a
			s := shapeOf(a)
			total := s.rows * s.rowLen
			rng := rand.New(rand.NewPCG(uint64(total), 7))
			x := kernRand(rng, total, 99.5, 100.5)
			gy := kernRand(rng, total, -1, 1)
			var w, bias []float32
			if a.HasWeight {
				w = kernRand(rng, s.params, 0.5, 1.5)
			}
			if a.HasBias {
				bias = kernRand(rng, s.params, -1, 1)
			}
			var w64, b64 []float64
			if w != nil {
				w64 = kernF64(w)
			}
			if bias != nil {
				b64 = kernF64(bias)
			}
			wantY, wantMean, wantRstd := kernNormRef(a, kernF64(x), w64, b64)

			type result struct{ y, mean, rstd, dx, dw, db []float32 }
			run := func(be *Backend, rows bool) result {
				r := result{y: make([]float32, total), mean: make([]float32, s.rows), rstd: make([]float32, s.rows),
					dx: make([]float32, total), dw: make([]float32, s.params), db: make([]float32, s.params)}
				if rows {
					be.rowNorm(s, a.Eps, r.y, r.mean, r.rstd, x, w, bias)
					be.rowNormBackward(s, r.dx, r.dw, r.db, x, r.mean, r.rstd, w, gy)
				} else {
					be.groupNorm(s, a.Eps, r.y, r.mean, r.rstd, x, w, bias)
					be.groupNormBackward(s, r.dx, r.dw, r.db, x, r.mean, r.rstd, w, gy)
				}
				return r
			}
			got := run(&Backend{workers: 3}, false)
			kernClose(t, wantY, got.y, 1e-5, 1e-5, "y")
			kernClose(t, wantMean, got.mean, 1e-7, 0, "mean")
			kernClose(t, wantRstd, got.rstd, 1e-6, 0, "rstd")
			ref := run(&Backend{workers: 3}, true)
			kernClose(t, kernF64(ref.dx), got.dx, 1e-4, 1e-6, "dx against rowNormBackward")
			kernClose(t, kernF64(ref.dw), got.dw, 1e-4, 1e-6, "dw against rowNormBackward")
			kernClose(t, kernF64(ref.db), got.db, 1e-5, 1e-6, "db against rowNormBackward")
			one := run(&Backend{workers: 1}, false)
			require.Equal(t, one, got, "one worker against three")
		})
	}
}
