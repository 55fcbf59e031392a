package sample

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPublishedOptions(t *testing.T) {
	tests := []struct {
		depth int
		cfg   float32
	}{{16, 2.2}, {20, 2.6}, {24, 3.3}, {12, 2.2}, {30, 3.3}}
	for _, tc := range tests {
		o := Published(tc.depth)
		assert.Equal(t, tc.cfg, o.CFG, "depth %d", tc.depth)
		assert.Equal(t, 900, o.TopK)
		assert.Equal(t, float32(0.95), o.TopP)
		assert.Equal(t, "1_2_3_4_5_6_8_10_13_16", o.Schedule.String())
	}
}
