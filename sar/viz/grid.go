package viz

import (
	"fmt"
	"strconv"

	"sargo/sar"
	"sargo/sar/imgio"
	"sargo/sar/sample"
	"sargo/sar/tokenizer"
	"sargo/tensor"
)

// gridBatch bounds the samples SampleGrid generates at once (the KV cache
// grows with the batch).
const gridBatch = 250

// SampleGrid draws perClass samples of every class with opt, one row per
// class captioned with the class, and saves the grid (the seed's
// Figure 4). Up to 250 samples are drawn in one batch with opt.Seed;
// larger grids are drawn in batches of 250, the i-th with seed
// opt.Seed + i.
func SampleGrid(path string, m *sar.Model, vq *tokenizer.VQ, perClass int, opt sample.Options, scale int) error {
	if perClass < 1 {
		return fmt.Errorf("sample grid: %d samples per class", perClass)
	}
	var labels []int
	for c := range m.Cfg.NumClasses {
		for range perClass {
			labels = append(labels, c)
		}
	}
	var g *imgio.Grid
	for lo := 0; lo < len(labels); lo += gridBatch {
		part := labels[lo:min(lo+gridBatch, len(labels))]
		o := opt
		o.Seed += uint64(lo / gridBatch)
		imgs, sh, err := generateRows(m, vq, part, o)
		if err != nil {
			return fmt.Errorf("sample grid: %w", err)
		}
		if g == nil {
			g = newGrid(sh[1], sh[2], sh[3], perClass, scale)
		}
		for i, l := range part {
			add(g, imgs[i], strconv.Itoa(l))
		}
	}
	if err := g.Save(path); err != nil {
		return fmt.Errorf("sample grid: %w", err)
	}
	return nil
}

// generateRows samples one image per label and returns them on the host,
// one row each, with the images' shape; nothing stays on the device.
func generateRows(m *sar.Model, vq *tokenizer.VQ, labels []int, opt sample.Options) ([][]float32, []int, error) {
	s := tensor.NewScope(vq.Device())
	defer s.Close()
	res, err := sample.Generate(m, vq, labels, opt, nil)
	if err != nil {
		return nil, nil, err
	}
	imgs, err := rows(res.Images)
	return imgs, res.Images.Shape(), err
}
