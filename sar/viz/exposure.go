package viz

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// ExposureSeries is one model's exposure bias per scale (eval.Exposure):
// the cross-entropy gaps of its one-step (SSR) and chained rollouts to
// ground-truth inputs, with their standard errors.
type ExposureSeries struct {
	Name               string
	Scales             []int
	GapSSR, GapChained []float64
	SESSR, SEChained   []float64
}

// Exposure draws the exposure bias of several models per scale: x is the
// scale's side, y the cross-entropy gap in nats per token, one colour per
// model, the chained rollout (inference's inputs) as a solid line and the
// one-step rollout (SAR's inputs) dashed, each point with ±1 standard
// error bars. It saves a PNG of width×height inches.
func Exposure(path, title string, series []ExposureSeries, width, height float64) error {
	if len(series) == 0 {
		return errors.New("exposure: no models")
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "scale (latent side)"
	p.Y.Label.Text = "cross-entropy gap to ground-truth inputs (nats/token)"
	p.Legend.Top = true
	p.Legend.Left = true
	lo, hi := 0.0, 0.0
	for i, s := range series {
		n := len(s.Scales)
		for _, v := range [][]float64{s.GapSSR, s.GapChained, s.SESSR, s.SEChained} {
			if len(v) != n {
				return fmt.Errorf("exposure %s: %s has %d scales but %d values", path, s.Name, n, len(v))
			}
		}
		c := palette[i%len(palette)]
		for _, part := range []struct {
			label   string
			gap, se []float64
			dashed  bool
		}{{"chained", s.GapChained, s.SEChained, false}, {"SSR", s.GapSSR, s.SESSR, true}} {
			pts := make(plotter.XYs, n)
			errs := make(plotter.YErrors, n)
			for k := range n {
				pts[k] = plotter.XY{X: float64(s.Scales[k]), Y: part.gap[k]}
				errs[k].Low, errs[k].High = part.se[k], part.se[k]
				lo, hi = math.Min(lo, part.gap[k]-part.se[k]), math.Max(hi, part.gap[k]+part.se[k])
			}
			l, marks, err := plotter.NewLinePoints(pts)
			if err != nil {
				return fmt.Errorf("exposure %s: %s: %w", path, s.Name, err)
			}
			l.Color, l.Width = c, vg.Points(2)
			if part.dashed {
				l.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
			}
			marks.Color, marks.Shape, marks.Radius = c, draw.CircleGlyph{}, vg.Points(2.5)
			bars, err := plotter.NewYErrorBars(struct {
				plotter.XYs
				plotter.YErrors
			}{pts, errs})
			if err != nil {
				return fmt.Errorf("exposure %s: %s: %w", path, s.Name, err)
			}
			bars.Color = c
			p.Add(l, marks, bars)
			p.Legend.Add(fmt.Sprintf("%s, %s", s.Name, part.label), l, marks)
		}
	}
	span := math.Max(hi-lo, 1e-3)
	p.Y.Min, p.Y.Max = lo-0.05*span, hi+(0.1*float64(2*len(series))+0.1)*span
	p.Add(plotter.NewGrid())
	if err := p.Save(vg.Length(width)*vg.Inch, vg.Length(height)*vg.Inch, path); err != nil {
		return fmt.Errorf("exposure %s: %w", path, err)
	}
	return nil
}
