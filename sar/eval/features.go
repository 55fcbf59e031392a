package eval

import (
	"fmt"

	"sargo/autograd"
	"sargo/sar/data"
	"sargo/tensor"
)

// Embedding is what the classifier makes of a set of images: features
// [N, Dim] and class probabilities [N, Classes], row-major on the host.
type Embedding struct {
	N, Dim, Classes int
	Features        []float32
	Probs           []float32
}

// Embed runs the classifier without gradient over images x [N, C, S, S]
// in batches of batch (all at once when batch <= 0).
func (c *Classifier) Embed(x *tensor.Tensor, batch int) (*Embedding, error) {
	sh := x.Shape()
	if len(sh) != 4 || sh[1] != c.Cfg.Channels || sh[2] != c.Cfg.ImageSize || sh[3] != c.Cfg.ImageSize {
		return nil, fmt.Errorf("classifier embed: images %v, want [N, %d, %d, %d]", sh, c.Cfg.Channels, c.Cfg.ImageSize, c.Cfg.ImageSize)
	}
	n := sh[0]
	if batch <= 0 {
		batch = n
	}
	e := &Embedding{N: n, Dim: c.Cfg.Features, Classes: c.Cfg.Classes}
	for lo := 0; lo < n; lo += batch {
		hi := min(lo+batch, n)
		f, p, err := c.embedBatch(func() *tensor.Tensor { return x.Narrow(0, lo, hi-lo) })
		if err != nil {
			return nil, err
		}
		e.Features = append(e.Features, f...)
		e.Probs = append(e.Probs, p...)
	}
	return e, nil
}

// embedBatch is one no-gradient forward pass over the batch input makes,
// read back to the host; what it makes on the device is freed.
func (c *Classifier) embedBatch(input func() *tensor.Tensor) (features, probs []float32, err error) {
	s := tensor.NewScope(c.dev)
	defer s.Close()
	var g *autograd.Graph
	feat, logits := c.Forward(g, autograd.Const(input()))
	p := tensor.Softmax(logits.Value, false)
	if features, err = feat.Value.Read(); err != nil {
		return nil, nil, fmt.Errorf("classifier features: %w", err)
	}
	if probs, err = p.Read(); err != nil {
		return nil, nil, fmt.Errorf("classifier probabilities: %w", err)
	}
	return features, probs, nil
}

// EmbedDataset embeds the first n images of ds (all when n <= 0) and
// returns their labels too.
func (c *Classifier) EmbedDataset(ds *data.Dataset, n, batch int) (*Embedding, []int, error) {
	if n <= 0 || n > ds.Len() {
		n = ds.Len()
	}
	if batch <= 0 {
		batch = 256
	}
	out := &Embedding{Dim: c.Cfg.Features, Classes: c.Cfg.Classes}
	var labels []int
	for lo := 0; lo < n; lo += batch {
		var ys []int
		f, p, err := c.embedBatch(func() *tensor.Tensor {
			x, l := imageRange(c.dev, ds, lo, min(lo+batch, n))
			ys = l
			return x
		})
		if err != nil {
			return nil, nil, err
		}
		out.Features = append(out.Features, f...)
		out.Probs = append(out.Probs, p...)
		labels = append(labels, ys...)
	}
	out.N = n
	return out, labels, nil
}

// imageRange is images [lo, hi) of ds on dev [hi−lo, C, H, W], with their
// labels.
func imageRange(dev tensor.Backend, ds *data.Dataset, lo, hi int) (*tensor.Tensor, []int) {
	idx := make([]int, hi-lo)
	for i := range idx {
		idx[i] = lo + i
	}
	xs, ys := ds.Batch(idx, nil)
	return tensor.FromSlice(dev, xs, len(idx), ds.C, ds.H, ds.W), ys
}
