package reproduce

import (
	"fmt"
	"os"
	"path/filepath"

	"sargo/sar"
	"sargo/sar/eval"
	"sargo/sar/sample"
	"sargo/sar/schedule"
	"sargo/sar/train"
	"sargo/sar/viz"
	"sargo/tensor"
)

// The figure files of a report.
const (
	FigCurves   = "fig1_curves.png"
	FigTradeoff = "fig2_tradeoff.png"
	FigProcess  = "fig3_process.png"
	FigGrid     = "fig4_grid.png"
	FigSF       = "fig5_sf_inputs.png"
)

// results are the evaluations of every finished run.
type results struct {
	runs    []string
	history map[string][]eval.Point
	models  map[string]*sar.Model
	sf      map[string]*viz.SFResult
}

// load reads the histories and final models of the runs that exist.
func (s *state) load() (*results, error) {
	r := &results{history: map[string][]eval.Point{}, models: map[string]*sar.Model{}, sf: map[string]*viz.SFResult{}}
	for _, run := range s.p.runs() {
		ps, err := eval.ReadHistory(filepath.Join(s.runDir(run), eval.HistoryFile))
		if err != nil {
			if os.IsNotExist(err) || errorIsNotExist(err) {
				continue
			}
			return nil, err
		}
		m, _, err := sar.LoadModel(filepath.Join(s.runDir(run), train.CheckpointFile), s.env.Dev)
		if err != nil {
			return nil, err
		}
		r.runs = append(r.runs, run)
		r.history[run], r.models[run] = ps, m
	}
	return r, nil
}

// errorIsNotExist reports whether err wraps a missing file.
func errorIsNotExist(err error) bool {
	for e := err; e != nil; {
		if os.IsNotExist(e) {
			return true
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		e = u.Unwrap()
	}
	return false
}

// sarRun is the run shown as "SAR" in the process and grid figures:
// post-training when present, else SAR from scratch.
func (r *results) sarRun() string {
	for _, run := range []string{RunTFSAR, RunSAR} {
		if r.models[run] != nil {
			return run
		}
	}
	return ""
}

// figures draws the five figures into the output folder.
func (s *state) figures(r *results) error {
	fs := tensor.NewScope(s.env.Dev) // the test images drawn below
	defer fs.Close()
	var series []viz.Series
	var bubbles []viz.Bubble
	for _, run := range r.runs {
		sr := viz.Series{Name: Label(run)}
		for _, p := range r.history[run] {
			sr.X, sr.Y = append(sr.X, p.Epoch), append(sr.Y, p.FID)
		}
		series = append(series, sr)
		last := r.history[run][len(r.history[run])-1]
		bubbles = append(bubbles, viz.Bubble{Name: Label(run), ImagesPerS: last.ImagesPerS, FID: last.FID, Params: last.Params})
	}
	if len(series) == 0 {
		return fmt.Errorf("figures: no evaluated run")
	}
	title := fmt.Sprintf("Training dynamics (%s, %s protocol)", s.train.Name, s.p.Name)
	if err := viz.Curves(filepath.Join(s.out, FigCurves), title, "epoch", "FID ("+eval.FeatureName+")", series, 7, 4.5); err != nil {
		return err
	}
	if err := viz.Tradeoff(filepath.Join(s.out, FigTradeoff), "Throughput-FID trade-off (final checkpoints)", bubbles, 7, 4.5); err != nil {
		return err
	}
	sc := schedule.VARList(s.vq.Cfg.Latent())
	classes := len(s.test.Classes)
	x, labels := s.testBatch(min(4, classes))
	var named []viz.NamedModel
	if sr := r.sarRun(); sr != "" {
		named = append(named, viz.NamedModel{Name: "SAR", Model: r.models[sr]})
	}
	if m := r.models[RunTF]; m != nil {
		named = append(named, viz.NamedModel{Name: "TF", Model: m})
	}
	so := sample.Options{CFG: 1.5, Seed: 7}
	if len(named) > 0 && len(sc) > 2 {
		po := viz.ProcessOptions{Schedule: sc, Keep: 2, Sampling: so, Scale: 2}
		if err := viz.Process(filepath.Join(s.out, FigProcess), named, s.vq, x, labels, po); err != nil {
			return err
		}
	}
	so.Schedule = sc
	for _, run := range r.runs {
		name := fmt.Sprintf("grid_%s.png", run)
		if run == r.sarRun() {
			name = FigGrid
		}
		if err := viz.SampleGrid(filepath.Join(s.out, name), r.models[run], s.vq, 8, so, 2); err != nil {
			return err
		}
	}
	if len(sc) >= 4 {
		xs, ls := s.testBatch(2)
		for _, run := range r.runs {
			name := fmt.Sprintf("sf_inputs_%s.png", run)
			if run == r.sarRun() {
				name = FigSF
			}
			res, err := viz.SFInputs(filepath.Join(s.out, name), r.models[run], s.vq, xs, ls, sc, viz.RolloutChained, 2)
			if err != nil {
				return err
			}
			r.sf[run] = res
		}
	}
	return nil
}

// testBatch is n test images, one per class in turn, with their labels.
func (s *state) testBatch(n int) (*tensor.Tensor, []int) {
	var idx []int
	used := map[int]bool{}
	for c := 0; len(idx) < n; c++ {
		want := c % len(s.test.Classes)
		for i, l := range s.test.Labels {
			if l == want && !used[i] {
				idx, used[i] = append(idx, i), true
				break
			}
		}
		if c > 10*n {
			break
		}
	}
	xs, ys := s.test.Batch(idx, nil)
	return tensor.FromSlice(s.env.Dev, xs, len(idx), s.test.C, s.test.H, s.test.W), ys
}
