package main

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"sargo/sar/train"
)

// lossRun is one run's metrics on a loss plot; Offset shifts its steps
// (a post-training run continues its initial run's axis).
type lossRun struct {
	Name    string
	Metrics []train.Metric
	Offset  int
}

// plotLosses draws loss_tf (solid) and, where present, loss_sf and
// loss_csfl (dashed) against step for every run and saves a PNG.
func plotLosses(path, title string, runs []lossRun) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "step"
	p.Y.Label.Text = "cross-entropy"
	p.Legend.Top = true
	colors := []color.RGBA{{R: 31, G: 119, B: 180, A: 255}, {R: 214, G: 39, B: 40, A: 255}, {R: 44, G: 160, B: 44, A: 255}, {R: 148, G: 103, B: 189, A: 255}}
	series := 0
	for i, r := range runs {
		c := colors[i%len(colors)]
		for _, term := range []struct {
			name   string
			dashed bool
			get    func(train.Metric) *float64
		}{
			{"loss_tf", false, func(m train.Metric) *float64 { return m.LossTF }},
			{"loss_sf", false, func(m train.Metric) *float64 { return m.LossSF }},
			{"loss_csfl", true, func(m train.Metric) *float64 { return m.LossCSFL }},
		} {
			var xy plotter.XYs
			for _, m := range r.Metrics {
				if v := term.get(m); v != nil {
					xy = append(xy, plotter.XY{X: float64(m.Step + r.Offset), Y: *v})
				}
			}
			if len(xy) == 0 {
				continue
			}
			l, err := plotter.NewLine(xy)
			if err != nil {
				return fmt.Errorf("plot %s: %s of %s: %w", path, term.name, r.Name, err)
			}
			l.Color = c
			l.Width = vg.Points(1.5)
			if term.dashed {
				l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
			}
			p.Add(l)
			p.Legend.Add(r.Name+" "+term.name, l)
			series++
		}
	}
	if series == 0 {
		return fmt.Errorf("plot %s: no loss values", path)
	}
	p.Add(plotter.NewGrid())
	p.Legend.ThumbnailWidth = vg.Points(24)
	p.Legend.Padding = vg.Points(2)
	if err := p.Save(7*vg.Inch, 4.5*vg.Inch, path); err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	return nil
}
