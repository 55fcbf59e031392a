package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"sargo/nn"
	"sargo/sar/tokenizer"
)

// TokenizerRef names the tokenizer a model was trained on. Run stores it
// in every checkpoint, so that sampling, evaluation, resuming and
// initialising refuse a tokenizer whose weights differ: a model learns
// one tokenizer's token ids and decodes noise through another.
type TokenizerRef struct {
	// Path is the tokenizer checkpoint the run trained with, absolute.
	Path string `json:"path"`
	// Fingerprint is tokenizer.VQ.Fingerprint of its weights.
	Fingerprint string `json:"fingerprint"`
}

// tokenizerKey is the key of the TokenizerRef in a checkpoint's config
// JSON object.
const tokenizerKey = "tokenizer"

// CheckpointMeta is what a checkpoint written by Run records beside the
// weights, in its config JSON object: the training Config (its top-level
// keys) and the TokenizerRef (key "tokenizer"). The model configuration
// is there too (key "model", written by sar.Model.Save and read by
// sar.ReadConfig).
type CheckpointMeta struct {
	// Train is nil when the checkpoint records no training configuration
	// (a model saved outside Run).
	Train *Config
	// Tokenizer is nil when the checkpoint records none (one written
	// before tokenizers were recorded, or outside Run).
	Tokenizer *TokenizerRef
}

// ReadCheckpointMeta reads the CheckpointMeta of a checkpoint from its
// header alone. Training fields the checkpoint does not record keep
// base's values.
func ReadCheckpointMeta(path string, base Config) (CheckpointMeta, error) {
	meta, err := nn.ReadSafetensorsMetadata(path)
	if err != nil {
		return CheckpointMeta{}, fmt.Errorf("read checkpoint %s: %w", path, err)
	}
	cm, err := ParseCheckpointMeta([]byte(meta["config"]), base)
	if err != nil {
		return CheckpointMeta{}, fmt.Errorf("read checkpoint %s: %w", path, err)
	}
	return cm, nil
}

// ParseCheckpointMeta decodes a checkpoint's config JSON (empty gives an
// empty CheckpointMeta); training fields it lacks keep base's values.
func ParseCheckpointMeta(raw []byte, base Config) (CheckpointMeta, error) {
	var cm CheckpointMeta
	if len(raw) == 0 {
		return cm, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return cm, fmt.Errorf("config metadata: %w", err)
	}
	if _, ok := obj["method"]; ok {
		c := base
		if err := json.Unmarshal(raw, &c); err != nil {
			return cm, fmt.Errorf("config metadata: training configuration: %w", err)
		}
		cm.Train = &c
	}
	if tr, ok := obj[tokenizerKey]; ok {
		var ref TokenizerRef
		if err := json.Unmarshal(tr, &ref); err == nil && ref.Fingerprint != "" {
			cm.Tokenizer = &ref
		}
	}
	return cm, nil
}

// CheckTokenizer returns an error when the checkpoint at ckpt records a
// tokenizer whose fingerprint is not fp, the fingerprint of the tokenizer
// at path, naming both fingerprints and both paths. A checkpoint that
// records no tokenizer, and an empty fp, pass.
func (m CheckpointMeta) CheckTokenizer(ckpt, path, fp string) error {
	if m.Tokenizer == nil || fp == "" || m.Tokenizer.Fingerprint == fp {
		return nil
	}
	return fmt.Errorf("checkpoint %s was trained with tokenizer %s (%s), but tokenizer %s is %s: use the tokenizer the model was trained with",
		ckpt, tokenizer.ShortFingerprint(m.Tokenizer.Fingerprint), m.Tokenizer.Path, path, tokenizer.ShortFingerprint(fp))
}

// withTokenizer returns the checkpoint config JSON of cfg: cfg's fields
// and, when ref has a fingerprint, the tokenizer under tokenizerKey.
func withTokenizer(cfg Config, ref TokenizerRef) (json.RawMessage, error) {
	raw, err := json.Marshal(cfg)
	if err != nil || ref.Fingerprint == "" {
		return raw, err
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, err
	}
	if obj[tokenizerKey], err = json.Marshal(ref); err != nil {
		return nil, err
	}
	return json.Marshal(obj)
}

// FieldDiff is one field whose value differs between two configurations.
type FieldDiff struct {
	Field         string
	Stored, Given any
}

// DiffJSON compares two values field by field through their JSON
// encoding (top-level keys), and returns the fields that differ, sorted.
func DiffJSON(stored, given any) []FieldDiff {
	a, _ := json.Marshal(stored)
	b, _ := json.Marshal(given)
	var ma, mb map[string]any
	_ = json.Unmarshal(a, &ma)
	_ = json.Unmarshal(b, &mb)
	var diff []FieldDiff
	for k, v := range ma {
		if fmt.Sprint(v) != fmt.Sprint(mb[k]) {
			diff = append(diff, FieldDiff{Field: k, Stored: v, Given: mb[k]})
		}
	}
	sort.Slice(diff, func(i, j int) bool { return diff[i].Field < diff[j].Field })
	return diff
}

// DiffRunConfig lists the fields where given differs from stored, the
// configuration a run was started with, as "name: checkpoint X, given
// Y", sorted. The fields a resumed run may change (logging, saving and
// sampling periods, and the handling of non-finite steps) are ignored.
func DiffRunConfig(stored, given Config) []string {
	stored.LogEvery, stored.SaveEvery, stored.SampleEvery, stored.SkipNonFinite = given.LogEvery, given.SaveEvery, given.SampleEvery, given.SkipNonFinite
	var out []string
	for _, d := range DiffJSON(stored, given) {
		out = append(out, fmt.Sprintf("%s: checkpoint %v, given %v", d.Field, d.Stored, d.Given))
	}
	return out
}

// sameRun checks that cfg continues the run whose checkpoint recorded
// meta (or, when it records no training configuration, whose config.json
// is in dir), naming every field that differs.
func sameRun(dir, ckpt string, meta CheckpointMeta, cfg Config) error {
	stored, from := meta.Train, ckpt
	if stored == nil {
		path := filepath.Join(dir, ConfigFile)
		c, err := LoadConfigFile(path, cfg)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		stored, from = &c, path
	}
	if diff := DiffRunConfig(*stored, cfg); len(diff) > 0 {
		return fmt.Errorf("the configuration differs from the run's in %s (%s); resume with the stored values",
			from, strings.Join(diff, "; "))
	}
	return nil
}
