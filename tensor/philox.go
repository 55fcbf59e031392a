package tensor

import "math"

// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2,
// 3", SC 2011) is the one random generator of sargo. Element e of a stream
// keyed by seed uses the counter (lo32(e), hi32(e), 0, 0) and the key
// (lo32(seed), hi32(seed)), so any backend can produce any element on its
// own and every backend produces the same numbers.

const (
	philoxM0 = 0xD2511F53
	philoxM1 = 0xCD9E8D57
	philoxW0 = 0x9E3779B9
	philoxW1 = 0xBB67AE85
)

// Philox returns the four 32-bit words of block e of the stream keyed by seed.
func Philox(seed, e uint64) [4]uint32 {
	return philoxBlock([4]uint32{uint32(e), uint32(e >> 32), 0, 0}, [2]uint32{uint32(seed), uint32(seed >> 32)})
}

// philoxBlock is the Philox4x32-10 bijection of counter c under key k.
func philoxBlock(c [4]uint32, k [2]uint32) [4]uint32 {
	k0, k1 := k[0], k[1]
	for r := 0; r < 10; r++ {
		p0 := uint64(philoxM0) * uint64(c[0])
		p1 := uint64(philoxM1) * uint64(c[2])
		c = [4]uint32{
			uint32(p1>>32) ^ c[1] ^ k0,
			uint32(p1),
			uint32(p0>>32) ^ c[3] ^ k1,
			uint32(p0),
		}
		k0 += philoxW0
		k1 += philoxW1
	}
	return c
}

// Uniform01 maps a word to [0, 1) with 24 bits of precision.
func Uniform01(w uint32) float32 { return float32(w>>8) * (1.0 / 16777216.0) }

// PhiloxUniform is element e of the uniform stream keyed by seed.
func PhiloxUniform(seed, e uint64) float32 { return Uniform01(Philox(seed, e)[0]) }

// PhiloxNormal is element e of the standard normal stream keyed by seed
// (Box-Muller on the first two words of block e).
func PhiloxNormal(seed, e uint64) float32 {
	w := Philox(seed, e)
	u1 := (float64(w[0]>>8) + 1) * (1.0 / 16777216.0) // (0, 1]
	u2 := float64(w[1]>>8) * (1.0 / 16777216.0)
	return float32(math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2))
}
