package sar

import (
	"encoding/json"
	"fmt"
	"strconv"

	"sargo/nn"
	"sargo/tensor"
)

// configKey is the key of the model configuration inside the checkpoint's
// config JSON object.
const configKey = "model"

// Save writes the model's weights and state (may be nil) to path
// atomically (nn.SaveCheckpoint). The model configuration is stored under
// the key "model" of the checkpoint's config JSON object; other keys of
// state.Config (which must then be a JSON object) are kept. state is not
// modified.
func (m *Model) Save(path string, state *nn.TrainState) error {
	st := nn.TrainState{}
	if state != nil {
		st = *state
	}
	obj := map[string]json.RawMessage{}
	if len(st.Config) > 0 {
		if err := json.Unmarshal(st.Config, &obj); err != nil {
			return fmt.Errorf("save sar model %s: state config is not a JSON object: %w", path, err)
		}
	}
	cfg, err := json.Marshal(m.Cfg)
	if err != nil {
		return fmt.Errorf("save sar model %s: %w", path, err)
	}
	obj[configKey] = cfg
	if st.Config, err = json.Marshal(obj); err != nil {
		return fmt.Errorf("save sar model %s: %w", path, err)
	}
	if err := nn.SaveCheckpoint(path, m.Parameters(), &st); err != nil {
		return fmt.Errorf("save sar model: %w", err)
	}
	return nil
}

// LoadModel builds a model from the configuration stored in a checkpoint
// written by Save and loads its weights. The returned state holds the
// step, RNG offset and the whole config JSON; optimizer moments in the
// file are ignored (load them with nn.LoadCheckpoint and an optimizer). A
// FlexVAR / SAR state dict written by PyTorch (or converted to
// safetensors) loads with the configuration its shapes imply and a zero
// state.
func LoadModel(path string, dev tensor.Backend) (*Model, *nn.TrainState, error) {
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
	m, err := newModel(cfg, nn.NewLoadInit(dev))
	if err != nil {
		return nil, nil, fmt.Errorf("load sar model %s: %w", path, err)
	}
	st := &nn.TrainState{}
	if err := nn.LoadCheckpoint(path, m.Parameters(), st); err != nil {
		return nil, nil, fmt.Errorf("load sar model: %w", err)
	}
	return m, st, nil
}

// ReadConfig reads the model configuration from a checkpoint's header
// without loading its weights; for a foreign state dict (see LoadModel),
// from its shapes.
func ReadConfig(path string) (Config, error) {
	if foreign, err := isForeign(path); err == nil && foreign {
		sd, err := openForeign(path)
		if err != nil {
			return Config{}, err
		}
		defer sd.Close()
		return ConfigFromStateDict(sd)
	}
	meta, err := readMetadata(path)
	if err != nil {
		return Config{}, fmt.Errorf("read sar model config: %w", err)
	}
	raw, ok := meta["config"]
	if !ok {
		return Config{}, fmt.Errorf("read sar model config %s: no config in the metadata (not written by sar.Model.Save?)", path)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &obj); err != nil {
		return Config{}, fmt.Errorf("read sar model config %s: %w", path, err)
	}
	mc, ok := obj[configKey]
	if !ok {
		return Config{}, fmt.Errorf("read sar model config %s: config has no %q key", path, configKey)
	}
	var cfg Config
	if err := json.Unmarshal(mc, &cfg); err != nil {
		return Config{}, fmt.Errorf("read sar model config %s: %w", path, err)
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, fmt.Errorf("read sar model config %s: %w", path, err)
	}
	return cfg, nil
}

// ReadTrainState reads a checkpoint's step, RNG offset and config JSON
// from its header, without reading its tensors (no optimizer).
func ReadTrainState(path string) (*nn.TrainState, error) {
	meta, err := readMetadata(path)
	if err != nil {
		return nil, fmt.Errorf("read training state: %w", err)
	}
	st := &nn.TrainState{Config: json.RawMessage(meta["config"])}
	step, err := strconv.ParseUint(meta["step"], 10, 63)
	if err != nil {
		return nil, fmt.Errorf("read training state %s: step %q: %w", path, meta["step"], err)
	}
	st.Step = int(step)
	if v, ok := meta["rng_offset"]; ok {
		if st.RNGOffset, err = strconv.ParseUint(v, 10, 64); err != nil {
			return nil, fmt.Errorf("read training state %s: rng_offset %q: %w", path, v, err)
		}
	}
	return st, nil
}

// readMetadata reads only the header of a safetensors file and returns
// its __metadata__ map.
func readMetadata(path string) (map[string]string, error) { return nn.ReadSafetensorsMetadata(path) }
