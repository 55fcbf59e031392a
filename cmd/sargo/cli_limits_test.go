package main

import (
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/nn"
)

// craftCheckpoint rewrites the checkpoint src to dst with the model
// configuration in its metadata changed by edit (the weights stay).
func craftCheckpoint(t *testing.T, src, dst, key string, edit func(model map[string]any)) {
	t.Helper()
	f, err := nn.ReadSafetensorsFile(src)
	require.NoError(t, err)
	obj := map[string]any{}
	require.NoError(t, json.Unmarshal([]byte(f.Metadata["config"]), &obj))
	edit(obj[key].(map[string]any))
	buf, err := json.Marshal(obj)
	require.NoError(t, err)
	meta := map[string]string{}
	for k, v := range f.Metadata {
		meta[k] = v
	}
	meta["config"] = string(buf)
	require.NoError(t, os.MkdirAll(filepath.Dir(dst), 0o755))
	require.NoError(t, nn.WriteSafetensorsFile(dst, f.Tensors, meta))
}

// writeMNIST writes the four MNIST IDX files into dir, the image files
// declaring n images of h×w pixels (with no pixel data), the label files
// holding n labels when n is at most 2^24 (none otherwise).
func writeMNIST(t *testing.T, dir string, n, h, w uint32) {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for _, split := range []string{"train", "t10k"} {
		for name, shape := range map[string][]uint32{"images-idx3-ubyte": {n, h, w}, "labels-idx1-ubyte": {n}} {
			f, err := os.Create(filepath.Join(dir, split+"-"+name+".gz"))
			require.NoError(t, err)
			gz := gzip.NewWriter(f)
			_, err = gz.Write([]byte{0, 0, 8, byte(len(shape))})
			require.NoError(t, err)
			require.NoError(t, binary.Write(gz, binary.BigEndian, shape))
			if len(shape) == 1 && n <= 1<<24 {
				_, err = gz.Write(make([]byte, n))
				require.NoError(t, err)
			}
			require.NoError(t, gz.Close())
			require.NoError(t, f.Close())
		}
	}
}

// limitsFixtures adds to the trained fixture the inputs of
// TestCLILimits: crafted checkpoints, configuration files, named pipes,
// fake MNIST files and a plain file where a folder is expected.
func limitsFixtures(t *testing.T) string {
	dir := trainedFixture(t)
	model := filepath.Join(dir, "run", "model.safetensors")
	crafts := map[string]func(m map[string]any){
		"largest":  func(m map[string]any) { m["Largest"] = 1 << 30 },
		"classes":  func(m map[string]any) { m["NumClasses"] = 1 << 40 },
		"width":    func(m map[string]any) { m["Width"] = 1 << 20 },
		"depth":    func(m map[string]any) { m["Depth"] = 100_000_000 },
		"mlplow":   func(m map[string]any) { m["MLPRatio"] = 0.001 },
		"mlphigh":  func(m map[string]any) { m["MLPRatio"] = 1e12 },
		"vocab":    func(m map[string]any) { m["Vocab"] = 1 << 40 },
		"heads":    func(m map[string]any) { m["Heads"] = 0 },
		"bigwidth": func(m map[string]any) { m["Width"], m["Heads"] = 1<<16, 16 },
	}
	for name, edit := range crafts {
		craftCheckpoint(t, model, filepath.Join(dir, "crafted", name+".safetensors"), "model", edit)
	}
	craftCheckpoint(t, filepath.Join(dir, "tok", "tokenizer.safetensors"), filepath.Join(dir, "crafted", "tokbase.safetensors"),
		"tokenizer", func(m map[string]any) { m["base"] = 1 << 20 })
	configs := map[string]string{
		"mlplow.json":    `{"model": {"MLPRatio": 0.001}}`,
		"mlphigh.json":   `{"model": {"MLPRatio": 1e12}}`,
		"deep.json":      `{"model": {"Depth": 100000000}}`,
		"wide.json":      `{"model": {"Width": 1048576, "Heads": 16}}`,
		"trailing.json":  `{"train": {"steps": 2}} {"train": {"steps": 3}}`,
		"trailtok.json":  `{"train": {"steps": 2}}}`,
		"hugetrain.json": `{"model": {"Width": 16384, "Heads": 16, "Depth": 64}}`,
	}
	for name, content := range configs {
		writeFile(t, dir, filepath.Join("configs", name), content)
	}
	for _, p := range []string{"fifo.safetensors", "fifodir/model.safetensors", "fifo.png", "fifodata/a/2.png", "fifo.json"} {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755))
		require.NoError(t, syscall.Mkfifo(filepath.Join(dir, p), 0o644))
	}
	raw, err := os.ReadFile(filepath.Join(dir, "data", "a", "0.png"))
	require.NoError(t, err)
	writeFile(t, dir, "fifodata/a/1.png", string(raw))
	writeFile(t, dir, "fifodata/b/1.png", string(raw))
	writeFile(t, dir, "plainfile", "x")
	writeMNIST(t, filepath.Join(dir, "mnist0x0"), 1<<24, 0, 0)
	writeMNIST(t, filepath.Join(dir, "mnisthuge"), 1<<30, 1, 1)
	return dir
}

// TestCLILimits runs inputs that once crashed sargo with a Go stack
// trace, made it allocate without bound, blocked it forever, or were
// accepted with a misleading meaning. Each must exit with status 1 and
// one "sargo: ..." message naming the problem, leaving files alone.
func TestCLILimits(t *testing.T) {
	dir := limitsFixtures(t)
	sample := func(args ...string) []string {
		return append([]string{"sample", "--model", "run", "--out", "s.png"}, args...)
	}
	trainArgs := func(args ...string) []string {
		return append([]string{"train", "--preset", "tiny", "--tokenizer", "tok", "--data", "data", "--steps", "2", "--batch", "4",
			"--out", "newrun"}, args...)
	}
	tokArgs := func(args ...string) []string {
		return append([]string{"train-tokenizer", "--preset", "tiny", "--data", "data", "--steps", "1", "--batch", "4"}, args...)
	}
	crafted := func(name string) []string {
		return []string{"sample", "--model", "crafted/" + name + ".safetensors", "--tokenizer", "tok", "--out", "s.png"}
	}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		// Crafted checkpoint metadata and configurations.
		{"checkpoint with a huge largest scale", crafted("largest"), []string{"crafted/largest.safetensors", "Largest 1073741824 must be in [1, 4096]"}},
		{"checkpoint with huge class count", crafted("classes"), []string{"NumClasses 1099511627776 must be in [1, 16777216]"}},
		{"checkpoint with width 2^20", crafted("width"), []string{"Width 1048576 must be positive, even (sin/cos position grid) and at most 65536"}},
		{"checkpoint with depth 1e8", crafted("depth"), []string{"Depth 100000000 must be in [1, 1024]"}},
		{"checkpoint with MLP ratio 0.001", crafted("mlplow"), []string{"MLPRatio 0.001 gives an MLP of 0 hidden units at Width 64"}},
		{"checkpoint with MLP ratio 1e12", crafted("mlphigh"), []string{"MLPRatio 1e+12 must be in (0, 64]"}},
		{"checkpoint with a huge vocabulary", crafted("vocab"), []string{"Vocab 1099511627776"}},
		{"checkpoint with no heads", crafted("heads"), []string{"Heads 0 must be positive"}},
		{"checkpoint of a model larger than the device", crafted("bigwidth"), []string{"a model of", "(depth 2, width 65536", "needs", "but device cpu has"}},
		{"tokenizer checkpoint with a huge base", []string{"sample", "--model", "run", "--tokenizer", "crafted/tokbase.safetensors", "--out", "s.png"},
			[]string{"crafted/tokbase.safetensors", "Base: 1048576, want 1 to 4096"}},
		{"init from a crafted checkpoint", trainArgs("--init", "crafted/depth.safetensors"), []string{"Depth 100000000"}},
		{"config with MLP ratio 0.001", trainArgs("--config", "configs/mlplow.json"), []string{"MLPRatio 0.001 gives an MLP of 0 hidden units"}},
		{"config with MLP ratio 1e12", trainArgs("--config", "configs/mlphigh.json"), []string{"MLPRatio 1e+12 must be in (0, 64]"}},
		{"config with depth 1e8", trainArgs("--config", "configs/deep.json"), []string{"Depth 100000000 must be in [1, 1024]"}},
		{"config with width 2^20", trainArgs("--config", "configs/wide.json"), []string{"Width 1048576"}},
		{"config too large to train", trainArgs("--config", "configs/hugetrain.json", "--memory-limit", "8GiB"),
			[]string{"training a model of", "with AdamW needs", "but --memory-limit (SARGO_MEMORY_LIMIT) allows 8.0 GiB"}},

		// Allocations sized by input, against the budget.
		{"model larger than --memory-limit", append([]string{"--memory-limit", "512KiB"}, sample()...),
			[]string{"a model of 178952 weights (depth 2, width 64, 2 classes, vocabulary 64, largest scale 8) needs 699.0 KiB, but --memory-limit (SARGO_MEMORY_LIMIT) allows 512.0 KiB"}},
		{"model larger than SARGO_MEMORY_LIMIT", sample(), []string{"needs 699.0 KiB, but --memory-limit (SARGO_MEMORY_LIMIT) allows 512.0 KiB"}},
		{"sampling larger than --memory-limit", append([]string{"--memory-limit", "1MiB"}, sample()...),
			[]string{"sampling 16 images at once (schedule 1_2_3_4_5_6_8, with guidance (a doubled batch)) needs 17.0 MiB, but --memory-limit (SARGO_MEMORY_LIMIT) allows 1.0 MiB"}},
		{"SARGO_MEMORY_LIMIT that does not parse", sample(), []string{"SARGO_MEMORY_LIMIT: size \"lots\": want a positive number of bytes"}},
		{"--memory-limit that does not parse", append([]string{"--memory-limit", "-3GiB"}, sample()...), []string{"--memory-limit: size \"-3GiB\""}},
		{"sample --n beyond memory", sample("--n", "100000000"), []string{"sampling 200000000 images at once", "needs", "but device cpu has"}},
		{"sample --scale beyond memory", sample("--n", "1", "--scale", "1000000"), []string{"a grid of 2 images of 32x32 pixels at --scale 1000000 needs", "but the host has"}},
		{"sample --scale 0", sample("--scale", "0"), []string{"--scale 0: want >= 1"}},
		{"IDX declaring 0x0 images", tokArgs("--data", "mnist", "--out", "mt"), []string{"images of 0x0 pixels: want 1 to 32 pixels a side"}},
		{"IDX declaring more images than memory", append([]string{"--memory-limit", "1GiB"}, tokArgs("--data", "mnist", "--out", "mt")...),
			[]string{"1073741824 images of 1x1 needs 4.0 TiB, but --memory-limit (SARGO_MEMORY_LIMIT) allows 1.0 GiB"}},

		// Files that are not regular files.
		{"named pipe as --model", []string{"sample", "--model", "fifo.safetensors", "--tokenizer", "tok", "--out", "s.png"},
			[]string{"fifo.safetensors is a named pipe (FIFO), not a regular file"}},
		{"named pipe as checkpoint in a run directory", []string{"sample", "--model", "fifodir", "--tokenizer", "tok", "--out", "s.png"},
			[]string{"fifodir/model.safetensors is a named pipe (FIFO), not a regular file"}},
		{"named pipe as --tokenizer", sample("--tokenizer", "fifo.safetensors"), []string{"fifo.safetensors is a named pipe"}},
		{"named pipe as --from-image", sample("--class", "0", "--from-image", "fifo.png"), []string{"fifo.png is a named pipe"}},
		{"named pipe as --init", trainArgs("--init", "fifo.safetensors"), []string{"fifo.safetensors is a named pipe"}},
		{"named pipe in a data folder", tokArgs("--data", "fifodata", "--out", "ft"), []string{"fifodata/a/2.png is a named pipe"}},
		{"named pipe as --config", trainArgs("--config", "fifo.json"), []string{"fifo.json is a named pipe"}},
		{"named pipe for inspect", []string{"inspect", "fifo.safetensors"}, []string{"fifo.safetensors is a named pipe"}},

		// Flags and files with no meaning.
		{"--lr Inf", trainArgs("--lr", "Inf"), []string{"--lr +Inf: want a finite number"}},
		{"--sigma NaN", trainArgs("--method", "sar", "--sigma", "NaN"), []string{"--sigma NaN: want a finite number"}},
		{"train-tokenizer --lr NaN", tokArgs("--lr", "NaN", "--out", "nt"), []string{"--lr NaN: want a finite number"}},
		{"--max-skipped above 1", trainArgs("--max-skipped", "2"), []string{"--max-skipped 2: want a share in [0, 1]"}},
		{"sample --cfg NaN", sample("--cfg", "NaN"), []string{"--cfg NaN: want a finite number"}},
		{"sample --cfg Inf", sample("--cfg", "Inf"), []string{"--cfg +Inf: want a finite number"}},
		{"sample --top-p NaN", sample("--top-p", "NaN"), []string{"--top-p NaN: want a finite number"}},
		{"sample --temperature NaN", sample("--temperature", "NaN"), []string{"--temperature NaN: want a finite number"}},
		{"sample --temperature -1", sample("--temperature", "-1"), []string{"--temperature -1"}},
		{"schedule with an empty scale", sample("--schedule", "1__2"), []string{"--schedule", `schedule "1__2" has an empty scale`}},
		{"schedule ending in a separator", sample("--schedule", "1_2_"), []string{`schedule "1_2_" has an empty scale`}},
		{"config with trailing JSON", trainArgs("--config", "configs/trailing.json"), []string{"configs/trailing.json", "trailing data after the JSON value"}},
		{"tokenizer config with trailing JSON", tokArgs("--config", "configs/trailtok.json", "--out", "tt"),
			[]string{"configs/trailtok.json", "after the JSON value", "invalid character '}'"}},
		{"train --out ''", []string{"train", "--preset", "tiny", "--tokenizer", "tok", "--data", "data", "--out", ""}, []string{"--out is empty: name the directory to write into"}},
		{"train --out naming a file", []string{"train", "--preset", "tiny", "--tokenizer", "tok", "--data", "data", "--out", "plainfile"},
			[]string{"--out plainfile is a file, not a directory"}},
		{"train-tokenizer --out ''", tokArgs("--out", ""), []string{"--out is empty"}},
		{"train-tokenizer --out naming a file", tokArgs("--out", "plainfile"), []string{"--out plainfile is a file, not a directory"}},
		{"sample --out naming a directory", []string{"sample", "--model", "run", "--out", "data"}, []string{"--out data is a directory: name a file to write"}},
		{"demo --out naming a file", []string{"demo", "--out", "plainfile"}, []string{"--out plainfile is a file"}},
		{"reproduce --out ''", []string{"reproduce", "--out", ""}, []string{"--out is empty"}},
		{"reproduce --epochs overflow", []string{"reproduce", "--preset", "tiny", "--epochs", "9223372036854775807", "--out", "rp"},
			[]string{"epochs 9223372036854775807, want 1 to 2147483648"}},
		{"reproduce --eval-n beyond memory", []string{"reproduce", "--preset", "tiny", "--eval-n", "1000000000000", "--out", "rp"},
			[]string{"--eval-n: holding 1000000000000 generated images of 1x32x32 needs 3.6 PiB"}},
		{"eval --k 0", []string{"eval", "--model", "run", "--data", "data", "--k", "0"}, []string{"--k 0: want a positive count"}},
		{"eval --k -1", []string{"eval", "--model", "run", "--data", "data", "--k", "-1"}, []string{"--k -1: want a positive count"}},
		{"eval --tokenizer-images 0", []string{"eval", "--model", "run", "--data", "data", "--tokenizer-images", "0"},
			[]string{"--tokenizer-images 0: want a positive count"}},
		{"eval --json naming a directory", []string{"eval", "--model", "run", "--data", "data", "--json", "data"}, []string{"--json data is a directory"}},
		{"eval --n beyond memory", []string{"eval", "--model", "run", "--data", "data", "--n", "1000000000000"},
			[]string{"eval: --n: holding 1000000000000 generated images of 1x32x32 needs 3.6 PiB, but device cpu has"}},
		{"eval on data with other classes", []string{"eval", "--model", "run", "--data", "data3", "--n", "4"},
			[]string{"model run/model.safetensors has 2 classes, the data data3 has 3"}},
	}
	envs := map[string][]string{
		"model larger than SARGO_MEMORY_LIMIT":   {"SARGO_MEMORY_LIMIT=512KiB"},
		"SARGO_MEMORY_LIMIT that does not parse": {"SARGO_MEMORY_LIMIT=lots"},
		"IDX declaring 0x0 images":               {"SARGO_MNIST_DIR=" + filepath.Join(dir, "mnist0x0")},
		"IDX declaring more images than memory":  {"SARGO_MNIST_DIR=" + filepath.Join(dir, "mnisthuge")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := digest(t, dir)
			code, stderr := runCLI(t, dir, envs[tc.name], tc.args...)
			t.Logf("exit %d: %s", code, stderr)
			assert.Equal(t, 1, code, "exit code; stderr:\n%s", stderr)
			require.True(t, strings.HasPrefix(stderr, "sargo: "), "stderr: %q", stderr)
			assert.NotContains(t, stderr, "goroutine ")
			assert.NotContains(t, stderr, "panic")
			for _, w := range tc.want {
				assert.Contains(t, stderr, w)
			}
			assert.Equal(t, before, digest(t, dir), "files changed")
			for _, out := range []string{"s.png", "newrun", "mt", "ft", "nt", "tt", "rp"} {
				assert.NoFileExists(t, filepath.Join(dir, out))
				assert.NoDirExists(t, filepath.Join(dir, out))
			}
		})
	}
}
