package data

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMNIST(t *testing.T) {
	test, err := LoadMNIST(false)
	require.NoError(t, err)
	require.Equal(t, 10000, test.Len())
	assert.Equal(t, []int{1, 32, 32}, []int{test.C, test.H, test.W})
	assert.Len(t, test.Classes, 10)
	counts := make([]int, 10)
	for _, l := range test.Labels {
		counts[l]++
	}
	for c, n := range counts {
		assert.Greater(t, n, 800, "class %d", c)
	}
	img := test.Image(0)
	// The two-pixel border added around 28x28 is background.
	for x := 0; x < 32; x++ {
		assert.Equal(t, float32(-1), img[x])
		assert.Equal(t, float32(-1), img[31*32+x])
	}
	lo, hi := img[0], img[0]
	for _, v := range test.Images[:32*32*100] {
		lo, hi = min(lo, v), max(hi, v)
	}
	assert.Equal(t, float32(-1), lo)
	assert.Equal(t, float32(1), hi)
	assert.Equal(t, 7, test.Labels[0], "the first test digit of MNIST is a 7")
}

func TestBatchFlip(t *testing.T) {
	d := &Dataset{Name: "t", Classes: []string{"a"}, C: 1, H: 1, W: 3, Images: []float32{1, 2, 3, 4, 5, 6}, Labels: []int{0, 0}}
	require.NoError(t, d.Validate())
	x, y := d.Batch([]int{1, 0}, []bool{true, false})
	assert.Equal(t, []float32{6, 5, 4, 1, 2, 3}, x)
	assert.Equal(t, []int{0, 0}, y)
}

func TestShufflerDeterministic(t *testing.T) {
	s := Shuffler{N: 50, Seed: 3}
	assert.Equal(t, s.Epoch(2), s.Epoch(2))
	assert.NotEqual(t, s.Epoch(1), s.Epoch(2))
}
