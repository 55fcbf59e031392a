package tokenizer

import "fmt"

// presetNames lists the presets Preset knows, smallest first.
func presetNames() []string { return []string{"tiny", "small", "paper", "flexvae"} }

// Preset returns the tokenizer and training configuration named name:
//
//   - tiny: for tests, seconds on a CPU (Base 16, 1 ResBlock, CVae 8,
//     64 codes, 32-px grey images downsampled 4×).
//   - small: the MNIST default for a laptop-class CPU (Base 32, CVae 16,
//     512 codes, 32-px images to an 8×8 latent; 1500 steps of 32 images,
//     about 0.8 epoch).
//   - paper: the paper's setting (256-px RGB images downsampled 16× to a
//     16×16 latent, CVae 32, 4096 codes).
//   - flexvae: FlexVAR's released tokenizer (FlexVAE), VQ-16 with 8912
//     codes; its training settings are those of paper (the authors did
//     not release theirs).
func Preset(name string) (Config, TrainConfig, error) {
	switch name {
	case "tiny":
		return Config{ImageChannels: 1, ImageSize: 32, Downsample: 4, Base: 16, ResBlocks: 1, CVae: 8, Codebook: 64, Beta: 0.25},
			TrainConfig{Steps: 60, Batch: 16, LR: 2e-3, MinLRFrac: 0.1, Warmup: 5, ClipNorm: 1, LogEvery: 10, UsageWindow: 20}, nil
	case "small":
		return Config{ImageChannels: 1, ImageSize: 32, Downsample: 4, Base: 32, ResBlocks: 1, CVae: 16, Codebook: 512, Beta: 0.25},
			TrainConfig{Steps: 1500, Batch: 32, LR: 1e-3, MinLRFrac: 0.05, Warmup: 100, ClipNorm: 1, LogEvery: 50, SaveEvery: 500, UsageWindow: 100}, nil
	case "paper":
		return Config{ImageChannels: 3, ImageSize: 256, Downsample: 16, Base: 128, ResBlocks: 2, CVae: 32, Codebook: 4096, Beta: 0.25},
			TrainConfig{Epochs: 40, Batch: 128, LR: 1e-4, MinLRFrac: 0.1, Warmup: 1000, WeightDecay: 0.05, ClipNorm: 1, LogEvery: 100, SaveEvery: 5000, UsageWindow: 200}, nil
	case "flexvae":
		_, tc, _ := Preset("paper")
		return FlexVAE(), tc, nil
	}
	return Config{}, TrainConfig{}, fmt.Errorf("tokenizer preset %q: unknown, want one of %v", name, presetNames())
}
