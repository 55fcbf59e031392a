package check

import (
	"math"
	"slices"

	"sargo/tensor"
)

// near fails the case unless got matches want (same shape, the same
// non-finite values where want has them, finite values elsewhere) with a
// normalised MSE of at most tol.
func (c *ctx) near(name string, got, want *tensor.Tensor, tol float64) {
	c.t.Helper()
	c.nearMasked(name, got, want, nil, tol)
}

// nearMasked is near over the elements where keep is true (all when keep is nil).
func (c *ctx) nearMasked(name string, got, want *tensor.Tensor, keep []bool, tol float64) {
	c.t.Helper()
	if !slices.Equal(got.Shape(), want.Shape()) {
		c.t.Errorf("%s: shape %v, want %v", name, got.Shape(), want.Shape())
		return
	}
	c.nearValues(name, c.read(got), c.read64(want), keep, tol)
}

// near64 compares a device output with a float64 host reference.
func (c *ctx) near64(name string, got *tensor.Tensor, want []float64, tol float64) {
	c.t.Helper()
	if got.Size() != len(want) {
		c.t.Errorf("%s: %d elements, want %d", name, got.Size(), len(want))
		return
	}
	c.nearValues(name, c.read(got), want, nil, tol)
}

// nearValues holds the comparison shared by near, nearMasked and near64.
func (c *ctx) nearValues(name string, got []float32, want []float64, keep []bool, tol float64) {
	c.t.Helper()
	var num, den, worst float64
	at := -1
	for i, w := range want {
		if keep != nil && !keep[i] {
			continue
		}
		g := float64(got[i])
		switch {
		case math.IsNaN(w):
			if !math.IsNaN(g) {
				c.t.Errorf("%s: element %d is %v, want NaN", name, i, g)
				return
			}
			continue
		case math.IsInf(w, 0):
			if g != w {
				c.t.Errorf("%s: element %d is %v, want %v", name, i, g, w)
				return
			}
			continue
		case math.IsNaN(g) || math.IsInf(g, 0):
			c.t.Errorf("%s: element %d is %v, want %v (output not written, or overflow)", name, i, g, w)
			return
		}
		d := g - w
		num += d * d
		den += w * w
		if math.Abs(d) > worst || at < 0 {
			worst, at = math.Abs(d), i
		}
	}
	if at < 0 {
		return
	}
	err := num
	if den > 0 {
		err = num / den
	}
	if err > tol {
		c.t.Errorf("%s: normalised MSE %.3g > %.3g; worst element %d: got %v, want %v",
			name, err, tol, at, got[at], want[at])
	}
}

// equal fails the case unless got and want are bit-for-bit the same values.
func (c *ctx) equal(name string, got, want *tensor.Tensor) {
	c.t.Helper()
	if !slices.Equal(got.Shape(), want.Shape()) {
		c.t.Errorf("%s: shape %v, want %v", name, got.Shape(), want.Shape())
		return
	}
	g, w := c.read(got), c.read(want)
	for i := range w {
		if g[i] != w[i] && !(g[i] != g[i] && w[i] != w[i]) {
			c.t.Errorf("%s: element %d is %v, want exactly %v", name, i, g[i], w[i])
			return
		}
	}
}

// maxAbsDiff fails the case unless every element of got is within tol of want.
func (c *ctx) maxAbsDiff(name string, got, want *tensor.Tensor, tol float64) {
	c.t.Helper()
	if !slices.Equal(got.Shape(), want.Shape()) {
		c.t.Errorf("%s: shape %v, want %v", name, got.Shape(), want.Shape())
		return
	}
	g, w := c.read(got), c.read(want)
	for i := range w {
		if d := math.Abs(float64(g[i]) - float64(w[i])); !(d <= tol) {
			c.t.Errorf("%s: element %d is %v, want %v (|diff| %.3g > %.3g)", name, i, g[i], w[i], d, tol)
			return
		}
	}
}

// relClose reports whether a and b agree to rel relative to scale.
func relClose(a, b, scale, rel float64) bool {
	return math.Abs(a-b) <= rel*math.Max(scale, 1e-30)
}

// dot is the float64 inner product of two equal-length slices.
func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// norm2 is the float64 Euclidean norm.
func norm2(a []float64) float64 { return math.Sqrt(dot(a, a)) }
