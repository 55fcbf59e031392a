// Package imgio writes images of the sar pipeline: grids of samples with
// captions as PNG files, written atomically.
//
// Layering: a leaf of sar; it imports internal utilities only.
package imgio

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"

	"sargo/internal/atomicfile"
	"sargo/internal/membudget"
)

// Grid lays out same-sized images in rows of Cols, each with an optional
// caption drawn above it.
type Grid struct {
	C, H, W  int         // every image's channels (1 or 3) and size
	Cols     int         // images per row
	Scale    int         // pixel replication factor (1 when 0)
	Images   [][]float32 // each C*H*W in [-1, 1], laid out [C, H, W]
	Captions []string    // one per image, or nil
}

const (
	pad      = 2
	glyphW   = 4 // 3 pixels and a space
	glyphH   = 6 // 5 pixels and a space
	captionH = glyphH + 2
)

// maxGridBytes bounds the RGBA image of a grid (16 GiB): a bound on
// sizes, not a memory check (callers check GridBytes against the memory
// they have before sampling the images).
const maxGridBytes = 1 << 34

// GridBytes is the size in bytes of the RGBA image of a grid of n images
// of h×w pixels, cols per row (all in one row when cols <= 0), scaled by
// scale, with captions; -1 when it does not fit an int64.
func GridBytes(n, cols, h, w, scale int) int64 {
	if n <= 0 {
		return 0
	}
	scale = max(scale, 1)
	if cols <= 0 || cols > n {
		cols = n
	}
	rows := (n + cols - 1) / cols
	width := membudget.Sum(membudget.Product(int64(cols), membudget.Sum(membudget.Product(int64(w), int64(scale)), pad)), pad)
	height := membudget.Sum(membudget.Product(int64(rows), membudget.Sum(membudget.Product(int64(h), int64(scale)), pad+captionH)), pad)
	return membudget.Product(width, height, 4)
}

// Image renders the grid.
func (g *Grid) Image() (*image.RGBA, error) {
	if g.C != 1 && g.C != 3 {
		return nil, fmt.Errorf("grid: %d channels, want 1 or 3", g.C)
	}
	if len(g.Images) == 0 {
		return nil, fmt.Errorf("grid: no images")
	}
	if g.Captions != nil && len(g.Captions) != len(g.Images) {
		return nil, fmt.Errorf("grid: %d captions for %d images", len(g.Captions), len(g.Images))
	}
	scale := max(g.Scale, 1)
	cols := max(1, min(g.Cols, len(g.Images)))
	if g.Cols <= 0 {
		cols = len(g.Images)
	}
	rows := (len(g.Images) + cols - 1) / cols
	capH := 0
	if g.Captions != nil {
		capH = captionH
	}
	if n := GridBytes(len(g.Images), cols, g.H, g.W, scale); n < 0 || n > maxGridBytes {
		return nil, fmt.Errorf("grid: %d images of %dx%d at scale %d make more than %d bytes", len(g.Images), g.H, g.W, scale, int64(maxGridBytes))
	}
	cellW, cellH := g.W*scale+pad, g.H*scale+pad+capH
	img := image.NewRGBA(image.Rect(0, 0, cols*cellW+pad, rows*cellH+pad))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	for k, im := range g.Images {
		if len(im) != g.C*g.H*g.W {
			return nil, fmt.Errorf("grid: image %d has %d values, want %d", k, len(im), g.C*g.H*g.W)
		}
		x0, y0 := pad+(k%cols)*cellW, pad+(k/cols)*cellH
		if g.Captions != nil {
			drawText(img, x0, y0+1, g.Captions[k])
		}
		y0 += capH
		for y := 0; y < g.H*scale; y++ {
			for x := 0; x < g.W*scale; x++ {
				var c color.RGBA
				c.A = 255
				px := (y/scale)*g.W + x/scale
				if g.C == 1 {
					v := toByte(im[px])
					c.R, c.G, c.B = v, v, v
				} else {
					c.R = toByte(im[px])
					c.G = toByte(im[g.H*g.W+px])
					c.B = toByte(im[2*g.H*g.W+px])
				}
				img.SetRGBA(x0+x, y0+y, c)
			}
		}
	}
	return img, nil
}

// toByte maps [-1, 1] to [0, 255], clamping.
func toByte(v float32) uint8 {
	f := (v + 1) * 127.5
	switch {
	case f != f || f <= 0: // NaN too
		return 0
	case f >= 255:
		return 255
	}
	return uint8(f + 0.5)
}

// Save renders the grid and writes it as a PNG at path.
func (g *Grid) Save(path string) error {
	img, err := g.Image()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return SavePNG(path, img)
}

// SavePNG encodes img and writes it atomically: to a temporary file in the
// same folder, synced, then renamed over path.
func SavePNG(path string, img image.Image) error {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return WriteFileAtomic(path, buf.Bytes())
}

// WriteFileAtomic creates path's folder if needed and writes data to
// path atomically (see atomicfile.WriteFile), so a crash leaves either
// the old file or the new one.
func WriteFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create folder for %s: %w", path, err)
	}
	return atomicfile.WriteFile(path, data)
}
