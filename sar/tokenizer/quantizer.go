package tokenizer

import (
	"sargo/autograd"
	"sargo/nn"
	"sargo/tensor"
)

// l2Eps is the norm floor of L2 normalisation, as PyTorch's F.normalize.
const l2Eps = 1e-12

// quantizer is FlexVAR's L2-normalised codebook. It keeps no statistics:
// the trainer counts usage and restarts dead codes on the device (see
// usage.go), so quantizing never reads device data back to the host.
type quantizer struct {
	Codes, Dim int
	Beta       float32
	// Embedding is the raw codebook [Codes, Dim]; it is normalised on use.
	Embedding *nn.Embedding
}

// newQuantizer draws the codebook U(-1/V, 1/V) and L2-normalises its rows.
func newQuantizer(in *nn.Init, c Config) *quantizer {
	k := float32(c.Codebook)
	s := tensor.NewScope(in.Backend)
	defer s.Close()
	w := in.Uniform(-1/k, 1/k, c.Codebook, c.CVae)
	wn := autograd.NoGrad().L2Normalize(autograd.Const(w), -1, l2Eps).Value
	s.Keep(wn)
	return &quantizer{Codes: c.Codebook, Dim: c.CVae, Beta: c.Beta,
		Embedding: &nn.Embedding{Num: c.Codebook, Dim: c.CVae, Weight: autograd.Param(wn)}}
}

// codebook is the normalised codebook [Codes, Dim] on g.
func (q *quantizer) codebook(g *autograd.Graph) *autograd.Var {
	return g.L2Normalize(q.Embedding.Weight, -1, l2Eps)
}

// forward quantizes h [B, Dim, s, s]. The straight-through output is
// zn + sg(zq − zn) with zn the normalised query, so the encoder receives
// the gradient of zq; the loss is mean((zq − sg(zn))²) +
// Beta·mean((sg(zq) − zn)²).
func (q *quantizer) forward(g *autograd.Graph, h *autograd.Var) Quantized {
	s := h.Shape()
	b, c, hh, ww := s[0], s[1], s[2], s[3]
	zf := g.Reshape(g.Permute(h, 0, 2, 3, 1), -1, c)
	zn := g.L2Normalize(zf, -1, l2Eps)
	cb := q.codebook(g)
	ids := tensor.Argmax(tensor.MatMul(zn.Value, cb.Value, false, true), 1, false)
	zq := g.Embedding(cb, ids)

	var loss *autograd.Var
	if g != nil {
		d1 := g.Sub(zq, zn.Detach())
		d2 := g.Sub(zq.Detach(), zn)
		loss = g.Add(g.Mean(g.Square(d1), false), g.Scale(g.Mean(g.Square(d2), false), q.Beta))
	} else {
		d := g.Sub(zq, zn)
		m := g.Mean(g.Square(d), false)
		loss = g.Scale(m, 1+q.Beta)
	}
	diff := tensor.Sub(zq.Value, zn.Value)
	st := g.Add(zn, autograd.Const(diff))
	z := g.Permute(g.Reshape(st, b, hh, ww, c), 0, 3, 1, 2)
	return Quantized{Z: z, IDs: ids.Reshape(b, hh*ww), Loss: loss}
}

func (q *quantizer) Parameters() []nn.NamedParam {
	var p nn.Params
	// Rows are normalised on use, so decay would only rescale them.
	p.Add("embedding.weight", q.Embedding.Weight, true)
	return p
}
