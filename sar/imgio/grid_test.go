package imgio

import (
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGridSave(t *testing.T) {
	img := make([]float32, 4*4)
	for i := range img {
		img[i] = float32(i)/7.5 - 1
	}
	g := &Grid{C: 1, H: 4, W: 4, Cols: 2, Scale: 2, Images: [][]float32{img, img, img}, Captions: []string{"0", "class 1", "x"}}
	path := filepath.Join(t.TempDir(), "sub", "grid.png")
	require.NoError(t, g.Save(path))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	decoded, err := png.Decode(f)
	require.NoError(t, err)
	b := decoded.Bounds()
	assert.Equal(t, pad+2*(8+pad), b.Dx())
	assert.Equal(t, pad+2*(8+pad+captionH), b.Dy())
	// The first image's top-left pixel is black (-1), its last white (+1).
	r, _, _, _ := decoded.At(pad, pad+captionH).RGBA()
	assert.Equal(t, uint32(0), r)
	r, _, _, _ = decoded.At(pad+7, pad+captionH+7).RGBA()
	assert.Equal(t, uint32(0xffff), r)
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file is left behind")
}

func TestGridErrors(t *testing.T) {
	cases := []struct {
		g    Grid
		want string
	}{
		{Grid{C: 2, H: 1, W: 1, Images: [][]float32{{0, 0}}}, "2 channels"},
		{Grid{C: 1, H: 1, W: 1}, "no images"},
		{Grid{C: 1, H: 2, W: 2, Images: [][]float32{{0}}}, "image 0 has 1 values, want 4"},
		{Grid{C: 1, H: 1, W: 1, Images: [][]float32{{0}}, Captions: []string{}}, "0 captions for 1 images"},
	}
	for _, c := range cases {
		_, err := c.g.Image()
		require.Error(t, err)
		assert.Contains(t, err.Error(), c.want)
	}
}

func TestToByte(t *testing.T) {
	nan := float32(0)
	nan = nan / nan
	assert.Equal(t, uint8(0), toByte(-2))
	assert.Equal(t, uint8(255), toByte(3))
	assert.Equal(t, uint8(128), toByte(0))
	assert.Equal(t, uint8(0), toByte(nan))
}
