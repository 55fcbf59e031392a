package viz

import (
	"fmt"
	"math"

	"sargo/sar/imgio"
	"sargo/tensor"
)

// rows splits images [B, C, H, W] into B host slices of C·H·W values.
func rows(images *tensor.Tensor) ([][]float32, error) {
	d, err := images.Read()
	if err != nil {
		return nil, fmt.Errorf("read images: %w", err)
	}
	sh := images.Shape()
	if len(sh) != 4 {
		return nil, fmt.Errorf("images %v, want [B, C, H, W]", sh)
	}
	per := sh[1] * sh[2] * sh[3]
	out := make([][]float32, sh[0])
	for i := range out {
		out[i] = d[i*per : (i+1)*per]
	}
	return out, nil
}

// heat maps a map [h·w] of non-negative values to a C×H×W image in
// [-1, 1] (0 black, vmax white), nearest-upsampled from h×w to H×W.
func heat(m []float64, h, w, c, hh, ww int, vmax float64) []float32 {
	out := make([]float32, c*hh*ww)
	if vmax <= 0 {
		vmax = 1
	}
	for y := range hh {
		for x := range ww {
			v := m[(y*h/hh)*w+x*w/ww] / vmax
			v = math.Min(1, math.Max(0, v))
			for ch := range c {
				out[(ch*hh+y)*ww+x] = float32(2*v - 1)
			}
		}
	}
	return out
}

// newGrid is a captioned grid of C×H×W cells.
func newGrid(c, h, w, cols, scale int) *imgio.Grid {
	return &imgio.Grid{C: c, H: h, W: w, Cols: cols, Scale: scale, Captions: []string{}}
}

// add appends one cell with its caption.
func add(g *imgio.Grid, img []float32, caption string) {
	g.Images = append(g.Images, img)
	g.Captions = append(g.Captions, caption)
}
