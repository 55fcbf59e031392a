package viz

import (
	"fmt"
	"strconv"

	"sargo/sar"
	"sargo/sar/sample"
	"sargo/sar/tokenizer"
	"sargo/tensor"
)

// SampleGrid draws perClass samples of every class with opt, one row per
// class captioned with the class, and saves the grid (the seed's
// Figure 4).
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
	s := tensor.NewScope(vq.Device())
	defer s.Close()
	res, err := sample.Generate(m, vq, labels, opt, nil)
	if err != nil {
		return fmt.Errorf("sample grid: %w", err)
	}
	imgs, err := rows(res.Images)
	if err != nil {
		return fmt.Errorf("sample grid: %w", err)
	}
	sh := res.Images.Shape()
	g := newGrid(sh[1], sh[2], sh[3], perClass, scale)
	for i, l := range labels {
		add(g, imgs[i], strconv.Itoa(l))
	}
	if err := g.Save(path); err != nil {
		return fmt.Errorf("sample grid: %w", err)
	}
	return nil
}
