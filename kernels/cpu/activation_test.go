package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/tensor"
)

// Accuracy of the activation kernels (activationVector and
// activationBackwardVector, and their scalar fallbacks) against a float64
// reference evaluated at the same float32 inputs. Each result must satisfy
//
//	|got − want| ≤ actTolULP · 2⁻²⁴ · scale + actTolAbs · max(1, |gy|)
//
// where scale is |want| widened by the conditioning the float32
// evaluation cannot avoid: for GELU the argument u = 2k(x + 0.044715x³) is
// rounded to float32, which moves σ(u) by a relative |u|·σ(−u) per unit of
// rounding, and the derivatives are sums whose terms cancel near their
// zeros (silu' at x ≈ −1.28, gelu' at x ≈ −0.75), so there scale is the sum
// of the terms' magnitudes rather than |want|. actTolAbs only matters for
// subnormal results (|want| < 2⁻¹²⁶ ≈ 1.2e-38), whose precision is that of
// the float32 format, not of the evaluation.
//
// actTolULP = 8 is 4.8e-7 relative, about 4 ulp at the bottom of a
// binade; the kernels measure at most about 5.5 (the sigmoid derivative,
// e·rc² with four roundings) and the scalar code about 2. The bound is
// tight enough to catch real defects: an exp polynomial coefficient off in
// its fourth digit (1/6 as 0.1666), the Newton step after VRCP14PS left
// out, the exp argument floor raised from −104 to −88, or the 6kc of the
// GELU derivative off by 2% each fail it.
const (
	actTolULP = 8
	actTolAbs = 1e-40
)

// activationOps lists the kernels under test.
var activationOps = []struct {
	name     string
	op       tensor.UnaryOp
	backward bool
}{
	{"sigmoid", tensor.OpSigmoid, false},
	{"silu", tensor.OpSilu, false},
	{"gelutanh", tensor.OpGeluTanh, false},
	{"sigmoid-backward", tensor.OpSigmoid, true},
	{"silu-backward", tensor.OpSilu, true},
	{"gelutanh-backward", tensor.OpGeluTanh, true},
}

// refSigmoid returns σ(u) and σ(−u) = 1 − σ(u) in float64, each computed
// without cancellation.
func refSigmoid(u float64) (s, sn float64) {
	e := math.Exp(-math.Abs(u))
	p, q := 1/(1+e), e/(1+e)
	if u < 0 {
		return q, p
	}
	return p, q
}

// activationRef returns the float64 value of the kernel op at x (times gy
// when backward) and the scale of its admissible error (see actTolULP).
func activationRef(op tensor.UnaryOp, backward bool, x, gy float64) (want, scale float64) {
	const k, c = geluK, geluC
	u := x
	if op == tensor.OpGeluTanh {
		u = 2 * k * (x + c*x*x*x)
	}
	s, sn := refSigmoid(u)
	au := math.Abs(u)
	switch {
	case !backward && op == tensor.OpSigmoid:
		want = s
		scale = want
	case !backward && op == tensor.OpSilu:
		want = x * s
		scale = math.Abs(want)
	case !backward:
		want = x * s
		scale = math.Abs(want) * (1 + au*sn)
	case op == tensor.OpSigmoid:
		want = gy * s * sn
		scale = math.Abs(want)
	case op == tensor.OpSilu:
		want = gy * s * (1 + x*sn)
		scale = math.Abs(gy) * s * (1 + math.Abs(x)*sn)
	default:
		w := 2 * k * x * (1 + 3*c*x*x)
		want = gy * (s + w*s*sn)
		scale = math.Abs(gy) * (s*(1+au*sn) + math.Abs(w*s*sn)*(1+au))
	}
	return want, scale
}

// activationTol is the admissible |got − want| for a reference scale and
// upstream gradient gy.
func activationTol(scale, gy float64) float64 {
	return actTolULP*0x1p-24*scale + actTolAbs*max(1, math.Abs(gy))
}

// runActivation evaluates one kernel over x (and gy when backward), with
// the vector kernels when vector is set (reporting false if there are
// none) and the scalar fallback otherwise.
func runActivation(op tensor.UnaryOp, backward, vector bool, x, gy []float32) ([]float32, bool) {
	d := make([]float32, len(x))
	switch {
	case backward && vector:
		return d, activationBackwardVector(op, d, x, gy)
	case backward:
		activationBackwardScalar(op, d, x, gy)
	case vector:
		return d, activationVector(op, d, x)
	default:
		activationScalar(op, d, x)
	}
	return d, true
}

// activationInputs returns the test points: a dense grid over the range
// where the functions vary, random values at every magnitude from
// subnormal to 1e38 of both signs, and extremes.
func activationInputs() []float32 {
	var xs []float32
	for x := -110.0; x <= 110; x += 1.0 / 64 {
		xs = append(xs, float32(x))
	}
	for x := -8.0; x <= 8; x += 1.0 / 4096 {
		xs = append(xs, float32(x))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		m := math.Pow(10, -44+82*rng.Float64())
		if rng.IntN(2) == 0 {
			m = -m
		}
		xs = append(xs, float32(m))
	}
	for _, x := range []float64{0, 1e-45, 1e-40, 1e-30, 1e-8, 0.5, 1, 2, 10, 20, 50, 80, 87.3, 88, 88.8, 89, 100, 103.9, 104, 104.1, 1e4, 1e13, 1e20, 1e30, math.MaxFloat32} {
		xs = append(xs, float32(x), float32(-x))
	}
	return append(xs, float32(math.Copysign(0, -1)))
}

// activationGrads returns upstream gradients for xs: mostly in [−4, 4),
// with some of magnitude up to 1e6 and some exactly 0 or 1.
func activationGrads(n int) []float32 {
	rng := rand.New(rand.NewPCG(3, 4))
	gy := kernRand(rng, n, -4, 4)
	for i := range gy {
		switch i % 17 {
		case 0:
			gy[i] = 1
		case 5:
			gy[i] = 0
		case 11:
			gy[i] *= 1e6
		}
	}
	return gy
}

// checkActivation checks got against the float64 reference elementwise
// and returns the largest error in units of 2⁻²⁴·scale where that term of
// the bound dominates.
func checkActivation(t *testing.T, op tensor.UnaryOp, backward bool, x, gy, got []float32) float64 {
	t.Helper()
	worst := 0.0
	for i, xv := range x {
		g := 1.0
		if backward {
			g = float64(gy[i])
		}
		want, scale := activationRef(op, backward, float64(xv), g)
		diff := math.Abs(float64(got[i]) - want)
		if !assert.LessOrEqualf(t, diff, activationTol(scale, g), "x=%g gy=%g: got %g, want %g", xv, g, got[i], want) {
			return worst
		}
		if actTolULP*0x1p-24*scale > actTolAbs*max(1, math.Abs(g)) {
			worst = max(worst, diff/(0x1p-24*scale))
		}
	}
	return worst
}

func TestActivationAccuracy(t *testing.T) {
	x := activationInputs()
	gy := activationGrads(len(x))
	for _, tc := range activationOps {
		t.Run(tc.name, func(t *testing.T) {
			for _, impl := range []struct {
				name   string
				vector bool
			}{{"vector", true}, {"scalar", false}} {
				got, ok := runActivation(tc.op, tc.backward, impl.vector, x, gy)
				if !ok {
					t.Logf("%s: no vector kernels on this machine", impl.name)
					continue
				}
				worst := checkActivation(t, tc.op, tc.backward, x, gy, got)
				t.Logf("%s: worst error %.2f·2⁻²⁴·scale over %d values", impl.name, worst, len(x))
			}
		})
	}
}

// TestActivationLengths runs the kernels on every tail length: a wrong
// mask would read or write outside the slice, which the sentinels around
// the output catch, or leave tail values unset.
func TestActivationLengths(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, tc := range activationOps {
		for _, n := range []int{0, 1, 2, 7, 15, 16, 17, 31, 32, 33, 47, 1000, 1023} {
			t.Run(fmt.Sprintf("%s/n=%d", tc.name, n), func(t *testing.T) {
				const pad = 16
				buf := make([]float32, n+2*pad)
				for i := range buf {
					buf[i] = 12345
				}
				d := buf[pad : pad+n : pad+n]
				x := kernRand(rng, n, -12, 12)
				gy := kernRand(rng, n, -2, 2)
				var ok bool
				if tc.backward {
					ok = activationBackwardVector(tc.op, d, x, gy)
				} else {
					ok = activationVector(tc.op, d, x)
				}
				if !ok {
					t.Skip("no vector kernels on this machine")
				}
				checkActivation(t, tc.op, tc.backward, x, gy, d)
				for i := range pad {
					require.Equal(t, float32(12345), buf[i], "written before the slice")
					require.Equal(t, float32(12345), buf[pad+n+i], "written after the slice")
				}
			})
		}
	}
}

// TestActivationVectorVsScalar compares the kernels with the scalar
// fallback on the same inputs: both lie within the reference bound, so
// they differ by at most twice that.
func TestActivationVectorVsScalar(t *testing.T) {
	x := activationInputs()
	gy := activationGrads(len(x))
	for _, tc := range activationOps {
		t.Run(tc.name, func(t *testing.T) {
			vec, ok := runActivation(tc.op, tc.backward, true, x, gy)
			if !ok {
				t.Skip("no vector kernels on this machine")
			}
			sc, _ := runActivation(tc.op, tc.backward, false, x, gy)
			for i, xv := range x {
				g := 1.0
				if tc.backward {
					g = float64(gy[i])
				}
				_, scale := activationRef(tc.op, tc.backward, float64(xv), g)
				diff := math.Abs(float64(vec[i]) - float64(sc[i]))
				require.LessOrEqualf(t, diff, 2*activationTol(scale, g), "x=%g gy=%g: vector %g, scalar %g", xv, g, vec[i], sc[i])
			}
		})
	}
}

// TestActivationSpecial pins the results at ±0, ±Inf and NaN. The vector
// kernels give σ's limits at ±Inf and NaN for NaN; the products x·σ and
// the SiLU derivative give NaN where they are ∞·0, as the scalar code
// does, while the GELU derivative takes its limits 1 and 0 at ±Inf (the
// scalar code gives NaN there).
func TestActivationSpecial(t *testing.T) {
	inf, nan := math.Inf(1), math.NaN()
	negZero := math.Copysign(0, -1)
	cases := []struct {
		op       tensor.UnaryOp
		backward bool
		x, want  float64
	}{
		{tensor.OpSigmoid, false, 0, 0.5},
		{tensor.OpSigmoid, false, negZero, 0.5},
		{tensor.OpSigmoid, false, inf, 1},
		{tensor.OpSigmoid, false, -inf, 0},
		{tensor.OpSigmoid, false, nan, nan},
		{tensor.OpSilu, false, 0, 0},
		{tensor.OpSilu, false, negZero, negZero},
		{tensor.OpSilu, false, inf, inf},
		{tensor.OpSilu, false, -inf, nan},
		{tensor.OpSilu, false, nan, nan},
		{tensor.OpGeluTanh, false, 0, 0},
		{tensor.OpGeluTanh, false, inf, inf},
		{tensor.OpGeluTanh, false, -inf, nan},
		{tensor.OpGeluTanh, false, nan, nan},
		{tensor.OpSigmoid, true, 0, 0.25},
		{tensor.OpSigmoid, true, inf, 0},
		{tensor.OpSigmoid, true, -inf, 0},
		{tensor.OpSigmoid, true, nan, nan},
		{tensor.OpSilu, true, 0, 0.5},
		{tensor.OpSilu, true, inf, nan},
		{tensor.OpSilu, true, -inf, nan},
		{tensor.OpSilu, true, nan, nan},
		{tensor.OpGeluTanh, true, 0, 0.5},
		{tensor.OpGeluTanh, true, inf, 1},
		{tensor.OpGeluTanh, true, -inf, 0},
		{tensor.OpGeluTanh, true, nan, nan},
	}
	for _, c := range cases {
		x, gy := []float32{float32(c.x)}, []float32{1}
		got, ok := runActivation(c.op, c.backward, true, x, gy)
		if !ok {
			t.Skip("no vector kernels on this machine")
		}
		g := float64(got[0])
		name := fmt.Sprintf("op %v backward %v x %g", c.op, c.backward, c.x)
		if math.IsNaN(c.want) {
			assert.Truef(t, math.IsNaN(g), "%s: got %g, want NaN", name, g)
			continue
		}
		assert.Equalf(t, c.want, g, "%s", name)
		assert.Equalf(t, math.Signbit(c.want), math.Signbit(g), "%s: sign", name)
	}
}

// TestActivationDispatch checks that unarySlice and unaryBackwardSlice use
// the vector kernels when there are some.
func TestActivationDispatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	x := kernRand(rng, 333, -10, 10)
	gy := kernRand(rng, 333, -2, 2)
	for _, tc := range activationOps {
		want, ok := runActivation(tc.op, tc.backward, true, x, gy)
		if !ok {
			want, _ = runActivation(tc.op, tc.backward, false, x, gy)
		}
		got := make([]float32, len(x))
		if tc.backward {
			unaryBackwardSlice(tc.op, got, x, gy, 0, 0)
		} else {
			unarySlice(tc.op, got, x, 0, 0)
		}
		require.Equal(t, want, got, tc.name)
	}
}

// BenchmarkActivation compares the scalar fallback with the vector kernels
// per op on 64Ki values (in L2), reporting ns per value.
func BenchmarkActivation(b *testing.B) {
	const n = 1 << 16
	rng := rand.New(rand.NewPCG(9, 10))
	x := kernRand(rng, n, -8, 8)
	gy := kernRand(rng, n, -1, 1)
	d := make([]float32, n)
	for _, tc := range activationOps {
		for _, impl := range []string{"scalar", "vector"} {
			b.Run(tc.name+"/"+impl, func(b *testing.B) {
				if impl == "vector" {
					var ok bool
					if tc.backward {
						ok = activationBackwardVector(tc.op, d, x, gy)
					} else {
						ok = activationVector(tc.op, d, x)
					}
					if !ok {
						b.Skip("no vector kernels on this machine")
					}
				}
				bytes := int64(8 * n)
				if tc.backward {
					bytes = 12 * n
				}
				b.SetBytes(bytes)
				for b.Loop() {
					switch {
					case impl == "scalar" && tc.backward:
						activationBackwardScalar(tc.op, d, x, gy)
					case impl == "scalar":
						activationScalar(tc.op, d, x)
					case tc.backward:
						activationBackwardVector(tc.op, d, x, gy)
					default:
						activationVector(tc.op, d, x)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/value")
			})
		}
	}
}
