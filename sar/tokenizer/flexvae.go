package tokenizer

import (
	"errors"
	"fmt"
	"strconv"

	"sargo/nn"
	"sargo/tensor"
)

// FlexVAE is the configuration of FlexVAR's released tokenizer,
// FlexVAE.pth (LlamaGen's VQ-16 with an 8912-entry codebook of 32-channel
// codes): 256-px RGB images, 16× downsampling to a 16×16 latent, base
// width 128 with channel multipliers (1, 1, 2, 2, 4), two ResBlocks per
// encoder level (three per decoder level), z_channels 256.
func FlexVAE() Config {
	return Config{ImageChannels: 3, ImageSize: 256, Downsample: 16, Base: 128, ResBlocks: 2, CVae: 32,
		Codebook: 8912, Beta: 0.25, Arch: ArchVQ16, ChannelMult: []int{1, 1, 2, 2, 4}, ZChannels: 256}
}

// foreignLatent is the latent side given to a tokenizer whose file does
// not say its image size: FlexVAR's 16×16 latent of 256-px images.
const foreignLatent = 16

// VQ16Marker is a tensor every VQ-16 state dict holds; it locates the
// state dict inside a nested checkpoint ({"model": ...} for FlexVAE.pth).
const VQ16Marker = "quantize.embedding.weight"

// ignoreVQ16Buffer accepts the buffers of the reference VQ model that are
// not parameters: the codebook-usage history.
func ignoreVQ16Buffer(name string) bool { return name == "quantize.codebook_used" }

// isForeign reports whether path holds weights sargo did not write: a
// PyTorch checkpoint, or a safetensors file without sargo's checkpoint
// metadata.
func isForeign(path string) (bool, error) {
	isPth, err := nn.IsPyTorch(path)
	if err != nil || isPth {
		return isPth, err
	}
	f, err := nn.ReadSafetensorsFile(path)
	if err != nil {
		return false, err
	}
	return !nn.IsCheckpoint(f.Metadata), nil
}

// ConfigFromStateDict infers a VQ-16 configuration from the shapes of a
// state dict under the reference's names: image channels and Base from
// encoder.conv_in, the levels and ChannelMult from
// encoder.conv_blocks.i.res.0.conv1, ResBlocks from level 0, ZChannels
// from encoder.conv_out, CVae and Codebook from quant_conv and the
// codebook. The image size is not stored in the weights; it is taken as
// 16 latent positions (256 px for ×16).
func ConfigFromStateDict(sd *nn.StateDict) (Config, error) {
	var errs []error
	shape := func(name string, rank int) []int { return sd.ShapeOfRank(name, rank, &errs) }
	level := func(i int) string { return "encoder.conv_blocks." + strconv.Itoa(i) }
	c := Config{Arch: ArchVQ16, Beta: 0.25}
	in := shape("encoder.conv_in.weight", 4)
	c.Base, c.ImageChannels = in[0], in[1]
	for i := 0; sd.Has(level(i) + ".res.0.conv1.weight"); i++ {
		w := shape(level(i)+".res.0.conv1.weight", 4)
		if c.Base < 1 || w[0]%c.Base != 0 {
			errs = append(errs, fmt.Errorf("%s.res.0.conv1.weight has %d output channels, not a multiple of the base %d", level(i), w[0], c.Base))
			break
		}
		c.ChannelMult = append(c.ChannelMult, w[0]/c.Base)
	}
	for sd.Has(level(0) + ".res." + strconv.Itoa(c.ResBlocks) + ".conv1.weight") {
		c.ResBlocks++
	}
	c.ZChannels = shape("encoder.conv_out.weight", 4)[0]
	c.CVae = shape("quant_conv.weight", 4)[0]
	cb := shape(VQ16Marker, 2)
	c.Codebook = cb[0]
	if cb[1] != c.CVae {
		errs = append(errs, fmt.Errorf("codebook of %d-channel codes, but quant_conv gives %d channels", cb[1], c.CVae))
	}
	c.Downsample = 1 << max(len(c.ChannelMult)-1, 0)
	c.ImageSize = foreignLatent * c.Downsample
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("tokenizer: %s is not a VQ-16 state dict: %w", sd.Path, errors.Join(errs...))
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("tokenizer: %s: inferred configuration: %w", sd.Path, err)
	}
	return c, nil
}

// loadForeign builds a VQ-16 tokenizer from a state dict written by
// PyTorch (FlexVAE.pth, whose weights sit under "model") or converted to
// safetensors, and loads its weights.
func loadForeign(path string, dev tensor.Backend) (*VQ, error) {
	sd, err := nn.OpenStateDict(path, "", VQ16Marker)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	defer sd.Close()
	cfg, err := ConfigFromStateDict(sd)
	if err != nil {
		return nil, err
	}
	m, err := newVQ(cfg, nn.NewLoadInit(dev))
	if err != nil {
		return nil, fmt.Errorf("tokenizer: load %s: %w", path, err)
	}
	if err := sd.Load(m.Parameters(), ignoreVQ16Buffer); err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	return m, nil
}

// readForeignConfig is ConfigFromStateDict of the state dict at path.
func readForeignConfig(path string) (Config, error) {
	sd, err := nn.OpenStateDict(path, "", VQ16Marker)
	if err != nil {
		return Config{}, fmt.Errorf("tokenizer: %w", err)
	}
	defer sd.Close()
	return ConfigFromStateDict(sd)
}
