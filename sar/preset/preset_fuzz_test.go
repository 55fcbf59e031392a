package preset

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"sargo/sar/schedule"
	"sargo/sar/train"
)

// FuzzLoad decodes arbitrary bytes as a --config file over the tiny
// preset. Load and Validate must not panic; a file that loads must
// survive a round trip through JSON unchanged, and a preset that
// validates must give a valid VAR-like schedule of its latent and a
// well-defined step count.
func FuzzLoad(f *testing.F) {
	base, err := Get("tiny")
	if err != nil {
		f.Fatal(err)
	}
	whole, err := json.Marshal(base)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(whole)
	f.Add([]byte(`{"train": {"sigma": 0.5, "method": "sar", "rollout": "last:2"}, "model": {"Depth": 3}}`))
	f.Add([]byte(`{"tokenizer": {"ImageSize": 0}}`))
	f.Add([]byte(`{"model": {"Width": 7, "Heads": 0}}`))
	f.Add([]byte(`{"train": {"steps": -1, "epochs": 1e30}}`))
	f.Add([]byte(`{"train": {"sigmaa": 1}}`))
	f.Add([]byte(`{"model": null, "train": [1]}`))
	f.Add([]byte(`{`))
	path := filepath.Join(f.TempDir(), "c.json") // each worker process has its own
	f.Fuzz(func(t *testing.T, in []byte) {
		if err := os.WriteFile(path, in, 0o644); err != nil {
			t.Fatal(err)
		}
		p, err := Load(path, base)
		if err != nil {
			return
		}
		again, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("marshal a loaded preset: %v", err)
		}
		if err := os.WriteFile(path, again, 0o644); err != nil {
			t.Fatal(err)
		}
		q, err := Load(path, Preset{})
		if err != nil {
			t.Fatalf("reload %s: %v", again, err)
		}
		if !reflect.DeepEqual(p, q) {
			t.Fatalf("round trip changed the preset:\n%+v\n%+v", p, q)
		}
		if p.Validate() != nil {
			return
		}
		if _, err := train.ParseRollout(p.Train.Rollout); err != nil {
			t.Fatalf("valid preset with rollout %q: %v", p.Train.Rollout, err)
		}
		if err := schedule.VARList(p.Tokenizer.Latent()).Validate(p.Model.Largest); err != nil {
			t.Fatalf("valid preset: VAR list of latent %d: %v", p.Tokenizer.Latent(), err)
		}
		_ = p.Train.TotalSteps(1000)
	})
}
