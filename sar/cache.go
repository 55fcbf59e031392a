package sar

import (
	"fmt"

	"sargo/autograd"
	"sargo/nn"
	"sargo/sar/schedule"
	"sargo/tensor"
)

// Cache holds the keys and values of every block for inference one scale
// at a time, and the index of the next scale Step expects.
type Cache struct {
	layers []*nn.KVCache
	next   int
}

// NewCache returns an empty cache for m.
func (m *Model) NewCache() *Cache {
	c := &Cache{layers: make([]*nn.KVCache, len(m.Blocks))}
	for i := range c.layers {
		c.layers[i] = &nn.KVCache{}
	}
	return c
}

// Len is the number of tokens cached so far.
func (c *Cache) Len() int { return c.layers[0].Len() }

// Next is the index of the scale the next Step must compute.
func (c *Cache) Next() int { return c.next }

// Reset empties the cache so that it can serve a new generation.
func (c *Cache) Reset() {
	for _, l := range c.layers {
		l.Reset()
	}
	c.next = 0
}

// Step runs the k-th scale of a schedule with the KV cache of the scales
// before it, without gradients: input [B, s_k², CVae] is that scale's
// input features (nil for k = 0, whose tokens are the start tokens). It
// returns the logits [B, s_k², Vocab], equal to the rows of that scale in
// Forward on the same inputs. Steps must come in order k = 0, 1, ...
// with the same labels and schedule. Call it in evaluation mode
// (SetTrain(false)): in training mode drop-path applies.
func (m *Model) Step(c *Cache, labels *tensor.Tensor, scales schedule.Schedule, k int, input *tensor.Tensor) *tensor.Tensor {
	if k != c.next || k >= len(scales) {
		panic(fmt.Sprintf("sar: Step: scale %d of schedule %s, but the cache expects scale %d", k, scales, c.next))
	}
	s := scales[k]
	b := labels.Size()
	var g *autograd.Graph // inference records nothing
	cond := m.ClassEmb.Forward(g, labels.Reshape(-1))
	var x *autograd.Var
	if k == 0 {
		for _, l := range c.layers { // room for the whole schedule, allocated once
			l.Reserve = scales.Tokens()
		}
		if input != nil {
			panic("sar: Step: input given for the first scale")
		}
		x = m.startTokens(g, cond, s*s, false)
	} else {
		if input == nil || input.Rank() != 3 || input.Dim(0) != b || input.Dim(1) != s*s || input.Dim(2) != m.Cfg.CVae {
			panic(fmt.Sprintf("sar: Step: input of scale %d (%d×%d) for %d labels must be [%d, %d, %d]", k, s, s, b, b, s*s, m.Cfg.CVae))
		}
		x = m.WordEmbed.Forward(g, autograd.Const(input))
	}
	x = g.Add(x, m.scalePositions(g, s))
	// The queries of this scale see every cached token: all earlier scales
	// and this one.
	x = m.blocks(g, x, cond, tensor.AttentionMask{}, c.layers)
	c.next++
	return m.Head.Forward(g, m.HeadNm.Forward(g, x, cond)).Value
}
