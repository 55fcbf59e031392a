package cpu

import (
	"math"
)

// exp32 is a float32 exponential accurate to within 2 ulp: the argument is
// reduced by the nearest multiple n of ln 2 (split in two parts), e^r on
// |r| ≤ ln2/2 is a degree-7 polynomial, and 2ⁿ is built from its exponent
// bits. Arguments whose result is not a normal float32 (and NaN) take
// math.Exp.
func exp32(x float32) float32 {
	if !(x >= -87.33 && x <= 88.37) {
		return float32(math.Exp(float64(x)))
	}
	const (
		log2e = 1.44269504088896341
		ln2hi = 0.693359375
		ln2lo = -2.12194440e-4
		round = 12582912 // 1.5·2²³: adding it rounds to an integer
	)
	t := x*log2e + round
	n := t - round
	r := x - n*ln2hi - n*ln2lo
	p := ((((((1.9875691500e-4*r+1.3981999507e-3)*r+8.3334519073e-3)*r+4.1665795894e-2)*r+1.6666665459e-1)*r+5.0000001201e-1)*r*r + r) + 1
	return p * math.Float32frombits(uint32(int32(n)+127)<<23)
}
