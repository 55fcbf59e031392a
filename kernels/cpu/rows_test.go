package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Tests of the row primitives of rows.go: the vector kernels (where the
// processor has them) and the scalar fallbacks against a float64
// reference and against each other, on every tail length and on extreme
// values.

// rowLengths are the row lengths under test: empty, a lone tail, around
// one and two registers, the unrolled blocks of two and four registers,
// and a long row.
var rowLengths = []int{0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 1000}

// rowExpTolULP bounds the error of each exponential in float32 ulp of the
// exact e^t of the rounded float32 argument t (exp32 is within 2 ulp; the
// vector form of the same reduction and polynomial measures about 1).
// Subnormal results are within one subnormal spacing.
const rowExpTolULP = 2

// rowSpecials are extreme inputs: infinities, NaN, signed zeros,
// subnormals, the largest finite values and the edges of the float32
// exponential (overflow past 88.72, subnormal below −87.34, zero below
// −103.97).
func rowSpecials() []float32 {
	inf := float32(math.Inf(1))
	return []float32{0, float32(math.Copysign(0, -1)), inf, -inf, float32(math.NaN()),
		1e-45, -1e-45, 1e-40, -1e-40, math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32,
		88.72, 88.73, 89, 100, -87.33, -87.34, -90, -100, -103.9, -103.98, -104, -104.1, -150, -1e30,
		0.5, -0.5, 1, -1, 2, -2, 10, -10, 1e-8, -1e-8}
}

// rowExpCase is one input distribution of the exponential tests.
type rowExpCase struct {
	name  string
	shift float32
	gen   func(rng *rand.Rand, n int) []float32
}

// rowExpCases are the distributions: softmax-like rows shifted by their
// maximum, a wide range covering underflow, subnormal results and
// overflow, logits near 1000 shifted by 1000 (exact differences), a
// positive shift larger than every value, and the extreme values cycled
// to fill the row.
func rowExpCases() []rowExpCase {
	return []rowExpCase{
		{"softmax", 0, func(rng *rand.Rand, n int) []float32 { return kernRand(rng, n, -30, 0) }},
		{"wide", 0, func(rng *rand.Rand, n int) []float32 { return kernRand(rng, n, -115, 95) }},
		{"shift1000", 1000, func(rng *rand.Rand, n int) []float32 { return kernRand(rng, n, 980, 1000) }},
		{"shift-lse", 7.25, func(rng *rand.Rand, n int) []float32 { return kernRand(rng, n, -8, 7) }},
		{"extremes", 0, func(rng *rand.Rand, n int) []float32 {
			sp := rowSpecials()
			x := make([]float32, n)
			for i := range x {
				x[i] = sp[(i+rng.IntN(3))%len(sp)]
			}
			return x
		}},
	}
}

// expRef is e^(x − shift) in float64 of the float32 difference, the value
// the row exponentials approximate.
func expRef(x, shift float32) float64 { return math.Exp(float64(x - shift)) }

// checkExp checks one exponential against its float64 reference.
func checkExp(t *testing.T, x, shift, got float32) bool {
	t.Helper()
	want := expRef(x, shift)
	g := float64(got)
	switch {
	case math.IsNaN(want):
		return assert.Truef(t, math.IsNaN(g), "e^(%g − %g) = %g, want NaN", x, shift, got)
	case math.IsInf(g, 1):
		// Overflow is right once the result is within the tolerance of
		// the rounding threshold MaxFloat32·(1 + 2⁻²⁵).
		return assert.GreaterOrEqualf(t, want, math.MaxFloat32*(1-rowExpTolULP*0x1p-24), "e^(%g − %g) = +Inf, want %g", x, shift, want)
	case want >= math.MaxFloat32*(1+rowExpTolULP*0x1p-24):
		return assert.Truef(t, math.IsInf(g, 1), "e^(%g − %g) = %g, want +Inf", x, shift, got)
	case float32(want) == 0:
		return assert.Zerof(t, g, "e^(%g − %g) = %g, want 0", x, shift, got)
	}
	tol := rowExpTolULP * 0x1p-24 * want
	if want < 0x1p-126 {
		tol = 0x1p-149
	}
	return assert.LessOrEqualf(t, math.Abs(g-want), tol, "e^(%g − %g) = %g, want %g", x, shift, got, want)
}

// runExpShift runs expShiftRow's vector kernel (vector set, reporting
// false when there is none) or its scalar fallback into a slice guarded by
// sentinels, which it checks.
func runExpShift(t *testing.T, vector bool, x []float32, shift float32) ([]float32, float64, bool) {
	t.Helper()
	const pad = 16
	buf := make([]float32, len(x)+2*pad)
	for i := range buf {
		buf[i] = 12345
	}
	d := buf[pad : pad+len(x) : pad+len(x)]
	var s float64
	if vector {
		var ok bool
		if s, ok = expShiftVector(d, x, shift); !ok {
			return nil, 0, false
		}
	} else {
		s = expShiftScalar(d, x, shift)
	}
	for i := range pad {
		require.Equal(t, float32(12345), buf[i], "written before the slice")
		require.Equal(t, float32(12345), buf[pad+len(x)+i], "written after the slice")
	}
	return d, s, true
}

// TestExpShiftRow checks every exponential and the sum of expShiftRow's
// vector kernel and scalar fallback against float64 on every distribution
// and length, that expSumRow returns the same sum, that nothing outside d
// is written, and that the two implementations agree.
func TestExpShiftRow(t *testing.T) {
	for _, tc := range rowExpCases() {
		for _, n := range rowLengths {
			t.Run(fmt.Sprintf("%s/n=%d", tc.name, n), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(n), 11))
				x := tc.gen(rng, n)
				sc, ssum, _ := runExpShift(t, false, x, tc.shift)
				vec, vsum, ok := runExpShift(t, true, x, tc.shift)
				impls := []struct {
					name string
					d    []float32
					sum  float64
				}{{"scalar", sc, ssum}}
				if ok {
					impls = append(impls, struct {
						name string
						d    []float32
						sum  float64
					}{"vector", vec, vsum})
				}
				for _, im := range impls {
					var own, ref float64
					for i, v := range x {
						if !checkExp(t, v, tc.shift, im.d[i]) {
							return
						}
						own += float64(im.d[i])
						ref += expRef(v, tc.shift)
					}
					// The sum is the float64 sum of the stored terms, in
					// some order; against the exact terms it is within
					// their accuracy.
					switch {
					case math.IsNaN(ref):
						assert.Truef(t, math.IsNaN(im.sum), "%s: sum %g, want NaN", im.name, im.sum)
					case math.IsInf(ref, 1) || math.IsInf(own, 1):
						assert.Truef(t, math.IsInf(im.sum, 1), "%s: sum %g, want +Inf", im.name, im.sum)
					default:
						assert.InDeltaf(t, own, im.sum, 1e-13*own, "%s: sum of the terms", im.name)
						assert.InDeltaf(t, ref, im.sum, rowExpTolULP*0x1p-24*ref+float64(n)*0x1p-149, "%s: sum vs float64", im.name)
					}
					// expSumRow's sum is the same bits.
					var es float64
					if im.name == "vector" {
						es, _ = expSumVector(x, tc.shift)
					} else {
						es = expSumScalar(x, tc.shift)
					}
					assert.Equalf(t, math.Float64bits(im.sum), math.Float64bits(es), "%s: expSum %g, expShift %g", im.name, es, im.sum)
				}
				if !ok {
					t.Log("no vector kernels on this machine")
					return
				}
				for i := range x {
					if math.IsNaN(float64(sc[i])) {
						require.Truef(t, math.IsNaN(float64(vec[i])), "x=%g: vector %g, scalar NaN", x[i], vec[i])
						continue
					}
					require.InDeltaf(t, sc[i], vec[i], 2*rowExpTolULP*0x1p-24*float64(sc[i])+0x1p-148, "x=%g: vector %g, scalar %g", x[i], vec[i], sc[i])
				}
			})
		}
	}
}

// TestExpShiftRowAccuracy measures the worst error of the vector and
// scalar exponentials over a dense grid of arguments in [−104, 89].
func TestExpShiftRowAccuracy(t *testing.T) {
	var x []float32
	for v := float32(-104); v < 89; v += 1.0 / 1024 {
		x = append(x, v, math.Nextafter32(v, 0))
	}
	for _, vector := range []bool{false, true} {
		d, _, ok := runExpShift(t, vector, x, 0)
		if !ok {
			t.Log("no vector kernels on this machine")
			continue
		}
		worst := 0.0
		for i, v := range x {
			require.True(t, checkExp(t, v, 0, d[i]))
			if want := expRef(v, 0); want >= 0x1p-126 && want <= math.MaxFloat32 {
				worst = max(worst, math.Abs(float64(d[i])-want)/(0x1p-24*want))
			}
		}
		t.Logf("vector=%v: worst error %.2f·2⁻²⁴ relative over %d values", vector, worst, len(x))
	}
}

// TestExpShiftRowDeterministic checks that the sum depends only on the
// row: the same values at every alignment give the same bits, and the
// kernel writes d in place (d = x) with the same results.
func TestExpShiftRowDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 13))
	for _, n := range rowLengths {
		x := kernRand(rng, n, -20, 3)
		want := make([]float32, n)
		wsum := expShiftRow(want, x, 3)
		for off := range 5 {
			buf := make([]float32, n+off)
			copy(buf[off:], x)
			row := buf[off:]
			require.Equalf(t, math.Float64bits(wsum), math.Float64bits(expSumRow(row, 3)), "n=%d offset %d", n, off)
			s := expShiftRow(row, row, 3)
			require.Equalf(t, math.Float64bits(wsum), math.Float64bits(s), "n=%d offset %d", n, off)
			require.Equalf(t, want, row, "n=%d offset %d", n, off)
		}
	}
}

// rowMaxRef is the maximum by math.Max: NaN if any element is NaN, −Inf
// for an empty row.
func rowMaxRef(row []float32) float64 {
	m := math.Inf(-1)
	for _, v := range row {
		m = math.Max(m, float64(v))
	}
	return m
}

// TestRowMax checks the vector and scalar row maximum against math.Max on
// random rows, -Inf and zero rows, and NaN at the first, last and middle
// positions (in the unrolled blocks, the single-register loop or the
// tail, depending on the length).
func TestRowMax(t *testing.T) {
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	cases := []struct {
		name string
		gen  func(rng *rand.Rand, n int) []float32
	}{
		{"random", func(rng *rand.Rand, n int) []float32 { return kernRand(rng, n, -1e3, 1e3) }},
		{"negative", func(rng *rand.Rand, n int) []float32 { return kernRand(rng, n, -1e30, -1e20) }},
		{"all -Inf", func(_ *rand.Rand, n int) []float32 { return rowFill(n, -inf) }},
		{"masked", func(rng *rand.Rand, n int) []float32 {
			x := kernRand(rng, n, -5, 5)
			for i := range x {
				if i%3 != 0 {
					x[i] = -inf
				}
			}
			return x
		}},
		{"+Inf last", func(rng *rand.Rand, n int) []float32 { return rowSet(kernRand(rng, n, -5, 5), n-1, inf) }},
		{"zeros", func(_ *rand.Rand, n int) []float32 {
			x := rowFill(n, float32(math.Copysign(0, -1)))
			return rowSet(x, n/2, 0)
		}},
		{"subnormal", func(_ *rand.Rand, n int) []float32 { return rowSet(rowFill(n, -1e-45), n/3, 1e-45) }},
		{"NaN first", func(rng *rand.Rand, n int) []float32 { return rowSet(kernRand(rng, n, -5, 5), 0, nan) }},
		{"NaN last", func(rng *rand.Rand, n int) []float32 { return rowSet(kernRand(rng, n, -5, 5), n-1, nan) }},
		{"NaN middle", func(rng *rand.Rand, n int) []float32 { return rowSet(kernRand(rng, n, -5, 5), n/2, nan) }},
		{"NaN then max", func(rng *rand.Rand, n int) []float32 {
			x := rowSet(kernRand(rng, n, -5, 5), 0, nan)
			return rowSet(x, n-1, 100)
		}},
		{"negative NaN", func(rng *rand.Rand, n int) []float32 {
			return rowSet(kernRand(rng, n, -5, 5), n/2, math.Float32frombits(0xffc00001))
		}},
	}
	for _, tc := range cases {
		for _, n := range rowLengths {
			t.Run(fmt.Sprintf("%s/n=%d", tc.name, n), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(n), 14))
				x := tc.gen(rng, n)
				want := rowMaxRef(x)
				got := map[string]float32{"scalar": rowMaxScalar(x)}
				if v, ok := rowMaxVector(x); ok {
					got["vector"] = v
				}
				for name, g := range got {
					if math.IsNaN(want) {
						assert.Truef(t, math.IsNaN(float64(g)), "%s: got %g, want NaN", name, g)
						continue
					}
					// == rather than Equal: the sign of a zero maximum is
					// unspecified.
					assert.Truef(t, float64(g) == want, "%s: got %g, want %g", name, g, want)
				}
			})
		}
	}
}

// rowFill returns n copies of v.
func rowFill(n int, v float32) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = v
	}
	return x
}

// rowSet sets x[i] = v when i is an index of x and returns x.
func rowSet(x []float32, i int, v float32) []float32 {
	if i >= 0 && i < len(x) {
		x[i] = v
	}
	return x
}

// TestScaleShiftRow checks that the scalar scale-and-shift rounds as
// float32 arithmetic does and that the vector kernel, also in place, gives
// the same bits.
func TestScaleShiftRow(t *testing.T) {
	cases := []struct {
		name     string
		a, shift float32
		gen      func(rng *rand.Rand, n int) []float32
	}{
		{"scale", 0.37, 0, func(rng *rand.Rand, n int) []float32 { return kernRand(rng, n, 0, 1) }},
		{"shift", -1.5, 0.01, func(rng *rand.Rand, n int) []float32 { return kernRand(rng, n, 0, 1) }},
		{"extremes", 3, 1e-3, func(rng *rand.Rand, n int) []float32 {
			sp := rowSpecials()
			x := make([]float32, n)
			for i := range x {
				x[i] = sp[(i+rng.IntN(3))%len(sp)]
			}
			return x
		}},
		{"overflow", 1e30, -1e20, func(rng *rand.Rand, n int) []float32 { return kernRand(rng, n, -1e10, 1e10) }},
	}
	for _, tc := range cases {
		for _, n := range rowLengths {
			t.Run(fmt.Sprintf("%s/n=%d", tc.name, n), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(n), 15))
				x := tc.gen(rng, n)
				sc := make([]float32, n)
				scaleShiftScalar(sc, x, tc.a, tc.shift)
				for i, v := range x {
					// Both roundings of float32 arithmetic, done in float64
					// (exact for the product of two float32 values).
					want := float32(float64(tc.a) * float64(v-tc.shift))
					rowSameBits(t, want, sc[i], "scalar x=%g", v)
				}
				vec := make([]float32, n)
				if !scaleShiftVector(vec, x, tc.a, tc.shift) {
					t.Skip("no vector kernels on this machine")
				}
				for i, v := range x {
					rowSameBits(t, sc[i], vec[i], "vector x=%g", v)
				}
				// In place.
				in := append([]float32(nil), x...)
				scaleShiftRow(in, in, tc.a, tc.shift)
				for i := range in {
					rowSameBits(t, sc[i], in[i], "in place x=%g", x[i])
				}
			})
		}
	}
}

// rowSameBits fails unless got has the bits of want, or both are NaN.
func rowSameBits(t *testing.T, want, got float32, format string, args ...any) {
	t.Helper()
	if want != want && got != got {
		return
	}
	require.Equalf(t, math.Float32bits(want), math.Float32bits(got), format+": got %g, want %g", append(args, got, want)...)
}

// BenchmarkRowExp compares the scalar and vector row primitives per value
// on rows of 1000 and 4096 values (in L1/L2), with the float64 math.Exp
// loop the softmax and cross-entropy kernels used before as a baseline.
func BenchmarkRowExp(b *testing.B) {
	for _, n := range []int{1000, 4096} {
		rng := rand.New(rand.NewPCG(16, uint64(n)))
		x := kernRand(rng, n, -12, 4)
		d := make([]float32, n)
		m := rowMaxScalar(x)
		benches := []struct {
			name string
			run  func() bool
		}{
			{"expshift/mathexp", func() bool {
				var s float64
				for i, v := range x {
					e := math.Exp(float64(v) - float64(m))
					d[i] = float32(e)
					s += e
				}
				return s > 0
			}},
			{"expshift/scalar", func() bool { expShiftScalar(d, x, m); return true }},
			{"expshift/vector", func() bool { _, ok := expShiftVector(d, x, m); return ok }},
			{"expsum/scalar", func() bool { expSumScalar(x, m); return true }},
			{"expsum/vector", func() bool { _, ok := expSumVector(x, m); return ok }},
			{"max/scalar", func() bool { rowMaxScalar(x); return true }},
			{"max/vector", func() bool { _, ok := rowMaxVector(x); return ok }},
			{"scaleshift/scalar", func() bool { scaleShiftScalar(d, x, 0.5, 0.1); return true }},
			{"scaleshift/vector", func() bool { return scaleShiftVector(d, x, 0.5, 0.1) }},
		}
		for _, bc := range benches {
			b.Run(fmt.Sprintf("%s/n=%d", bc.name, n), func(b *testing.B) {
				if !bc.run() {
					b.Skip("no vector kernels on this machine")
				}
				for b.Loop() {
					bc.run()
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/value")
			})
		}
	}
}
