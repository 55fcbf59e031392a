package tokenizer

import (
	"fmt"

	"sargo/internal/membudget"
	"sargo/tensor"
)

// Bounds of a Config: far above any tokenizer sargo trains, and low
// enough that every size computed from them fits an int64.
const (
	MaxImageChannels = 4
	MaxImageSize     = 8192
	MaxBase          = 4096
	MaxResBlocks     = 64
	MaxCVae          = 1 << 16
	MaxCodebook      = 1 << 24
	MaxChannelMult   = 64 // VQ-16
	MaxZChannels     = 1 << 16
)

// convParams is the weight count of a k×k convolution with a bias.
func convParams(in, out, k int64) int64 { return in*out*k*k + out }

// resBlockParams is the weight count of an nn.ResBlock: two GroupNorms,
// two 3×3 convolutions, and a 1×1 shortcut when the channels change.
func resBlockParams(in, out int64) int64 {
	n := 2*in + 2*out + convParams(in, out, 3) + convParams(out, out, 3)
	if in != out {
		n += convParams(in, out, 1)
	}
	return n
}

// NumParams is the number of weights New makes for c, computed without
// making them. c must be valid.
func (c Config) NumParams() int64 {
	if c.Arch == ArchVQ16 {
		return c.vq16Params()
	}
	levels := c.levels()
	img, cvae, blocks := int64(c.ImageChannels), int64(c.CVae), int64(c.ResBlocks)
	ch := int64(c.channels(0))
	n := convParams(img, ch, 3) // encoder.conv_in
	for i := range levels {
		out := int64(c.channels(i))
		for range blocks {
			n += resBlockParams(ch, out)
			ch = out
		}
		if i != levels-1 {
			n += convParams(ch, ch, 3) // downsample
		}
	}
	n += midBlocks*resBlockParams(ch, ch) + 2*ch + convParams(ch, cvae, 3) // mid, norm_out, conv_out
	n += int64(c.Codebook) * cvae                                          // quantize.embedding
	ch = int64(c.channels(levels - 1))
	n += convParams(cvae, ch, 3) + midBlocks*resBlockParams(ch, ch) // decoder.conv_in, mid
	for i := levels - 1; i >= 0; i-- {
		out := int64(c.channels(i))
		for range blocks + 1 {
			n += resBlockParams(ch, out)
			ch = out
		}
		if i != 0 {
			n += convParams(ch, ch, 3) // upsample
		}
	}
	return n + 2*ch + convParams(ch, img, 3) // norm_out, conv_out
}

// CheckMemory checks that copies float32 copies of the weights fit the
// memory budget of dev (membudget.ForDevice): 1 to hold the tokenizer, 4
// to train it (weights, gradients and AdamW's two moments). c must be
// valid.
func (c Config) CheckMemory(dev tensor.Backend, copies int64) error {
	b, err := membudget.ForDevice(dev)
	if err != nil {
		return fmt.Errorf("tokenizer: %w", err)
	}
	what := fmt.Sprintf("a tokenizer of %d weights (base %d, %d res blocks, codebook %d, CVae %d)",
		c.NumParams(), c.Base, c.ResBlocks, c.Codebook, c.CVae)
	if copies > 1 {
		what = "training " + what
	}
	if err := b.Check(what, membudget.Product(c.NumParams(), 4, copies)); err != nil {
		return fmt.Errorf("tokenizer: %w", err)
	}
	return nil
}

// attnBlockParams is the weight count of an nn.AttnBlock: a GroupNorm and
// four 1×1 convolutions.
func attnBlockParams(ch int64) int64 { return 2*ch + 4*convParams(ch, ch, 1) }

// vq16Params is NumParams of the VQ-16 architecture (vq16.go).
func (c Config) vq16Params() int64 {
	levels := len(c.ChannelMult)
	img, cvae, z, blocks := int64(c.ImageChannels), int64(c.CVae), int64(c.ZChannels), int64(c.ResBlocks)
	width := func(i int) int64 { return int64(c.Base) * int64(c.ChannelMult[i]) }
	mid := func(ch int64) int64 { return 2*resBlockParams(ch, ch) + attnBlockParams(ch) }
	ch := int64(c.Base)
	n := convParams(img, ch, 3) // encoder.conv_in
	for i := range levels {
		for range blocks {
			n += resBlockParams(ch, width(i))
			ch = width(i)
			if i == levels-1 {
				n += attnBlockParams(ch)
			}
		}
		if i != levels-1 {
			n += convParams(ch, ch, 3) // downsample
		}
	}
	n += mid(ch) + 2*ch + convParams(ch, z, 3) // mid, norm_out, conv_out
	n += convParams(z, cvae, 1) + int64(c.Codebook)*cvae + convParams(cvae, z, 1)
	ch = width(levels - 1)
	n += convParams(z, ch, 3) + mid(ch) // decoder.conv_in, mid
	for i := levels - 1; i >= 0; i-- {
		for range blocks + 1 {
			n += resBlockParams(ch, width(i))
			ch = width(i)
			if i == levels-1 {
				n += attnBlockParams(ch)
			}
		}
		if i != 0 {
			n += convParams(ch, ch, 3) // upsample
		}
	}
	return n + 2*ch + convParams(ch, img, 3) // norm_out, conv_out
}
