package eval

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"
)

func TestFrechetDistanceOfSetWithItselfIsZero(t *testing.T) {
	for _, d := range []int{1, 4, 32} {
		x := gaussianSamples(500, make([]float64, d), onesF(d), uint64(d))
		g, err := FitGaussian(x, 500, d)
		require.NoError(t, err)
		fd, err := FrechetDistance(g, g)
		require.NoError(t, err)
		assert.InDelta(t, 0, fd, 1e-8*float64(d), "d=%d", d)
	}
}

func onesF(d int) []float64 {
	o := make([]float64, d)
	for i := range o {
		o[i] = 1
	}
	return o
}

// diag makes a Gaussian with the given mean and diagonal variances.
func diag(mean, variances []float64) Gaussian {
	d := len(mean)
	c := mat.NewSymDense(d, nil)
	for i, v := range variances {
		c.SetSym(i, i, v)
	}
	return Gaussian{Mean: mean, Cov: c, N: 2}
}

func TestFrechetDistanceClosedForm(t *testing.T) {
	// Rotation by 30° of diag(4, 1), for a non-diagonal covariance.
	th := math.Pi / 6
	r := mat.NewDense(2, 2, []float64{math.Cos(th), -math.Sin(th), math.Sin(th), math.Cos(th)})
	var rot mat.Dense
	rot.Mul(r, mat.NewDense(2, 2, []float64{4, 0, 0, 1}))
	rot.Mul(&rot, r.T())
	rotSym := mat.NewSymDense(2, []float64{rot.At(0, 0), rot.At(0, 1), rot.At(1, 0), rot.At(1, 1)})
	tests := []struct {
		name string
		a, b Gaussian
		want float64
	}{
		// Diagonal covariances: ‖μ₁−μ₂‖² + Σ(σ₁ᵢ − σ₂ᵢ)².
		{"shifted means", diag([]float64{0, 0}, []float64{1, 1}), diag([]float64{3, 4}, []float64{1, 1}), 25},
		{"scaled variances", diag([]float64{0, 0, 0}, []float64{1, 4, 9}), diag([]float64{0, 0, 0}, []float64{4, 4, 1}), 1 + 0 + 4},
		{"both", diag([]float64{1}, []float64{1}), diag([]float64{-1}, []float64{9}), 4 + 4},
		// Isotropic against any covariance S: tr S + d·σ² − 2σ·tr S^½.
		{"isotropic vs rotated", diag([]float64{0, 0}, []float64{1, 1}), Gaussian{Mean: []float64{0, 0}, Cov: rotSym, N: 2}, 5 + 2 - 2*(2+1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := FrechetDistance(tc.a, tc.b)
			require.NoError(t, err)
			assert.InDelta(t, tc.want, got, 1e-9)
			back, err := FrechetDistance(tc.b, tc.a)
			require.NoError(t, err)
			assert.InDelta(t, tc.want, back, 1e-9, "symmetry")
		})
	}
}

func TestFrechetDistanceOfSampledGaussians(t *testing.T) {
	const n, d = 20000, 4
	ma, sa := []float64{0, 1, 0, 0}, []float64{1, 1, 2, 1}
	mb, sb := []float64{1, 1, 0, -1}, []float64{1, 3, 2, 0.5}
	ga, err := FitGaussian(gaussianSamples(n, ma, sa, 1), n, d)
	require.NoError(t, err)
	gb, err := FitGaussian(gaussianSamples(n, mb, sb, 2), n, d)
	require.NoError(t, err)
	want := 0.0
	for j := range d {
		want += (ma[j]-mb[j])*(ma[j]-mb[j]) + (sa[j]-sb[j])*(sa[j]-sb[j])
	}
	got, err := FrechetDistance(ga, gb)
	require.NoError(t, err)
	assert.InDelta(t, want, got, 0.1*want)
}

func TestFitGaussianMoments(t *testing.T) {
	x := []float32{1, 2, 3, 4, 5, 6} // three vectors of dimension 2
	g, err := FitGaussian(x, 3, 2)
	require.NoError(t, err)
	assert.Equal(t, []float64{3, 4}, g.Mean)
	assert.InDelta(t, 4, g.Cov.At(0, 0), 1e-12)
	assert.InDelta(t, 4, g.Cov.At(0, 1), 1e-12)
}

func TestGaussianErrors(t *testing.T) {
	_, err := FitGaussian([]float32{1, 2}, 1, 2)
	assert.ErrorContains(t, err, "at least 2")
	_, err = FrechetDistance(diag([]float64{0}, []float64{1}), diag([]float64{0, 0}, []float64{1, 1}))
	assert.ErrorContains(t, err, "dimensions 1 and 2")
}
