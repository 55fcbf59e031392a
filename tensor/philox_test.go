package tensor

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Known-answer vectors of Random123's kat_vectors for philox4x32_10.
func TestPhiloxKnownAnswers(t *testing.T) {
	cases := []struct {
		c    [4]uint32
		k    [2]uint32
		want [4]uint32
	}{
		{[4]uint32{0, 0, 0, 0}, [2]uint32{0, 0}, [4]uint32{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
		{[4]uint32{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, [2]uint32{0xffffffff, 0xffffffff}, [4]uint32{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
		{[4]uint32{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, [2]uint32{0xa4093822, 0x299f31d0}, [4]uint32{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, philoxBlock(c.c, c.k))
	}
	assert.Equal(t, cases[0].want, Philox(0, 0))
}

func TestPhiloxDistributions(t *testing.T) {
	const n = 20000
	var su, sn, sn2 float64
	for i := uint64(0); i < n; i++ {
		u := PhiloxUniform(7, i)
		assert.True(t, u >= 0 && u < 1)
		su += float64(u)
		z := float64(PhiloxNormal(7, i))
		assert.False(t, math.IsNaN(z) || math.IsInf(z, 0))
		sn += z
		sn2 += z * z
	}
	assert.InDelta(t, 0.5, su/n, 0.01)
	assert.InDelta(t, 0, sn/n, 0.03)
	assert.InDelta(t, 1, sn2/n, 0.03)
	assert.NotEqual(t, PhiloxUniform(1, 5), PhiloxUniform(2, 5), "the seed changes the stream")
}

func TestTruncNormalBounds(t *testing.T) {
	for i := 0; i < 1000; i++ {
		x := truncNormal(PhiloxUniform(3, uint64(i)), 0.02, -0.04, 0.04)
		assert.True(t, x >= -0.04 && x <= 0.04)
	}
	assert.InDelta(t, 0, truncNormal(0.5, 1, -2, 2), 1e-9)
}
