package sizeclass

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOf(t *testing.T) {
	tests := []struct {
		bytes uint64
		class int
		size  uint64
	}{
		{0, 0, 256},
		{4, 0, 256},
		{256, 0, 256},
		{257, 1, 288},
		{288, 1, 288},
		{289, 2, 320},
		{512, 8, 512},
		{513, 9, 576},
		{600 << 20, 0, 640 << 20}, // a 600 MiB tensor gets 640 MiB, not 1 GiB
	}
	for _, tt := range tests {
		c, s := Of(tt.bytes)
		assert.Equal(t, tt.size, s, "size of %d bytes", tt.bytes)
		if tt.class != 0 || tt.bytes <= Min {
			assert.Equal(t, tt.class, c, "class of %d bytes", tt.bytes)
		}
		assert.Equal(t, s, Size(c), "Size(Of(%d))", tt.bytes)
	}
}

// TestWasteAndOrder checks the rule on random sizes: the class holds the
// request, wastes at most an eighth of it, and classes grow with size.
func TestWasteAndOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		b := uint64(r.Int64N(1 << 40))
		c, s := Of(b)
		require.GreaterOrEqual(t, s, b)
		if b > Min {
			require.LessOrEqual(t, s-b, b/8, "waste for %d bytes", b)
		}
		c2, s2 := Of(b + 1)
		require.GreaterOrEqual(t, c2, c)
		require.GreaterOrEqual(t, s2, s)
		require.Equal(t, s, Size(c))
	}
}
