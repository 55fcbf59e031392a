package reproduce

import (
	"fmt"

	"sargo/sar/preset"
	"sargo/sar/train"
)

// Protocol is one complete reproduction configuration.
type Protocol struct {
	Name string `json:"name"`
	// Preset holds the tokenizer, the transformer and the base training
	// configuration (its method, steps and epochs are set per run).
	Preset preset.Preset `json:"preset"`
	// TrainImages uses the first TrainImages training images (0: all); an
	// epoch is one pass over them.
	TrainImages int `json:"train_images"`
	// Epochs is N, PostEpochs is k: SAR post-training runs for the last k
	// of the N epochs from TF's checkpoint at N − k.
	Epochs     int `json:"epochs"`
	PostEpochs int `json:"post_epochs"`
	// EvalEvery is the evaluation period in epochs (checkpoints are saved
	// at that period).
	EvalEvery int `json:"eval_every"`
	// EvalN samples per evaluation, generated in batches of EvalBatch.
	EvalN     int `json:"eval_n"`
	EvalBatch int `json:"eval_batch"`
	// ClassifierSteps trains the feature classifier (batch 64).
	ClassifierSteps int `json:"classifier_steps"`
	// TokenizerImages is the number of test images the tokenizer metrics
	// use.
	TokenizerImages int `json:"tokenizer_images"`
	// Methods lists the runs to make, in order (default all four).
	Methods []string `json:"methods,omitempty"`
}

// The runs of the protocol, by name.
const (
	RunTF    = "tf"     // teacher forcing from scratch, N epochs
	RunSAR   = "sar"    // SAR from scratch, N epochs
	RunTFSAR = "tf_sar" // SAR for k epochs from TF's checkpoint at N − k
	RunSF    = "sf"     // naive student forcing from scratch, N epochs
)

// AllRuns is the default order: the post-training comparison first, so
// that an interrupted reproduction has it.
var AllRuns = []string{RunTF, RunTFSAR, RunSAR, RunSF}

// Label is the name of a run in tables and legends.
func Label(run string) string {
	switch run {
	case RunTF:
		return "TF (FlexVAR)"
	case RunSAR:
		return "SAR (from scratch)"
	case RunTFSAR:
		return "SAR (init TF)"
	case RunSF:
		return "naive SF"
	}
	return run
}

// Names lists the protocols Get knows.
func Names() []string { return []string{"tiny", "mini", "gpu"} }

// Get returns a named protocol:
//
//   - tiny: tests, about a minute on a CPU.
//   - mini: MNIST on a 2-core CPU well within an hour (about 20 minutes
//     on two idle cores): a tokenizer of base width 16 (CVae 8, 256
//     codes, 250 steps of 16), a 2-block transformer of width 128, N = 4
//     epochs of 1,280 images (40 steps of 32 each), k = 1, 250 samples
//     per evaluation.
//   - gpu: MNIST on one large GPU: the small preset's sizes, 60,000
//     images, N = 10, k = 2, 10,000 samples per evaluation.
func Get(name string) (Protocol, error) {
	switch name {
	case "tiny":
		p, err := preset.Get("tiny")
		if err != nil {
			return Protocol{}, err
		}
		p.TokenizerTrain.Steps, p.TokenizerTrain.LogEvery, p.TokenizerTrain.SaveEvery = 20, 10, 0
		p.Model.Depth, p.Model.Width, p.Model.Heads = 1, 32, 2
		setTrain(&p.Train, 8, 1e-3)
		return Protocol{Name: name, Preset: p, TrainImages: 32, Epochs: 3, PostEpochs: 1, EvalEvery: 1,
			EvalN: 20, EvalBatch: 20, ClassifierSteps: 20, TokenizerImages: 20}, nil
	case "mini":
		p, err := preset.Get("small")
		if err != nil {
			return Protocol{}, err
		}
		p.Tokenizer.Base, p.Tokenizer.CVae, p.Tokenizer.Codebook = 16, 8, 256
		tt := &p.TokenizerTrain
		tt.Steps, tt.Batch, tt.LR, tt.Warmup, tt.LogEvery, tt.SaveEvery = 250, 16, 2e-3, 25, 25, 0
		p.Model.Depth, p.Model.Width, p.Model.Heads = 2, 128, 4
		p.Model.Vocab, p.Model.CVae = p.Tokenizer.Codebook, p.Tokenizer.CVae
		setTrain(&p.Train, 32, 1e-3)
		return Protocol{Name: name, Preset: p, TrainImages: 1280, Epochs: 4, PostEpochs: 1, EvalEvery: 1,
			EvalN: 250, EvalBatch: 250, ClassifierSteps: 400, TokenizerImages: 250}, nil
	case "gpu":
		p, err := preset.Get("small")
		if err != nil {
			return Protocol{}, err
		}
		p.TokenizerTrain.Steps = 3000
		setTrain(&p.Train, 64, 5e-4)
		return Protocol{Name: name, Preset: p, Epochs: 10, PostEpochs: 2, EvalEvery: 1,
			EvalN: 10000, EvalBatch: 500, ClassifierSteps: 2000, TokenizerImages: 2000}, nil
	}
	return Protocol{}, fmt.Errorf("protocol %q: unknown, want one of %v", name, Names())
}

// setTrain sets the batch and peak learning rate and the logging of a
// reproduction run.
func setTrain(t *train.Config, batch int, lr float64) {
	t.Batch, t.LR, t.LogEvery, t.SampleEvery = batch, lr, 10, 0
}

// Validate checks the protocol.
func (p Protocol) Validate() error {
	switch {
	case p.Epochs < 1 || p.Epochs > train.MaxSteps:
		return fmt.Errorf("protocol %s: epochs %d, want 1 to %d", p.Name, p.Epochs, train.MaxSteps)
	case p.PostEpochs < 1 || p.PostEpochs >= p.Epochs:
		return fmt.Errorf("protocol %s: post epochs %d, want in [1, %d)", p.Name, p.PostEpochs, p.Epochs)
	case p.EvalEvery < 1:
		return fmt.Errorf("protocol %s: eval every %d epochs, want >= 1", p.Name, p.EvalEvery)
	case (p.Epochs-p.PostEpochs)%p.EvalEvery != 0:
		return fmt.Errorf("protocol %s: N − k = %d must be a multiple of eval_every %d (TF's checkpoint there seeds SAR)", p.Name, p.Epochs-p.PostEpochs, p.EvalEvery)
	case p.EvalN < 4 || p.EvalBatch < 1:
		return fmt.Errorf("protocol %s: eval n %d, batch %d", p.Name, p.EvalN, p.EvalBatch)
	case p.ClassifierSteps < 1:
		return fmt.Errorf("protocol %s: classifier steps %d", p.Name, p.ClassifierSteps)
	}
	for _, m := range p.Methods {
		switch m {
		case RunTF, RunSAR, RunTFSAR, RunSF:
		default:
			return fmt.Errorf("protocol %s: run %q, want one of %v", p.Name, m, AllRuns)
		}
	}
	return p.Preset.Validate()
}

// runs is the list of runs to make.
func (p Protocol) runs() []string {
	if len(p.Methods) == 0 {
		return AllRuns
	}
	return p.Methods
}
