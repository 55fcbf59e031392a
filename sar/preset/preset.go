// Package preset names complete configurations of the SAR pipeline: the
// tokenizer and its training, the transformer and its training, sized for
// tests (tiny), for a laptop-class CPU on MNIST (small), and for the
// paper's ImageNet setting (paper). A preset is JSON-serialisable, so a
// run can be described by a file and flags can override single fields.
//
// Layering: like every sar package, it never imports a backend, bench or
// cmd.
package preset

import (
	"fmt"

	"sargo/internal/regfile"
	"sargo/internal/strictjson"
	"sargo/sar"
	"sargo/sar/tokenizer"
	"sargo/sar/train"
)

// Preset is one complete configuration.
type Preset struct {
	Name string `json:"name"`
	// Tokenizer and TokenizerTrain are the VQ tokenizer's configuration
	// and training (the tokenizer package's preset of the same name).
	Tokenizer      tokenizer.Config      `json:"tokenizer"`
	TokenizerTrain tokenizer.TrainConfig `json:"tokenizer_train"`
	// Model and Train are the transformer's configuration and training.
	Model sar.Config   `json:"model"`
	Train train.Config `json:"train"`
}

// Names lists the presets, smallest first.
func Names() []string { return append([]string{"tiny", "small", "paper"}, publishedNames()...) }

// Get returns the preset called name:
//
//   - tiny: tests, seconds on a CPU. 32-px grey images, 8×8 latent, 64
//     codes, CVae 8; a 2-block transformer of width 64.
//   - small: the MNIST default on a laptop-class CPU. 32-px images, ×4
//     downsampling to an 8×8 latent (schedule 1,2,3,4,5,6,8: 155 tokens),
//     512 codes, CVae 16; 4 blocks of width 192 (6 heads).
//   - paper: d16 on ImageNet 256: 16×16 latent, 4096 codes, CVae 32;
//     16 blocks of width 1024 (16 heads), batch 768, peak lr 3e-4.
//   - d16, d20, d24: the released FlexVAR / SAR models with the FlexVAE
//     tokenizer (see published).
//
// Every preset initialises the AdaLN gammas as the authors' scripts do
// (sar.ScriptInitGamma) and trains with train.DefaultConfig's schedule
// shape, sampler and teacher.
func Get(name string) (Preset, error) {
	if p, ok := published(name); ok {
		return p, p.Validate()
	}
	if name == "flexvae" {
		return Preset{}, fmt.Errorf("preset %q: unknown, want one of %v", name, Names())
	}
	tc, tt, err := tokenizer.Preset(name)
	if err != nil {
		return Preset{}, fmt.Errorf("preset %q: unknown, want one of %v", name, Names())
	}
	p := Preset{Name: name, Tokenizer: tc, TokenizerTrain: tt, Train: train.DefaultConfig()}
	p.Model = sar.Config{MLPRatio: 4, Vocab: tc.Codebook, CVae: tc.CVae, Largest: tc.Latent(),
		CondDrop: 0.1, AttnL2: true}
	switch name {
	case "tiny":
		p.Model.Depth, p.Model.Width, p.Model.Heads, p.Model.NumClasses = 2, 64, 4, 10
		t := &p.Train
		t.Batch, t.Steps, t.LR, t.Warmup = 16, 100, 1e-3, 10
		t.LogEvery, t.SaveEvery, t.SampleEvery = 10, 0, 0
	case "small":
		p.Model.Depth, p.Model.Width, p.Model.Heads, p.Model.NumClasses = 4, 192, 6, 10
		t := &p.Train
		t.Batch, t.Steps, t.LR, t.Warmup = 32, 2000, 1e-3, 100
		t.LogEvery, t.SaveEvery, t.SampleEvery = 20, 500, 500
	case "paper":
		p.Model.Depth, p.Model.Width, p.Model.Heads, p.Model.NumClasses = 16, 1024, 16, 1000
		// VAR's drop-path rate for depth d is 0.1·d/24.
		p.Model.DropPath = 0.1 * 16 / 24
		p.Train = paperTrain()
	}
	p.Model.InitGamma = sar.ScriptInitGamma(p.Model.Depth)
	return p, p.Validate()
}

// paperTrain is the training of the paper preset: FlexVAR d16's batch 768,
// peak learning rate 3e-4, 180 epochs.
func paperTrain() train.Config {
	t := train.DefaultConfig()
	// Warm-up: FlexVAR's ep/50 = 3.6 epochs of ImageNet-1k at 768.
	t.Batch, t.Steps, t.Epochs, t.LR, t.Warmup = 768, 0, 180, 3e-4, 6000
	t.LogEvery, t.SaveEvery, t.SampleEvery = 100, 5000, 5000
	return t
}

// Validate checks each part and that the transformer matches the
// tokenizer (vocabulary, latent channels, largest scale).
func (p Preset) Validate() error {
	if err := p.Tokenizer.Validate(); err != nil {
		return fmt.Errorf("preset %s: %w", p.Name, err)
	}
	if err := p.Model.Validate(); err != nil {
		return fmt.Errorf("preset %s: %w", p.Name, err)
	}
	if err := p.Train.Validate(); err != nil {
		return fmt.Errorf("preset %s: %w", p.Name, err)
	}
	if err := Match(p.Model, p.Tokenizer); err != nil {
		return fmt.Errorf("preset %s: %w", p.Name, err)
	}
	return nil
}

// Match checks that a transformer configuration fits a tokenizer.
func Match(m sar.Config, t tokenizer.Config) error {
	switch {
	case m.Vocab != t.Codebook:
		return fmt.Errorf("model vocabulary %d does not match the tokenizer codebook %d", m.Vocab, t.Codebook)
	case m.CVae != t.CVae:
		return fmt.Errorf("model CVae %d does not match the tokenizer CVae %d", m.CVae, t.CVae)
	case m.Largest != t.Latent():
		return fmt.Errorf("model largest scale %d does not match the tokenizer latent %d", m.Largest, t.Latent())
	}
	return nil
}

// Load decodes a JSON file over base: fields absent from the file keep
// base's values; unknown fields, anything after the JSON object and a
// path that is not a regular file are errors.
func Load(path string, base Preset) (Preset, error) {
	f, err := regfile.Open(path)
	if err != nil {
		return base, fmt.Errorf("preset: %w", err)
	}
	defer f.Close()
	p := base
	if err := strictjson.Decode(f, &p); err != nil {
		return base, fmt.Errorf("preset file %s: %w", path, err)
	}
	return p, nil
}
