package tokenizer

import (
	"errors"
	"fmt"
)

// Config sizes a VQ tokenizer.
type Config struct {
	ImageChannels int     `json:"image_channels"` // 1 for MNIST, 3 for RGB folders
	ImageSize     int     `json:"image_size"`     // image side in pixels (32 by default)
	Downsample    int     `json:"downsample"`     // 4, 8 or 16
	Base          int     `json:"base"`           // channels of the first conv stage
	ResBlocks     int     `json:"res_blocks"`     // ResBlocks per resolution
	CVae          int     `json:"cvae"`           // latent channels
	Codebook      int     `json:"codebook"`       // codebook size V
	Beta          float32 `json:"beta"`           // commitment weight (0.25)

	// Arch is the encoder/decoder architecture: "" for sargo's own VQ
	// (channels Base, then 2·Base; no attention; the latent straight out of
	// conv_out), or ArchVQ16 for FlexVAR's VQ-16 (FlexVAE.pth; see
	// vq16.go), which also uses ChannelMult and ZChannels.
	Arch string `json:"arch,omitempty"`
	// ChannelMult (VQ-16) gives the width of level i as Base·ChannelMult[i];
	// it has one entry per level, log2(Downsample) + 1.
	ChannelMult []int `json:"channel_mult,omitempty"`
	// ZChannels (VQ-16) is the width of the encoder's output and the
	// decoder's input, mapped to and from CVae by 1×1 convolutions.
	ZChannels int `json:"z_channels,omitempty"`
}

// ArchVQ16 names FlexVAR's VQ-16 architecture in Config.Arch.
const ArchVQ16 = "vq16"

// Validate reports every invalid field in one error.
func (c Config) Validate() error {
	var errs []error
	bad := func(field string, format string, args ...any) {
		errs = append(errs, fmt.Errorf("tokenizer config: %s: "+format, append([]any{field}, args...)...))
	}
	if c.ImageChannels < 1 || c.ImageChannels > MaxImageChannels {
		bad("ImageChannels", "%d, want 1 to %d", c.ImageChannels, MaxImageChannels)
	}
	switch c.Downsample {
	case 4, 8, 16:
	default:
		bad("Downsample", "%d, want 4, 8 or 16", c.Downsample)
	}
	if c.ImageSize < 1 || c.ImageSize > MaxImageSize {
		bad("ImageSize", "%d, want 1 to %d", c.ImageSize, MaxImageSize)
	} else if c.Downsample > 0 && c.ImageSize%c.Downsample != 0 {
		bad("ImageSize", "%d is not a multiple of Downsample %d", c.ImageSize, c.Downsample)
	}
	if c.Base < 1 || c.Base > MaxBase {
		bad("Base", "%d, want 1 to %d", c.Base, MaxBase)
	}
	if c.ResBlocks < 1 || c.ResBlocks > MaxResBlocks {
		bad("ResBlocks", "%d, want 1 to %d", c.ResBlocks, MaxResBlocks)
	}
	if c.CVae < 1 || c.CVae > MaxCVae {
		bad("CVae", "%d, want 1 to %d", c.CVae, MaxCVae)
	}
	if c.Codebook < 2 || c.Codebook > MaxCodebook {
		bad("Codebook", "%d, want 2 to %d", c.Codebook, MaxCodebook)
	}
	if !(c.Beta >= 0 && c.Beta <= 1e6) {
		bad("Beta", "%g, want a finite value >= 0", c.Beta)
	}
	switch c.Arch {
	case "":
		if len(c.ChannelMult) != 0 || c.ZChannels != 0 {
			bad("Arch", "ChannelMult and ZChannels apply to arch %q only", ArchVQ16)
		}
	case ArchVQ16:
		if n := c.levels(); len(c.ChannelMult) != n {
			bad("ChannelMult", "%v has %d levels, want %d for Downsample %d", c.ChannelMult, len(c.ChannelMult), n, c.Downsample)
		}
		for _, m := range c.ChannelMult {
			if m < 1 || m > MaxChannelMult || (c.Base*m)%vq16Groups != 0 {
				bad("ChannelMult", "%v with Base %d: every multiplier must be 1 to %d and every width Base·m a multiple of %d (GroupNorm groups)",
					c.ChannelMult, c.Base, MaxChannelMult, vq16Groups)
				break
			}
		}
		if c.ZChannels < 1 || c.ZChannels > MaxZChannels {
			bad("ZChannels", "%d, want 1 to %d", c.ZChannels, MaxZChannels)
		}
	default:
		bad("Arch", "%q, want \"\" or %q", c.Arch, ArchVQ16)
	}
	return errors.Join(errs...)
}

// Latent is the side of the full latent, ImageSize / Downsample: the
// largest scale.
func (c Config) Latent() int { return c.ImageSize / c.Downsample }

// levels is the number of resolutions of the encoder and decoder: one per
// halving plus the last, so log2(Downsample) + 1.
func (c Config) levels() int {
	n := 1
	for d := c.Downsample; d > 1; d /= 2 {
		n++
	}
	return n
}

// channels is the width of resolution level i: Base at full resolution,
// 2·Base below it (taming's ch_mult (1, 2, 2, …)).
func (c Config) channels(i int) int {
	if i == 0 {
		return c.Base
	}
	return 2 * c.Base
}
