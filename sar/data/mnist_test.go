package data

import (
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"syscall"
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

// writeIDX writes a gzipped IDX file of unsigned bytes declaring shape
// and holding data (which may be shorter than the shape claims).
func writeIDX(t *testing.T, path string, shape []uint32, data []byte) {
	t.Helper()
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	gz := gzip.NewWriter(f)
	_, err = gz.Write([]byte{0, 0, 8, byte(len(shape))})
	require.NoError(t, err)
	require.NoError(t, binary.Write(gz, binary.BigEndian, shape))
	_, err = gz.Write(data)
	require.NoError(t, err)
	require.NoError(t, gz.Close())
}

// TestMNISTHeaderChecks checks that the shapes the IDX headers declare are
// refused before the memory for them is taken: images of 0×0 pixels
// (which would make a dataset of billions of padded images), images too
// large, and more images than the memory budget holds.
func TestMNISTHeaderChecks(t *testing.T) {
	tests := []struct {
		name   string
		shape  []uint32
		labels []uint32
		limit  string
		want   string
	}{
		{"0x0 images", []uint32{1 << 24, 0, 0}, []uint32{1 << 24}, "", "images of 0x0 pixels: want 1 to 32 pixels a side"},
		{"too large", []uint32{2, 64, 64}, []uint32{2}, "", "images of 64x64 pixels"},
		{"over budget", []uint32{1 << 30, 1, 1}, []uint32{1 << 30}, "1GiB",
			"1073741824 images of 1x1 needs 4.0 TiB, but --memory-limit (SARGO_MEMORY_LIMIT) allows 1.0 GiB"},
		{"labels do not match", []uint32{2, 2, 2}, []uint32{3}, "", "want one label for each of the 2 images"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("SARGO_MEMORY_LIMIT", tc.limit)
			dir := t.TempDir()
			writeIDX(t, filepath.Join(dir, "t10k-images-idx3-ubyte.gz"), tc.shape, make([]byte, 8))
			// As many labels as declared (up to 2^24), so that only the
			// image header can stop the load.
			writeIDX(t, filepath.Join(dir, "t10k-labels-idx1-ubyte.gz"), tc.labels, make([]byte, min(tc.labels[0], 1<<24)))
			_, err := MNIST(dir, false)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestIDXFileNotRegular checks that a named pipe given as an IDX file is
// refused at once instead of blocking the reader.
func TestIDXFileNotRegular(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fifo.gz")
	require.NoError(t, syscall.Mkfifo(path, 0o644))
	_, err := ReadIDXFile(path)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "named pipe (FIFO), not a regular file")
}
