package sar

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"sargo/nn"
	"sargo/nn/pth"
	"sargo/tensor"
)

// Weights of FlexVAR and SAR models written by PyTorch (the authors'
// FlexVARd*.pth and SARd*.pth, whose state dict sits under
// trainer.var_wo_ddp), or such a state dict converted to safetensors. Their
// parameter names and shapes are those of Model.Parameters; the
// configuration is read from the shapes.

// Markers are tensors every FlexVAR state dict holds; they locate it
// inside a nested checkpoint.
func Markers() []string {
	return []string{"class_emb.weight", "blocks.0.attn.mat_qkv.weight", "head.weight"}
}

// IgnoreBuffer accepts the buffers of FlexVAR's state dict that are not
// parameters: the training attention mask and the zero key bias of every
// block's attention (sargo builds both itself).
func IgnoreBuffer(name string) bool {
	return name == "attn_bias_for_masking" || strings.HasSuffix(name, ".attn.zero_k_bias")
}

// isForeign reports whether path holds weights sargo did not write: a
// PyTorch checkpoint, or a safetensors file without sargo's checkpoint
// metadata.
func isForeign(path string) (bool, error) {
	isPth, err := nn.IsPyTorch(path)
	if err != nil || isPth {
		return isPth, err
	}
	meta, err := readMetadata(path)
	if err != nil {
		return false, err
	}
	return !nn.IsCheckpoint(meta), nil
}

// ConfigFromStateDict reads a FlexVAR configuration from the shapes of a
// state dict: Depth from the blocks, Width and CVae from word_embed,
// NumClasses from class_emb (less the null class), Vocab from head, Heads
// from the attention temperature scale_mul_1H11 [1, H, 1, 1], MLPRatio
// from ffn.fc1, Largest from the position grid (half its side). CondDrop
// (0.1) and DropPath (0.1·Depth/24) are FlexVAR's training values.
func ConfigFromStateDict(sd *nn.StateDict) (Config, error) {
	var errs []error
	shape := func(name string, rank int) []int { return sd.ShapeOfRank(name, rank, &errs) }
	c := Config{CondDrop: 0.1, AttnL2: true}
	for sd.Has("blocks." + strconv.Itoa(c.Depth) + ".attn.mat_qkv.weight") {
		c.Depth++
	}
	we := shape("word_embed.weight", 2)
	c.Width, c.CVae = we[0], we[1]
	c.NumClasses = shape("class_emb.weight", 2)[0] - 1
	c.Vocab = shape("head.weight", 2)[0]
	c.Heads = shape("blocks.0.attn.scale_mul_1H11", 4)[1]
	if c.Width > 0 {
		c.MLPRatio = float32(shape("blocks.0.ffn.fc1.weight", 2)[0]) / float32(c.Width)
	}
	grid := shape("pos_1LC", 4)
	if grid[2] != grid[3] || grid[2]%2 != 0 {
		errs = append(errs, fmt.Errorf("position grid pos_1LC %v is not an even square", grid))
	}
	c.Largest = grid[2] / 2
	c.DropPath = 0.1 * float32(c.Depth) / 24
	if c.Depth == 0 {
		errs = append(errs, errors.New("no blocks.0.attn.mat_qkv.weight"))
	}
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("sar: %s is not a FlexVAR state dict: %w", sd.Path, errors.Join(errs...))
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("sar: %s: inferred configuration: %w", sd.Path, err)
	}
	return c, nil
}

// openForeign opens the FlexVAR state dict of a foreign file.
func openForeign(path string) (*nn.StateDict, error) {
	sd, err := nn.OpenStateDict(path, "", Markers()...)
	if err != nil {
		return nil, fmt.Errorf("sar: %w", err)
	}
	return sd, nil
}

// loadForeign builds a model from a foreign file's shapes and loads its
// weights.
func loadForeign(path string, dev tensor.Backend) (*Model, error) {
	sd, err := openForeign(path)
	if err != nil {
		return nil, err
	}
	defer sd.Close()
	cfg, err := ConfigFromStateDict(sd)
	if err != nil {
		return nil, err
	}
	m, err := newModel(cfg, nn.NewLoadInit(dev))
	if err != nil {
		return nil, fmt.Errorf("sar: load %s: %w", path, err)
	}
	if err := sd.Load(m.Parameters(), IgnoreBuffer); err != nil {
		return nil, fmt.Errorf("sar: %w", err)
	}
	return m, nil
}

// LoadWeights loads the weights of the checkpoint at path into m: a
// checkpoint sargo wrote (nn.LoadCheckpoint; its optimizer state is
// ignored), or a FlexVAR / SAR state dict written by PyTorch or converted
// to safetensors, whose shapes must be m's.
func (m *Model) LoadWeights(path string) error {
	foreign, err := isForeign(path)
	if err != nil {
		return fmt.Errorf("sar: load weights %s: %w", path, err)
	}
	if !foreign {
		return nn.LoadCheckpoint(path, m.Parameters(), nil)
	}
	sd, err := openForeign(path)
	if err != nil {
		return err
	}
	defer sd.Close()
	if err := sd.Load(m.Parameters(), IgnoreBuffer); err != nil {
		return fmt.Errorf("sar: %w", err)
	}
	return nil
}

// IsPublished reports whether path holds a FlexVAR / SAR model that sargo
// did not write (a PyTorch checkpoint or a state dict converted from one),
// whose sampling defaults are then the authors'.
func IsPublished(path string) bool {
	foreign, err := isForeign(path)
	return err == nil && foreign
}

// PublishedEpoch returns the "epoch" a PyTorch training checkpoint records
// beside its weights (FlexVAR's and SAR's save the number of epochs done:
// 180 for FlexVARd16-epo179.pth).
func PublishedEpoch(path string) (int, bool) {
	c, err := pth.Open(path)
	if err != nil {
		return 0, false
	}
	defer c.Close()
	v, err := c.Lookup("epoch")
	if err != nil {
		return 0, false
	}
	e, ok := v.(int64)
	if !ok || e < 0 || e > 1<<30 {
		return 0, false
	}
	return int(e), true
}
