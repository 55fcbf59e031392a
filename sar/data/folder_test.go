package data

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// writePNG writes img as a PNG file at path, creating its folder.
func writePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
}

// grey makes a w×h grey image with value v everywhere.
func grey(w, h int, v uint8) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = v
	}
	return img
}

// solid makes a w×h RGB image of one colour.
func solid(w, h int, c color.RGBA) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, c)
		}
	}
	return img
}

func TestLoadFolder(t *testing.T) {
	dir := t.TempDir()
	writePNG(t, filepath.Join(dir, "cats", "a.png"), grey(8, 8, 255))
	writePNG(t, filepath.Join(dir, "cats", "b.png"), grey(16, 8, 0))
	writePNG(t, filepath.Join(dir, "apples", "x.png"), solid(4, 4, color.RGBA{255, 0, 0, 255}))
	var jb bytes.Buffer
	require.NoError(t, jpeg.Encode(&jb, solid(8, 8, color.RGBA{0, 0, 255, 255}), &jpeg.Options{Quality: 100}))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "apples", "y.JPG"), jb.Bytes(), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "apples", "notes.txt"), []byte("not an image"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "README"), []byte("top-level file"), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, ".hidden"), 0o755))

	cases := []struct {
		name     string
		channels int
		// first value of each image's channel planes
		want [][]float32
	}{
		{"grey", 1, [][]float32{{2*0.299 - 1}, {2*0.114 - 1}, {1}, {-1}}},
		{"rgb", 3, [][]float32{{1, -1, -1}, {-1, -1, 1}, {1, 1, 1}, {-1, -1, -1}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := LoadFolder(dir, 4, c.channels)
			require.NoError(t, err)
			require.Equal(t, []string{"apples", "cats"}, d.Classes)
			require.Equal(t, []int{0, 0, 1, 1}, d.Labels)
			require.Equal(t, []int{c.channels, 4, 4}, []int{d.C, d.H, d.W})
			for i, want := range c.want {
				img := d.Image(i)
				for ch, v := range want {
					require.InDelta(t, v, img[ch*16], 0.02, "image %d channel %d", i, ch)
				}
			}
		})
	}
}

func TestLoadFolderAreaResizeAndCrop(t *testing.T) {
	// A 6×4 image: the centre crop keeps columns 1..4; its left half is
	// black and its right half white, so a 2×2 resize gives -1 then 1.
	img := image.NewGray(image.Rect(0, 0, 6, 4))
	for y := range 4 {
		for x := range 6 {
			if x >= 3 {
				img.SetGray(x, y, color.Gray{255})
			}
		}
	}
	dir := t.TempDir()
	writePNG(t, filepath.Join(dir, "c", "i.png"), img)
	d, err := LoadFolder(dir, 2, 1)
	require.NoError(t, err)
	require.InDeltaSlice(t, []float32{-1, 1, -1, 1}, d.Image(0), 1e-6)

	// Upscaling a 2×2 checker by 2 repeats each pixel.
	chk := image.NewGray(image.Rect(0, 0, 2, 2))
	chk.SetGray(1, 0, color.Gray{255})
	chk.SetGray(0, 1, color.Gray{255})
	dir2 := t.TempDir()
	writePNG(t, filepath.Join(dir2, "c", "i.png"), chk)
	d2, err := LoadFolder(dir2, 4, 1)
	require.NoError(t, err)
	require.InDeltaSlice(t, []float32{-1, -1, 1, 1, -1, -1, 1, 1, 1, 1, -1, -1, 1, 1, -1, -1}, d2.Image(0), 1e-6)
}

func TestLoadFolderErrors(t *testing.T) {
	var pngBuf bytes.Buffer
	require.NoError(t, png.Encode(&pngBuf, grey(8, 8, 9)))
	truncated := pngBuf.Bytes()[:pngBuf.Len()/2]
	cases := []struct {
		name  string
		setup func(t *testing.T, dir string) string // returns the path to load
		want  string
	}{
		{"missing", func(t *testing.T, dir string) string { return filepath.Join(dir, "nope") }, "no such file"},
		{"not a folder", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "f.png")
			require.NoError(t, os.WriteFile(p, pngBuf.Bytes(), 0o644))
			return p
		}, "not a folder"},
		{"no classes", func(t *testing.T, dir string) string {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "a.png"), pngBuf.Bytes(), 0o644))
			return dir
		}, "no class folders"},
		{"empty class", func(t *testing.T, dir string) string {
			writePNG(t, filepath.Join(dir, "a", "1.png"), grey(2, 2, 0))
			require.NoError(t, os.MkdirAll(filepath.Join(dir, "b"), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "b", "x.txt"), []byte("hi"), 0o644))
			return dir
		}, `class folder "b" has no PNG or JPEG images`},
		{"truncated", func(t *testing.T, dir string) string {
			require.NoError(t, os.MkdirAll(filepath.Join(dir, "a"), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "a", "bad.png"), truncated, 0o644))
			return dir
		}, "bad.png: corrupt or truncated PNG"},
		{"huge header", func(t *testing.T, dir string) string {
			// A valid PNG whose IHDR is rewritten to declare 100000×100000
			// pixels (CRC fixed up), so only the header check stops it.
			huge := bytes.Clone(pngBuf.Bytes())
			binary.BigEndian.PutUint32(huge[16:], 100000)
			binary.BigEndian.PutUint32(huge[20:], 100000)
			binary.BigEndian.PutUint32(huge[29:], crc32.ChecksumIEEE(huge[12:29]))
			require.NoError(t, os.MkdirAll(filepath.Join(dir, "a"), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "a", "huge.png"), huge, 0o644))
			return dir
		}, "huge.png: image header declares 100000x100000 pixels, more than the 67108864-pixel limit"},
		{"corrupt jpeg", func(t *testing.T, dir string) string {
			require.NoError(t, os.MkdirAll(filepath.Join(dir, "a"), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "a", "bad.jpg"), []byte("\xff\xd8\xff garbage"), 0o644))
			return dir
		}, "bad.jpg: corrupt or truncated JPEG"},
		{"unsupported image", func(t *testing.T, dir string) string {
			require.NoError(t, os.MkdirAll(filepath.Join(dir, "a"), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "a", "anim.gif"), []byte("GIF89a"), 0o644))
			return dir
		}, "anim.gif: unsupported image format .gif"},
		{"sniffed unsupported image", func(t *testing.T, dir string) string {
			require.NoError(t, os.MkdirAll(filepath.Join(dir, "a"), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "a", "blob"), []byte("GIF89a......"), 0o644))
			return dir
		}, "blob: unsupported image format image/gif"},
		{"named pipe", func(t *testing.T, dir string) string {
			writePNG(t, filepath.Join(dir, "a", "1.png"), grey(2, 2, 0))
			require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "a", "2.png"), 0o644))
			return dir
		}, "a/2.png is a named pipe (FIFO), not a regular file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := c.setup(t, t.TempDir())
			_, err := LoadFolder(p, 4, 1)
			require.Error(t, err)
			require.Contains(t, err.Error(), c.want)
		})
	}
}

func TestLoadFolderBadArguments(t *testing.T) {
	dir := t.TempDir()
	writePNG(t, filepath.Join(dir, "a", "1.png"), grey(2, 2, 0))
	cases := []struct {
		name           string
		size, channels int
		want           string
	}{
		{"size", 0, 1, "size 0"},
		{"channels", 4, 2, "2 channels"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := LoadFolder(dir, c.size, c.channels)
			require.ErrorContains(t, err, c.want)
		})
	}
}

func TestLoadFolderSniffsExtensionlessPNG(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, grey(2, 2, 255)))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "a"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a", "img"), buf.Bytes(), 0o644))
	d, err := LoadFolder(dir, 2, 1)
	require.NoError(t, err)
	require.Equal(t, 1, d.Len())
	require.InDeltaSlice(t, []float32{1, 1, 1, 1}, d.Image(0), 1e-6)
}
