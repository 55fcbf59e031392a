package tokenizer

import (
	"encoding/json"
	"fmt"

	"sargo/nn"
	"sargo/tensor"
)

// checkpointConfig is the JSON stored as a tokenizer checkpoint's config:
// the model configuration, under a kind tag that tells tokenizer
// checkpoints from other models'.
type checkpointConfig struct {
	Kind      string `json:"kind"`
	Tokenizer Config `json:"tokenizer"`
}

// checkpointKind tags tokenizer checkpoints.
const checkpointKind = "sar-tokenizer"

// Save writes the weights to path atomically (nn.SaveCheckpoint), with the
// step, RNG offset and optimizer moments of state when given. The
// checkpoint's config metadata always holds the model Config (state's own
// Config is not stored).
func (m *VQ) Save(path string, state *nn.TrainState) error {
	raw, err := json.Marshal(checkpointConfig{Kind: checkpointKind, Tokenizer: m.Cfg})
	if err != nil {
		return fmt.Errorf("tokenizer: save %s: encode config: %w", path, err)
	}
	st := nn.TrainState{}
	if state != nil {
		st = *state
	}
	st.Config = raw
	if err := nn.SaveCheckpoint(path, m.Parameters(), &st); err != nil {
		return fmt.Errorf("tokenizer: %w", err)
	}
	return nil
}

// ReadConfig returns the Config stored in a tokenizer checkpoint, or for
// weights written by another program (FlexVAE.pth, or its safetensors
// conversion) the VQ-16 configuration their shapes imply.
func ReadConfig(path string) (Config, error) {
	if foreign, err := isForeign(path); err == nil && foreign {
		return readForeignConfig(path)
	}
	f, err := nn.ReadSafetensorsFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("tokenizer: %w", err)
	}
	raw, ok := f.Metadata["config"]
	if !ok {
		return Config{}, fmt.Errorf("tokenizer: %s: no config in the metadata (not a tokenizer checkpoint)", path)
	}
	var cc checkpointConfig
	if err := json.Unmarshal([]byte(raw), &cc); err != nil {
		return Config{}, fmt.Errorf("tokenizer: %s: config metadata: %w", path, err)
	}
	if cc.Kind != checkpointKind {
		return Config{}, fmt.Errorf("tokenizer: %s: checkpoint kind %q, want %q", path, cc.Kind, checkpointKind)
	}
	if err := cc.Tokenizer.Validate(); err != nil {
		return Config{}, fmt.Errorf("tokenizer: %s: stored config is invalid: %w", path, err)
	}
	return cc.Tokenizer, nil
}

// Load builds a tokenizer from the config stored in path and loads its
// weights onto dev. The returned state holds the step and RNG offset (its
// Optimizer is nil; the moments in the file are ignored) and the stored
// config JSON. Weights written by another program (FlexVAE.pth, or its
// safetensors conversion) load as VQ-16 with a zero state.
func Load(path string, dev tensor.Backend) (*VQ, *nn.TrainState, error) {
	if foreign, err := isForeign(path); err == nil && foreign {
		m, err := loadForeign(path, dev)
		if err != nil {
			return nil, nil, err
		}
		return m, &nn.TrainState{}, nil
	}
	cfg, err := ReadConfig(path)
	if err != nil {
		return nil, nil, err
	}
	m, err := newVQ(cfg, nn.NewLoadInit(dev))
	if err != nil {
		return nil, nil, fmt.Errorf("tokenizer: load %s: %w", path, err)
	}
	st := &nn.TrainState{}
	if err := nn.LoadCheckpoint(path, m.Parameters(), st); err != nil {
		return nil, nil, fmt.Errorf("tokenizer: %w", err)
	}
	return m, st, nil
}
