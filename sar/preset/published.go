package preset

import (
	"math"

	"sargo/sar"
	"sargo/sar/tokenizer"
)

// imageNetTrain is the number of images of ImageNet-1k's training split.
const imageNetTrain = 1281167

// publishedNames are the presets of the released FlexVAR / SAR models.
func publishedNames() []string { return []string{"d16", "d20", "d24"} }

// published returns the preset of a released model: FlexVAR (and SAR) of
// depth d on ImageNet 256 with the FlexVAE tokenizer (VQ-16, 8912 codes,
// CVae 32, 16×16 latent): width 64·d, d heads, 1000 classes, drop-path
// 0.1·d/24, AdaLN gammas as the authors' scripts initialise them, trained
// as FlexVAR was (batch 768, peak learning rate 1e-4·768/256, or
// 8e-5·768/256 for d24; 180, 250 or 350 epochs with a warm-up of a 50th of
// them; a final rate of 0.1 of the peak, or 0.01 for d24).
func published(name string) (Preset, bool) {
	depth := map[string]int{"d16": 16, "d20": 20, "d24": 24}[name]
	if depth == 0 {
		return Preset{}, false
	}
	tc, tt, _ := tokenizer.Preset("flexvae")
	p := Preset{Name: name, Tokenizer: tc, TokenizerTrain: tt, Train: paperTrain()}
	p.Model = sar.Config{Depth: depth, Width: 64 * depth, Heads: depth, MLPRatio: 4, NumClasses: 1000,
		Vocab: tc.Codebook, CVae: tc.CVae, Largest: tc.Latent(), CondDrop: 0.1,
		DropPath: 0.1 * float32(depth) / 24, AttnL2: true, InitGamma: sar.ScriptInitGamma(depth)}
	t := &p.Train
	t.Epochs = map[int]int{16: 180, 20: 250, 24: 350}[depth]
	t.Warmup = int(math.Round(float64(t.Epochs) / 50 * imageNetTrain / float64(t.Batch)))
	if depth == 24 {
		t.LR, t.LRFloor = 8e-5*768/256, 0.01
	}
	return p, true
}
