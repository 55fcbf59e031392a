package sar

import (
	"fmt"
	"math"

	"sargo/internal/membudget"
	"sargo/tensor"
)

// Bounds of a Config: far above any model sargo trains, and low enough
// that every size computed from them fits an int64.
const (
	MaxDepth    = 1 << 10
	MaxWidth    = 1 << 16
	MaxMLPRatio = 64
	MaxClasses  = 1 << 24
	MaxVocab    = 1 << 24
	MaxCVae     = 1 << 16
	MaxLargest  = 1 << 12
)

// mlpHidden is the hidden width of every block's MLP (as nn.NewAdaLNBlock
// rounds it).
func (c Config) mlpHidden() int {
	return int(math.Round(float64(c.Width) * float64(c.MLPRatio)))
}

// NumParams is the number of weights NewModel makes for c, computed
// without making them. c must be valid.
func (c Config) NumParams() int64 {
	w, h := int64(c.Width), int64(c.mlpHidden())
	grid := 2 * int64(c.Largest)
	n := int64(c.CVae)*w + w + // word_embed
		int64(c.NumClasses+1)*w + // class_emb
		w + w*grid*grid // pos_start, pos_1LC
	block := 3*w*w + 2*w + // attn.mat_qkv (no bias), q_bias, v_bias
		w*w + w + // attn.proj
		w*h + h + h*w + w + // ffn.fc1, ffn.fc2
		w*6*w + 6*w // ada_lin
	if c.AttnL2 {
		block += int64(c.Heads) // attn.scale_mul_1H11
	}
	n += int64(c.Depth) * block
	n += w*2*w + 2*w + // head_nm.ada_lin
		w*int64(c.Vocab) + int64(c.Vocab) // head
	return n
}

// CheckMemory checks that copies float32 copies of the weights fit the
// memory budget of dev (membudget.ForDevice): 1 to hold the model, 4 to
// train it (weights, gradients and AdamW's two moments). c must be valid.
func (c Config) CheckMemory(dev tensor.Backend, copies int64) error {
	b, err := membudget.ForDevice(dev)
	if err != nil {
		return fmt.Errorf("sar model: %w", err)
	}
	what := fmt.Sprintf("a model of %d weights (depth %d, width %d, %d classes, vocabulary %d, largest scale %d)",
		c.NumParams(), c.Depth, c.Width, c.NumClasses, c.Vocab, c.Largest)
	if copies > 1 {
		what = fmt.Sprintf("training %s with AdamW", what)
	}
	if err := b.Check(what, membudget.Product(c.NumParams(), 4, copies)); err != nil {
		return fmt.Errorf("sar model: %w", err)
	}
	return nil
}
