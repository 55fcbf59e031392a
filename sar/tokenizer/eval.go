package tokenizer

import (
	"fmt"

	"sargo/autograd"
	"sargo/sar/data"
	"sargo/tensor"
)

// Reconstruct encodes x [B, C, H, W], quantizes the latent at scale s and
// decodes it, without gradient: the image the tokenizer keeps of x at that
// scale. Only the result outlives the call.
func (m *VQ) Reconstruct(x *tensor.Tensor, s int) *tensor.Tensor {
	sc := tensor.NewScope(m.dev)
	defer sc.Close()
	var g *autograd.Graph
	y := m.Decode(g, m.Quantize(g, m.Encode(g, autograd.Const(x)), s).Z).Value
	sc.Keep(y)
	return y
}

// Evaluate is the mean reconstruction loss, mean|x̂−x| + mean((x̂−x)²), of
// the first n images of ds (all when n <= 0) at scale s, in batches of
// batch, without gradient. It reads one value back from the device.
func Evaluate(m *VQ, ds *data.Dataset, s, n, batch int) (float64, error) {
	if n <= 0 || n > ds.Len() {
		n = ds.Len()
	}
	if n == 0 || batch < 1 {
		return 0, fmt.Errorf("tokenizer evaluate: %d images of %s in batches of %d", n, ds.Name, batch)
	}
	mc := m.Cfg
	if ds.C != mc.ImageChannels || ds.H != mc.ImageSize || ds.W != mc.ImageSize {
		return 0, fmt.Errorf("tokenizer evaluate: dataset %s images are %dx%dx%d, tokenizer wants %dx%dx%d",
			ds.Name, ds.C, ds.H, ds.W, mc.ImageChannels, mc.ImageSize, mc.ImageSize)
	}
	var g *autograd.Graph
	sc := tensor.NewScope(m.dev)
	defer sc.Close()
	total := tensor.Scalar(m.dev, 0)
	for lo := 0; lo < n; lo += batch {
		bs := tensor.NewScope(m.dev) // one batch
		hi := min(lo+batch, n)
		idx := make([]int, hi-lo)
		for i := range idx {
			idx[i] = lo + i
		}
		xs, _ := ds.Batch(idx, nil)
		x := tensor.FromSlice(m.dev, xs, len(idx), mc.ImageChannels, mc.ImageSize, mc.ImageSize)
		y := m.Reconstruct(x, s)
		l := reconLoss(g, autograd.Const(y), autograd.Const(x)).Value
		tensor.AddInto(total, tensor.Scale(l, float32(len(idx))/float32(n)))
		bs.Close()
	}
	v, err := total.Read()
	if err != nil {
		return 0, fmt.Errorf("tokenizer evaluate: read loss: %w", err)
	}
	return float64(v[0]), nil
}
