package cpu

import (
	"math"
	"math/rand/v2"
	"testing"
)

// kernSoftmaxRef is the float64 (log-)softmax of one row.
func kernSoftmaxRef(x []float64, log bool) []float64 {
	m := math.Inf(-1)
	for _, v := range x {
		m = math.Max(m, v)
	}
	var s float64
	for _, v := range x {
		s += math.Exp(v - m)
	}
	lse := m + math.Log(s)
	y := make([]float64, len(x))
	for i, v := range x {
		if log {
			y[i] = v - lse
		} else {
			y[i] = math.Exp(v - lse)
		}
	}
	return y
}

// kernGrad returns the central-difference gradient of f at x.
func kernGrad(x []float64, f func([]float64) float64) []float64 {
	const h = 1e-6
	g := make([]float64, len(x))
	for i := range x {
		v := x[i]
		x[i] = v + h
		fp := f(x)
		x[i] = v - h
		fm := f(x)
		x[i] = v
		g[i] = (fp - fm) / (2 * h)
	}
	return g
}

func TestSoftmax(t *testing.T) {
	be := kernBackend()
	for _, sh := range [][2]int{{1, 1}, {7, 13}, {3, 31}, {2, 257}} {
		for _, log := range []bool{false, true} {
			rows, n := sh[0], sh[1]
			rng := rand.New(rand.NewPCG(uint64(rows), uint64(n)))
			x := kernRand(rng, rows*n, -8, 8)
			x[0] += 60 // stability with a large logit
			gy := kernRand(rng, rows*n, -1, 1)
			want := make([]float64, 0, rows*n)
			var wantDx []float64
			for r := range rows {
				xr := kernF64(x[r*n : (r+1)*n])
				want = append(want, kernSoftmaxRef(xr, log)...)
				gr := kernF64(gy[r*n : (r+1)*n])
				wantDx = append(wantDx, kernGrad(xr, func(z []float64) float64 {
					var s float64
					for i, v := range kernSoftmaxRef(z, log) {
						s += gr[i] * v
					}
					return s
				})...)
			}
			y := make([]float32, rows*n)
			be.Softmax(kernSpan(y), kernSpan(x), rows, n, log)
			kernClose(t, want, y, 1e-5, 1e-7, "softmax")
			dx := make([]float32, rows*n)
			be.SoftmaxBackward(kernSpan(dx), kernSpan(y), kernSpan(gy), rows, n, log)
			kernClose(t, wantDx, dx, 1e-4, 1e-6, "softmax backward")
		}
	}
}

// kernCERef is the float64 smoothed cross-entropy of one row.
func kernCERef(x []float64, target int, s float64) float64 {
	ls := kernSoftmaxRef(x, true)
	var loss float64
	for i, v := range ls {
		q := s / float64(len(x))
		if i == target {
			q += 1 - s
		}
		loss -= q * v
	}
	return loss
}

func TestCrossEntropy(t *testing.T) {
	be := kernBackend()
	const ignore = -100
	for _, tc := range []struct {
		rows, n   int
		smoothing float32
	}{{1, 1, 0}, {7, 13, 0}, {5, 31, 0.1}, {3, 7, 1}} {
		rng := rand.New(rand.NewPCG(uint64(tc.rows), uint64(tc.n)))
		x := kernRand(rng, tc.rows*tc.n, -5, 5)
		targets := make([]float32, tc.rows)
		for r := range targets {
			targets[r] = float32(rng.IntN(tc.n))
		}
		if tc.rows > 2 {
			targets[1] = ignore
		}
		gl := kernRand(rng, tc.rows, 0.5, 2)
		var wantLoss, wantLse, wantD []float64
		for r := range tc.rows {
			xr := kernF64(x[r*tc.n : (r+1)*tc.n])
			m := math.Inf(-1)
			for _, v := range xr {
				m = math.Max(m, v)
			}
			var s float64
			for _, v := range xr {
				s += math.Exp(v - m)
			}
			wantLse = append(wantLse, m+math.Log(s))
			tg := int(targets[r])
			if tg == ignore {
				wantLoss = append(wantLoss, 0)
				wantD = append(wantD, make([]float64, tc.n)...)
				continue
			}
			wantLoss = append(wantLoss, kernCERef(xr, tg, float64(tc.smoothing)))
			g := float64(gl[r])
			wantD = append(wantD, kernGrad(xr, func(z []float64) float64 { return g * kernCERef(z, tg, float64(tc.smoothing)) })...)
		}
		loss, lse := make([]float32, tc.rows), make([]float32, tc.rows)
		be.CrossEntropy(kernSpan(loss), kernSpan(lse), kernSpan(x), kernSpan(targets), tc.rows, tc.n, ignore, tc.smoothing)
		kernClose(t, wantLoss, loss, 1e-5, 1e-6, "loss")
		kernClose(t, wantLse, lse, 1e-6, 1e-6, "lse")
		d := make([]float32, tc.rows*tc.n)
		be.CrossEntropyBackward(kernSpan(d), kernSpan(x), kernSpan(lse), kernSpan(targets), kernSpan(gl), tc.rows, tc.n, ignore, tc.smoothing)
		kernClose(t, wantD, d, 1e-4, 1e-6, "dlogits")
	}
}
