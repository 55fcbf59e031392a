package preset

import (
	"sargo/sar"
	"sargo/sar/tokenizer"
)

// publishedNames are the presets of the released FlexVAR / SAR models.
func publishedNames() []string { return []string{"d16", "d20", "d24"} }

// published returns the preset of a released model: FlexVAR (and SAR) of
// depth d on ImageNet 256 with the FlexVAE tokenizer (VQ-16, 8912 codes,
// CVae 32, 16×16 latent): width 64·d, d heads, 1000 classes, drop-path
// 0.1·d/24, trained as FlexVAR was (batch 768, peak learning rate
// 1e-4·768/256, or 8e-5·768/256 for d24; 180, 250 or 350 epochs).
func published(name string) (Preset, bool) {
	depth := map[string]int{"d16": 16, "d20": 20, "d24": 24}[name]
	if depth == 0 {
		return Preset{}, false
	}
	tc, tt, _ := tokenizer.Preset("flexvae")
	p := Preset{Name: name, Tokenizer: tc, TokenizerTrain: tt, Train: paperTrain()}
	p.Model = sar.Config{Depth: depth, Width: 64 * depth, Heads: depth, MLPRatio: 4, NumClasses: 1000,
		Vocab: tc.Codebook, CVae: tc.CVae, Largest: tc.Latent(), CondDrop: 0.1,
		DropPath: 0.1 * float32(depth) / 24, AttnL2: true}
	t := &p.Train
	t.Epochs = map[int]int{16: 180, 20: 250, 24: 350}[depth]
	if depth == 24 {
		t.LR = 8e-5 * 768 / 256
	}
	return p, true
}
