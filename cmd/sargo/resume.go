package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"sargo/sar"
	"sargo/sar/preset"
	"sargo/sar/train"
)

// resumePreset is the configuration a resumed run continues from: the
// training and model configuration its checkpoint records (config.json
// when the checkpoint records none), with --config applied over them, so
// that a run directory whose config.json is missing resumes as what it
// was rather than under the preset's defaults. It also returns every
// difference between the checkpoint's model and the model of a --preset
// or --config given (depth, width, heads, ...); the caller adds the
// training differences once the flags are applied.
func resumePreset(cmd *cobra.Command, f *trainFlags, p preset.Preset) (given, stored preset.Preset, diffs []string, err error) {
	ckpt := filepath.Join(f.out, train.CheckpointFile)
	if !exists(ckpt) {
		return p, p, nil, fmt.Errorf("resume: no checkpoint %s", ckpt)
	}
	meta, err := train.ReadCheckpointMeta(ckpt, p.Train)
	if err != nil {
		return p, p, nil, fmt.Errorf("resume: %w", err)
	}
	mc, err := sar.ReadConfig(ckpt)
	if err != nil {
		return p, p, nil, fmt.Errorf("resume: %w", err)
	}
	stored = p
	stored.Model = mc
	switch cfgFile := filepath.Join(f.out, train.ConfigFile); {
	case meta.Train != nil:
		stored.Train = *meta.Train
	case exists(cfgFile):
		if stored.Train, err = train.LoadConfigFile(cfgFile, p.Train); err != nil {
			return p, p, nil, fmt.Errorf("resume: %w", err)
		}
	default:
		return p, p, nil, fmt.Errorf("resume: checkpoint %s records no training configuration and %s is missing", ckpt, cfgFile)
	}
	given = stored
	if f.config != "" {
		if given, err = preset.Load(f.config, stored); err != nil {
			return p, p, nil, fmt.Errorf("resume: %w", err)
		}
		diffs = append(diffs, modelDiff(stored.Model, given.Model, "--config "+f.config)...)
	}
	if cmd.Flags().Changed("preset") {
		diffs = append(diffs, modelDiff(stored.Model, p.Model, "--preset "+f.preset)...)
	}
	return given, stored, diffs, nil
}

// modelDiff lists the fields of the model configuration given (from the
// source named) that differ from the checkpoint's. The sizes that come
// from the tokenizer and the data (vocabulary, CVae, largest scale,
// classes) are not compared: they are checked against those.
func modelDiff(stored, given sar.Config, source string) []string {
	for _, c := range []*sar.Config{&stored, &given} {
		c.Vocab, c.CVae, c.Largest, c.NumClasses = 0, 0, 0, 0
	}
	var out []string
	for _, d := range train.DiffJSON(stored, given) {
		out = append(out, fmt.Sprintf("model %s: checkpoint %v, %s %v", d.Field, d.Stored, source, d.Given))
	}
	return out
}
