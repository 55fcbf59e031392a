package cpu

import "math"

//go:generate go run ./internal/asmgen -set vector -out vector_amd64.s -stubs vector_stub_amd64.go

// Row primitives of the softmax, cross-entropy and attention kernels: the
// exponentials of a row shifted by its maximum (or log-sum-exp) with their
// sum, the row maximum, and a scale-and-shift. Each runs the AVX-512F or
// AVX2 kernels of vector_amd64.go where the processor has them and a
// scalar loop otherwise; the two agree to within a few ulp (see rows_test.go), and
// each is deterministic: the same row gives the same bits whatever the
// worker count.
//
// The exponentials are float32, exp32 or its vector form (within 2 ulp),
// of the float32 difference t = x − shift. That difference is exact when x
// and shift are within a factor of two of each other, and otherwise
// rounded by at most 2⁻²⁴·|t|, which moves the term e^t by a relative
// 2⁻²⁴·|t|: for a shift at or above the row maximum (t ≤ 0) at most
// 2⁻²⁴/e in absolute terms, since |t|·e^t ≤ 1/e, so sums and the larger
// terms stay within a few ulp while terms far below the maximum may be
// off by more ulp of their own. Sums are in float64. The vector kernels
// widen each term to float64 and add it into one of 32 lane sums chosen by
// its index (and the row length), then add the lane sums in a fixed order:
// a different order from the scalar loop's, which moves a sum by a few
// parts in 10¹⁶, but one that depends only on the row's values and
// length (and the instruction set: the AVX2 kernels keep 16 lane sums).

// expShiftRow sets d[i] = e^(x[i] − shift) for the len(d) values of x and
// returns their sum in float64. d may be x.
func expShiftRow(d, x []float32, shift float32) float64 {
	if s, ok := expShiftVector(d, x, shift); ok {
		return s
	}
	return expShiftScalar(d, x, shift)
}

// expShiftScalar is expShiftRow one value at a time with exp32: the
// fallback of expShiftVector and the reference of its tests.
func expShiftScalar(d, x []float32, shift float32) float64 {
	x = x[:len(d)]
	var s float64
	for i, v := range x {
		e := exp32(v - shift)
		d[i] = e
		s += float64(e)
	}
	return s
}

// expSumRow returns the float64 sum of e^(x[i] − shift) over x, without
// storing the terms.
func expSumRow(x []float32, shift float32) float64 {
	if s, ok := expSumVector(x, shift); ok {
		return s
	}
	return expSumScalar(x, shift)
}

// expSumScalar is expSumRow one value at a time with exp32.
func expSumScalar(x []float32, shift float32) float64 {
	var s float64
	for _, v := range x {
		s += float64(exp32(v - shift))
	}
	return s
}

// rowMax is the largest element of row, -Inf when row is empty or all
// -Inf; a NaN element makes it NaN. The sign of a zero maximum is
// unspecified.
func rowMax(row []float32) float32 {
	if m, ok := rowMaxVector(row); ok {
		return m
	}
	return rowMaxScalar(row)
}

// rowMaxScalar is rowMax in two interleaved scalar chains.
func rowMaxScalar(row []float32) float32 {
	m0, m1 := float32(math.Inf(-1)), float32(math.Inf(-1))
	nan := false
	j := 0
	for ; j+2 <= len(row); j += 2 {
		v0, v1 := row[j], row[j+1]
		if v0 > m0 {
			m0 = v0
		}
		if v1 > m1 {
			m1 = v1
		}
		nan = nan || v0 != v0 || v1 != v1
	}
	for ; j < len(row); j++ {
		if v := row[j]; v > m0 {
			m0 = v
		}
		nan = nan || row[j] != row[j]
	}
	if nan {
		return float32(math.NaN())
	}
	return max(m0, m1)
}

// scaleShiftRow sets d[i] = a·(x[i] − shift) for the len(d) values of x,
// the difference and the product each rounded to float32 (with shift 0
// exactly a·x[i]). d may be x.
func scaleShiftRow(d, x []float32, a, shift float32) {
	if scaleShiftVector(d, x, a, shift) {
		return
	}
	scaleShiftScalar(d, x, a, shift)
}

// scaleShiftScalar is scaleShiftRow one value at a time.
func scaleShiftScalar(d, x []float32, a, shift float32) {
	x = x[:len(d)]
	for i, v := range x {
		d[i] = a * (v - shift)
	}
}
