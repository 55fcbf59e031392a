package cpu

import (
	"math"
	"testing"
)

// ulps is the distance between a and b in units in the last place of b.
func ulps(a, b float32) float64 {
	if a == b {
		return 0
	}
	_, e := math.Frexp(float64(b))
	return math.Abs(float64(a)-float64(b)) / math.Ldexp(1, e-24)
}

func TestExp32(t *testing.T) {
	worst, at := 0.0, float32(0)
	for x := float32(-104); x < 89; x += 1.0 / 4096 {
		for _, y := range []float32{x, math.Nextafter32(x, 0)} {
			got, want := exp32(y), float32(math.Exp(float64(y)))
			if want == 0 || math.IsInf(float64(want), 0) {
				if got != want {
					t.Fatalf("exp32(%g) = %g, want %g", y, got, want)
				}
				continue
			}
			if u := ulps(got, want); u > worst {
				worst, at = u, y
			}
		}
	}
	if worst > 2 {
		t.Fatalf("exp32 is %.2f ulp off at %g", worst, at)
	}
	for _, c := range []struct{ x, want float32 }{
		{0, 1}, {float32(math.Inf(-1)), 0}, {float32(math.Inf(1)), float32(math.Inf(1))}, {-200, 0},
	} {
		if got := exp32(c.x); got != c.want {
			t.Fatalf("exp32(%g) = %g, want %g", c.x, got, c.want)
		}
	}
	if got := exp32(float32(math.NaN())); got == got {
		t.Fatalf("exp32(NaN) = %g", got)
	}
}
