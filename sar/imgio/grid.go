// Package imgio writes images of the sar pipeline: grids of samples with
// captions as PNG files, written atomically.
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
