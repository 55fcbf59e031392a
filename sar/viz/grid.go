package viz

import (
	"fmt"
	"strconv"

	"sargo/sar"
	"sargo/sar/imgio"
	"sargo/sar/sample"
	"sargo/sar/tokenizer"
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
		res, err := sample.Generate(m, vq, part, o, nil)
		if err != nil {
			return fmt.Errorf("sample grid: %w", err)
		}
		imgs, err := rows(res.Images)
		if err != nil {
			return fmt.Errorf("sample grid: %w", err)
		}
		if g == nil {
			sh := res.Images.Shape()
			g = newGrid(sh[1], sh[2], sh[3], perClass, scale)
		}
		for i, l := range part {
			add(g, imgs[i], strconv.Itoa(l))
		}
		res.Images.Release()
		for k := range res.IDs {
			res.IDs[k].Release()
			res.Z[k].Release()
		}
	}
	if err := g.Save(path); err != nil {
		return fmt.Errorf("sample grid: %w", err)
	}
	return nil
}
