package eval

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Gaussian is the mean and covariance of a set of feature vectors.
type Gaussian struct {
	Mean []float64
	Cov  *mat.SymDense
	// N is the number of vectors the moments were estimated from.
	N int
}

// Dim is the feature dimension.
func (g Gaussian) Dim() int { return len(g.Mean) }

// FitGaussian estimates the mean and the unbiased covariance (divided by
// n−1) of n vectors of dimension d stored row-major in x.
func FitGaussian(x []float32, n, d int) (Gaussian, error) {
	if n < 2 || d < 1 || len(x) != n*d {
		return Gaussian{}, fmt.Errorf("fit gaussian: %d values for %d vectors of dimension %d (want at least 2 vectors)", len(x), n, d)
	}
	mean := make([]float64, d)
	for i := range n {
		for j, v := range x[i*d : (i+1)*d] {
			mean[j] += float64(v)
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	cov := make([]float64, d*d)
	c := make([]float64, d)
	for i := range n {
		row := x[i*d : (i+1)*d]
		for j, v := range row {
			c[j] = float64(v) - mean[j]
		}
		for a := range d {
			ca := c[a]
			if ca == 0 {
				continue
			}
			out := cov[a*d : (a+1)*d]
			for b := a; b < d; b++ {
				out[b] += ca * c[b]
			}
		}
	}
	for a := range d {
		for b := a; b < d; b++ {
			v := cov[a*d+b] / float64(n-1)
			cov[a*d+b], cov[b*d+a] = v, v
		}
	}
	return Gaussian{Mean: mean, Cov: mat.NewSymDense(d, cov), N: n}, nil
}

// FrechetDistance is the squared Fréchet (2-Wasserstein) distance between
// two Gaussians:
//
//	‖μ₁−μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁^½ Σ₂ Σ₁^½)^½,
//
// the formula of FID. The matrix square roots are taken by symmetric
// eigen-decomposition in float64, with eigenvalues below zero (round-off
// of a positive semi-definite matrix) clipped to zero.
func FrechetDistance(a, b Gaussian) (float64, error) {
	d := a.Dim()
	if d == 0 || d != b.Dim() || a.Cov == nil || b.Cov == nil {
		return 0, fmt.Errorf("frechet distance: dimensions %d and %d", a.Dim(), b.Dim())
	}
	var mu float64
	for i := range d {
		diff := a.Mean[i] - b.Mean[i]
		mu += diff * diff
	}
	sa, err := sqrtSym(a.Cov)
	if err != nil {
		return 0, fmt.Errorf("frechet distance: first covariance: %w", err)
	}
	var m, t mat.Dense
	t.Mul(sa, b.Cov)
	m.Mul(&t, sa)
	sym := mat.NewSymDense(d, nil)
	for i := range d {
		for j := i; j < d; j++ {
			sym.SetSym(i, j, (m.At(i, j)+m.At(j, i))/2)
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(sym, false) {
		return 0, errors.New("frechet distance: eigen-decomposition did not converge")
	}
	var trSqrt float64
	for _, v := range eig.Values(nil) {
		if v > 0 {
			trSqrt += math.Sqrt(v)
		}
	}
	fd := mu + mat.Trace(a.Cov) + mat.Trace(b.Cov) - 2*trSqrt
	if fd < 0 && fd > -1e-9*(1+mat.Trace(a.Cov)+mat.Trace(b.Cov)) {
		fd = 0
	}
	return fd, nil
}

// sqrtSym is the symmetric positive semi-definite square root of s.
func sqrtSym(s *mat.SymDense) (*mat.Dense, error) {
	var eig mat.EigenSym
	if !eig.Factorize(s, true) {
		return nil, errors.New("eigen-decomposition did not converge")
	}
	vals := eig.Values(nil)
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	d := len(vals)
	scaled := mat.NewDense(d, d, nil)
	for j, v := range vals {
		r := math.Sqrt(math.Max(v, 0))
		for i := range d {
			scaled.Set(i, j, vecs.At(i, j)*r)
		}
	}
	out := mat.NewDense(d, d, nil)
	out.Mul(scaled, vecs.T())
	return out, nil
}
