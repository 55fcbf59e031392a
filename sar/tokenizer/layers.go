package tokenizer

import "sargo/autograd"

// layer is one step of an encoder or a decoder: a block's forward pass.
type layer func(g *autograd.Graph, h *autograd.Var) *autograd.Var

// runLayers applies layers to h in turn. With a graph they are recorded
// as usual. Without one (inference), each layer runs in a scope of its own
// that keeps only its output, and the previous layer's output is released
// once the next one has read it: a decode at full resolution (FlexVAE: 128
// channels of 256×256 per image) then holds one block's activations at a
// time instead of every block's until the caller's scope closes. h itself
// is never released.
func runLayers(g *autograd.Graph, h *autograd.Var, layers ...layer) *autograd.Var {
	if g != nil {
		for _, f := range layers {
			h = f(g, h)
		}
		return h
	}
	in := h
	for _, f := range layers {
		out := autograd.Scoped(h, func(h *autograd.Var) *autograd.Var { return f(nil, h) })
		if h != in && out != h {
			h.Value.Release()
		}
		h = out
	}
	return h
}
