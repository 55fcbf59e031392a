package viz

import (
	"fmt"

	"sargo/sar"
	"sargo/sar/sample"
	"sargo/sar/schedule"
	"sargo/sar/tokenizer"
	"sargo/tensor"
)

// NamedModel is a transformer with the name its rows are captioned with.
type NamedModel struct {
	Name  string
	Model *sar.Model
}

// ProcessOptions control Process.
type ProcessOptions struct {
	// Schedule is the generation schedule; its first Keep scales are taken
	// from the real images' tokens (the shared coarse latent), the rest
	// are generated.
	Schedule schedule.Schedule
	Keep     int
	Sampling sample.Options
	Scale    int
}

// Process draws the generation process of several models from the same
// coarse latent of each real image x [B, C, H, W] (the seed's Figure 3):
// for every image, one row per model holding the real image, then the
// decoded latent of every scale from the last given one to the end. All
// models use the same sampling seed and labels.
func Process(path string, models []NamedModel, vq *tokenizer.VQ, x *tensor.Tensor, labels []int, opt ProcessOptions) error {
	sc := opt.Schedule
	if opt.Keep < 1 || opt.Keep >= len(sc) {
		return fmt.Errorf("process: keep %d of schedule %s: want 1 <= keep < %d", opt.Keep, sc, len(sc))
	}
	if len(models) == 0 || len(labels) != x.Dim(0) {
		return fmt.Errorf("process: %d models, %d labels for %d images", len(models), len(labels), x.Dim(0))
	}
	s := tensor.NewScope(vq.Device())
	defer s.Close()
	ids, z := vq.Tokenize(x, sc[:opt.Keep])
	start := &sample.Start{Z: z, IDs: ids}
	realImgs, err := rows(x)
	if err != nil {
		return fmt.Errorf("process: %w", err)
	}
	sh := x.Shape()
	cols := 1 + len(sc) - opt.Keep + 1
	g := newGrid(sh[1], sh[2], sh[3], cols, opt.Scale)
	so := opt.Sampling
	so.Schedule = sc
	perModel := make([][][][]float32, len(models)) // model, scale, image
	for mi, nm := range models {
		imgs, err := processRows(nm.Model, vq, labels, so, start, opt.Keep)
		if err != nil {
			return fmt.Errorf("process: %s: %w", nm.Name, err)
		}
		perModel[mi] = imgs
	}
	for i := range labels {
		for mi, nm := range models {
			add(g, realImgs[i], fmt.Sprintf("%s %d", nm.Name, labels[i]))
			for k, scaleImgs := range perModel[mi] {
				add(g, scaleImgs[i], fmt.Sprintf("S%d", sc[opt.Keep-1+k]))
			}
		}
	}
	if err := g.Save(path); err != nil {
		return fmt.Errorf("process: %w", err)
	}
	return nil
}

// processRows generates from start with one model and decodes the scales
// from keep on, as host images (scale, image); what it makes on the
// device is freed.
func processRows(m *sar.Model, vq *tokenizer.VQ, labels []int, so sample.Options, start *sample.Start, keep int) ([][][]float32, error) {
	s := tensor.NewScope(vq.Device())
	defer s.Close()
	res, err := sample.Generate(m, vq, labels, so, start)
	if err != nil {
		return nil, err
	}
	dec, err := sample.DecodeScales(vq, res.Z[keep-1:])
	if err != nil {
		return nil, err
	}
	var out [][][]float32
	for _, d := range dec {
		r, err := rows(d)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}
