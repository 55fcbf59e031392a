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

// Tests of the vector binary kernels (binaryVector) against the scalar
// loops of binaryScalar and a float64 reference. Both must give the bits
// of the correctly rounded result for add, sub, mul and div, and of Go's
// max and min builtins (NaN if either operand is NaN, −0 < +0).

// binaryVectorOps lists the operations with a vector kernel.
var binaryVectorOps = []tensor.BinaryOp{tensor.OpAdd, tensor.OpSub, tensor.OpMul, tensor.OpDiv, tensor.OpMax, tensor.OpMin}

// binarySpecials are extreme operands: signed zeros and infinities, NaNs
// of both signs and two payloads, subnormals, the extreme finite values
// and values whose products and quotients overflow or underflow.
func binarySpecials() []float32 {
	inf := float32(math.Inf(1))
	negZero := float32(math.Copysign(0, -1))
	return []float32{0, negZero, inf, -inf, float32(math.NaN()), math.Float32frombits(0xffc00000), math.Float32frombits(0x7fc12345),
		math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, 1e-40, -3e-39, 0x1p-126, math.MaxFloat32, -math.MaxFloat32,
		1, -1, 3, 1e20, -1e20, 1e-20, 1e30, 0.1}
}

// binaryInputs returns n operand pairs: random values, then (extremes set)
// every pair of special values cycled through the row.
func binaryInputs(rng *rand.Rand, n int, extremes bool) (x, y []float32) {
	x, y = kernRand(rng, n, -4, 4), kernRand(rng, n, -4, 4)
	if !extremes {
		return x, y
	}
	sp := binarySpecials()
	for i := range x {
		p := (i + rng.IntN(7)) % (len(sp) * len(sp))
		x[i], y[i] = sp[p/len(sp)], sp[p%len(sp)]
	}
	return x, y
}

// binaryRef is op(x, y) of float32 operands: +, −, · and / in float64,
// rounded once to float32 (float64 has enough precision for the double
// rounding to be harmless), and max and min as the Go specification
// defines the builtins: NaN if either operand is NaN (unlike math.Max,
// whose ±Inf wins over NaN), and −0 < +0.
func binaryRef(op tensor.BinaryOp, x, y float32) float32 {
	if op != tensor.OpMax && op != tensor.OpMin {
		return float32(kernBinaryRef(op, float64(x), float64(y)))
	}
	switch {
	case x != x || y != y:
		return float32(math.NaN())
	case x == 0 && y == 0:
		// Both zeros: the negative one is the smaller.
		nx, ny := math.Signbit(float64(x)), math.Signbit(float64(y))
		if op == tensor.OpMax && nx && ny || op == tensor.OpMin && (nx || ny) {
			return float32(math.Copysign(0, -1))
		}
		return 0
	case (x > y) == (op == tensor.OpMax):
		return x
	}
	return y
}

// binarySame reports whether got has the bits of want, counting any NaN
// equal to any NaN (the NaN an operation returns is not specified).
func binarySame(want, got float32) bool {
	return math.Float32bits(want) == math.Float32bits(got) || want != want && got != got
}

// TestBinaryVector checks the scalar loops against the reference and the
// vector kernels against the scalar loops, bit for bit, on random and
// extreme operands at every tail length, out of place (with sentinels
// around the output) and in place over either operand.
func TestBinaryVector(t *testing.T) {
	for _, op := range binaryVectorOps {
		for _, extremes := range []bool{false, true} {
			for _, n := range rowLengths {
				t.Run(fmt.Sprintf("%s/extremes=%v/n=%d", op, extremes, n), func(t *testing.T) {
					rng := rand.New(rand.NewPCG(uint64(op), uint64(n)))
					x, y := binaryInputs(rng, n, extremes)
					sc := make([]float32, n)
					binaryScalar(op, sc, x, y)
					for i := range sc {
						want := binaryRef(op, x[i], y[i])
						require.Truef(t, binarySame(want, sc[i]), "scalar %s(%g, %g) = %g, want %g", op, x[i], y[i], sc[i], want)
					}
					const pad = 16
					buf := make([]float32, n+2*pad)
					for i := range buf {
						buf[i] = 12345
					}
					vec := buf[pad : pad+n : pad+n]
					if !binaryVector(op, vec, x, y) {
						t.Skip("no vector kernels on this machine")
					}
					for i := range vec {
						require.Truef(t, binarySame(sc[i], vec[i]), "vector %s(%g, %g) = %g (%#x), scalar %g (%#x)",
							op, x[i], y[i], vec[i], math.Float32bits(vec[i]), sc[i], math.Float32bits(sc[i]))
					}
					for i := range pad {
						require.Equal(t, float32(12345), buf[i], "written before the slice")
						require.Equal(t, float32(12345), buf[pad+n+i], "written after the slice")
					}
					// In place, over either operand.
					for _, first := range []bool{true, false} {
						in := append([]float32(nil), x...)
						if first {
							binaryVector(op, in, in, y)
						} else {
							in = append(in[:0], y...)
							binaryVector(op, in, x, in)
						}
						for i := range in {
							require.Truef(t, binarySame(sc[i], in[i]), "in place (first=%v) %s(%g, %g) = %g, want %g", first, op, x[i], y[i], in[i], sc[i])
						}
					}
				})
			}
		}
	}
}

// TestBinaryMinMaxSpecial pins max and min on signed zeros, infinities and
// NaN in every lane position, including the masked tail.
func TestBinaryMinMaxSpecial(t *testing.T) {
	inf := float32(math.Inf(1))
	negZero := float32(math.Copysign(0, -1))
	nan := float32(math.NaN())
	cases := []struct {
		x, y, max, min float32
	}{
		{0, negZero, 0, negZero},
		{negZero, 0, 0, negZero},
		{negZero, negZero, negZero, negZero},
		{0, 0, 0, 0},
		{inf, -inf, inf, -inf},
		{-inf, 1, 1, -inf},
		{nan, 1, nan, nan},
		{1, nan, nan, nan},
		{nan, -inf, nan, nan},
		{inf, nan, nan, nan},
		{nan, nan, nan, nan},
		{-1e-45, 1e-45, 1e-45, -1e-45},
	}
	for _, n := range []int{1, 16, 17, 64, 70} {
		for _, c := range cases {
			x, y := rowFill(n, c.x), rowFill(n, c.y)
			for _, tc := range []struct {
				op   tensor.BinaryOp
				want float32
			}{{tensor.OpMax, c.max}, {tensor.OpMin, c.min}} {
				d := make([]float32, n)
				if !binaryVector(tc.op, d, x, y) {
					t.Skip("no vector kernels on this machine")
				}
				for i, g := range d {
					if !assert.Truef(t, binarySame(tc.want, g), "n=%d lane %d: %s(%g, %g) = %g, want %g", n, i, tc.op, c.x, c.y, g, tc.want) {
						break
					}
				}
			}
		}
	}
}

// TestBinaryDispatch checks that binarySlice runs the vector kernels where
// there are some and the scalar loops for the comparisons.
func TestBinaryDispatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	x, y := binaryInputs(rng, 333, true)
	for op := tensor.BinaryOp(0); op < tensor.NumBinaryOps; op++ {
		want := make([]float32, len(x))
		if !binaryVector(op, want, x, y) {
			binaryScalar(op, want, x, y)
		}
		got := make([]float32, len(x))
		binarySlice(op, got, x, y)
		for i := range got {
			require.Truef(t, binarySame(want[i], got[i]), "%s(%g, %g) = %g, want %g", op, x[i], y[i], got[i], want[i])
		}
	}
}

// BenchmarkBinary compares the scalar loops with the vector kernels per op
// on 4Ki values (in L1) and 256Ki values (in L2/L3), reporting ns per
// value.
func BenchmarkBinary(b *testing.B) {
	for _, n := range []int{1 << 12, 1 << 18} {
		rng := rand.New(rand.NewPCG(19, uint64(n)))
		x, y := kernRand(rng, n, -4, 4), kernRand(rng, n, 0.5, 4)
		d := make([]float32, n)
		for _, op := range binaryVectorOps {
			for _, impl := range []string{"scalar", "vector"} {
				b.Run(fmt.Sprintf("%s/n=%d/%s", op, n, impl), func(b *testing.B) {
					if impl == "vector" && !binaryVector(op, d, x, y) {
						b.Skip("no vector kernels on this machine")
					}
					b.SetBytes(int64(12 * n))
					for b.Loop() {
						if impl == "scalar" {
							binaryScalar(op, d, x, y)
						} else {
							binaryVector(op, d, x, y)
						}
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/value")
				})
			}
		}
	}
}
