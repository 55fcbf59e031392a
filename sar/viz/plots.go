package viz

import (
	"errors"
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// palette colours series in order.
var palette = []color.RGBA{
	{R: 31, G: 119, B: 180, A: 255}, {R: 214, G: 39, B: 40, A: 255}, {R: 44, G: 160, B: 44, A: 255},
	{R: 148, G: 103, B: 189, A: 255}, {R: 255, G: 127, B: 14, A: 255}, {R: 140, G: 86, B: 75, A: 255},
}

// Series is one curve: Y against X, named in the legend.
type Series struct {
	Name string
	X, Y []float64
}

// Curves draws the series as lines with point markers (the seed's
// Figure 1 when X is the epoch and Y the FID) and saves a PNG of
// width×height inches.
func Curves(path, title, xLabel, yLabel string, series []Series, width, height float64) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.Legend.Top = true
	n := 0
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, s := range series {
		if len(s.X) != len(s.Y) {
			return fmt.Errorf("curves %s: series %s has %d x and %d y values", path, s.Name, len(s.X), len(s.Y))
		}
		if len(s.X) == 0 {
			continue
		}
		xy := make(plotter.XYs, len(s.X))
		for k := range s.X {
			xy[k] = plotter.XY{X: s.X[k], Y: s.Y[k]}
		}
		l, pts, err := plotter.NewLinePoints(xy)
		if err != nil {
			return fmt.Errorf("curves %s: series %s: %w", path, s.Name, err)
		}
		c := palette[i%len(palette)]
		l.Color, l.Width = c, vg.Points(2)
		pts.Color, pts.Shape, pts.Radius = c, draw.CircleGlyph{}, vg.Points(3)
		p.Add(l, pts)
		p.Legend.Add(s.Name, l, pts)
		for _, y := range s.Y {
			lo, hi = math.Min(lo, y), math.Max(hi, y)
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("curves %s: no points to draw", path)
	}
	// Head room for the legend above the curves.
	span := math.Max(hi-lo, 1e-3*math.Max(1, math.Abs(hi)))
	p.Y.Min, p.Y.Max = lo-0.05*span, hi+(0.12*float64(n)+0.1)*span
	p.Add(plotter.NewGrid())
	if err := p.Save(vg.Length(width)*vg.Inch, vg.Length(height)*vg.Inch, path); err != nil {
		return fmt.Errorf("curves %s: %w", path, err)
	}
	return nil
}

// Bubble is one model on the trade-off plot.
type Bubble struct {
	Name       string
	ImagesPerS float64
	FID        float64
	Params     int
}

// Tradeoff draws throughput (x) against FID (y) with one bubble per model,
// its area proportional to the parameter count (the seed's Figure 2), and
// saves a PNG.
func Tradeoff(path, title string, bubbles []Bubble, width, height float64) error {
	if len(bubbles) == 0 {
		return errors.New("tradeoff: no models")
	}
	maxP := 0
	for _, b := range bubbles {
		maxP = max(maxP, b.Params)
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "throughput (images/s)"
	p.Y.Label.Text = "FID (sargo classifier), lower is better"
	p.Legend.Top = true
	minX, maxX, minY, maxY := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for i, b := range bubbles {
		s, err := plotter.NewScatter(plotter.XYs{{X: b.ImagesPerS, Y: b.FID}})
		if err != nil {
			return fmt.Errorf("tradeoff %s: %s: %w", path, b.Name, err)
		}
		p0 := palette[i%len(palette)]
		c := color.NRGBA{R: p0.R, G: p0.G, B: p0.B, A: 190}
		r := 6.0
		if maxP > 0 {
			r = 4 + 20*math.Sqrt(float64(b.Params)/float64(maxP))
		}
		s.GlyphStyle = draw.GlyphStyle{Color: c, Radius: vg.Points(r), Shape: draw.CircleGlyph{}}
		p.Add(s)
		// The legend shows a small dot of the bubble's colour.
		key, err := plotter.NewScatter(plotter.XYs{{X: b.ImagesPerS, Y: b.FID}})
		if err != nil {
			return fmt.Errorf("tradeoff %s: %s: %w", path, b.Name, err)
		}
		key.GlyphStyle = draw.GlyphStyle{Color: c, Radius: vg.Points(4), Shape: draw.CircleGlyph{}}
		p.Legend.Add(fmt.Sprintf("%s (%.2fM params)", b.Name, float64(b.Params)/1e6), key)
		minX, maxX = math.Min(minX, b.ImagesPerS), math.Max(maxX, b.ImagesPerS)
		minY, maxY = math.Min(minY, b.FID), math.Max(maxY, b.FID)
	}
	padX, padY := 0.25*(maxX-minX)+0.1*math.Abs(maxX)+1e-3, 0.25*(maxY-minY)+0.1*math.Abs(maxY)+1e-3
	p.X.Min, p.X.Max = math.Max(0, minX-padX), maxX+padX
	p.Y.Min, p.Y.Max = math.Max(0, minY-padY), maxY+padY+(0.15*float64(len(bubbles)))*(maxY-minY+padY)
	p.Add(plotter.NewGrid())
	if err := p.Save(vg.Length(width)*vg.Inch, vg.Length(height)*vg.Inch, path); err != nil {
		return fmt.Errorf("tradeoff %s: %w", path, err)
	}
	return nil
}
