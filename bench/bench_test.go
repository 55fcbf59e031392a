package bench

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	_ "sargo/kernels/cpu"
	"sargo/tensor"
)

// tinyTiming runs each case once after one warm-up.
var tinyTiming = Timing{Warmup: 1, Repeats: 1, MinTime: 0}

func TestSummarise(t *testing.T) {
	tests := []struct {
		name             string
		runs             []float64
		median, min, max float64
		spread           float64
	}{
		{"empty", nil, 0, 0, 0, 0},
		{"one", []float64{4}, 4, 4, 4, 0},
		{"odd", []float64{3, 1, 2}, 2, 1, 3, 1},
		{"even", []float64{4, 1, 3, 2}, 2.5, 1, 4, 1.2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Summarise(tt.runs)
			assert.InDelta(t, tt.median, s.Median, 1e-12)
			assert.InDelta(t, tt.min, s.Min, 1e-12)
			assert.InDelta(t, tt.max, s.Max, 1e-12)
			assert.InDelta(t, tt.spread, s.Spread(), 1e-12)
			assert.Len(t, s.Runs, len(tt.runs))
		})
	}
}

func TestMeasureCountsRuns(t *testing.T) {
	tests := []struct {
		name        string
		timing      Timing
		calls, runs int
	}{
		{"warm-up and repeats", Timing{Warmup: 2, Repeats: 3}, 5, 3},
		{"budget stops after two repeats", Timing{Warmup: 1, Repeats: 5, Budget: time.Nanosecond}, 3, 2},
		{"budget keeps a single repeat", Timing{Repeats: 1, Budget: time.Nanosecond}, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			s, err := Measure(context.Background(), tt.timing, 1, func() error { calls++; return nil })
			require.NoError(t, err)
			assert.Equal(t, tt.calls, calls)
			assert.Len(t, s.Runs, tt.runs)
			for _, r := range s.Runs {
				assert.Greater(t, r, 0.0)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	tests := []struct {
		names   []string
		want    []string
		wantErr string
	}{
		{[]string{"matmul"}, []string{"matmul"}, ""},
		{[]string{"conv", "matmul", "conv"}, []string{"conv", "matmul"}, ""},
		{[]string{"all"}, Suites(), ""},
		{[]string{"nope"}, nil, `unknown benchmark suite "nope"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.names, ","), func(t *testing.T) {
			got, err := Lookup(tt.names...)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			var names []string
			for _, s := range got {
				names = append(names, s.Name)
			}
			assert.Equal(t, tt.want, names)
		})
	}
	assert.Subset(t, Suites(), []string{"matmul", "attention", "conv", "interpolate"})
}

// TestQuickSuitesRun runs every case of every suite once at quick sizes on
// the CPU and checks the records.
func TestQuickSuitesRun(t *testing.T) {
	be := tensor.MustOpen("cpu")
	for _, name := range Suites() {
		t.Run(name, func(t *testing.T) {
			suites, err := Lookup(name)
			require.NoError(t, err)
			var log bytes.Buffer
			recs, err := Run(context.Background(), Config{Suites: suites, Backend: be, Timing: tinyTiming, Quick: true, Log: &log})
			require.NoError(t, err)
			require.NotEmpty(t, recs)
			seen := map[string]bool{}
			lines := len(recs) // a rate line per record, and a memory line where measured
			for _, r := range recs {
				if slices.Contains([]string{"train", "tokenizer", "sample"}, name) {
					assert.NotNil(t, r.Memory, "memory record of %s", r.Case)
				}
				if r.Memory != nil {
					lines++
					assert.Positive(t, r.Memory.AllocsPerStep, r.Case)
				}
				assert.Empty(t, r.Error, r.Case)
				assert.Equal(t, name, r.Suite)
				assert.NotEmpty(t, r.Case)
				assert.False(t, seen[r.Case], "case names are unique: %s", r.Case)
				seen[r.Case] = true
				assert.Contains(t, r.Unit, "/s")
				assert.Greater(t, r.Sargo, 0.0, r.Case)
				assert.Nil(t, r.Reference)
				assert.Nil(t, r.Ratio)
				assert.NotEmpty(t, r.Device)
			}
			assert.Equal(t, lines, strings.Count(log.String(), "\n"))
			assert.Equal(t, lines-len(recs), strings.Count(log.String(), "memory: "))
		})
	}
}

func TestRunRecordsCaseErrors(t *testing.T) {
	be := tensor.MustOpen("cpu")
	bad := Suite{Name: "bad", Cases: func(bool) ([]Case, error) {
		return []Case{
			{Name: "panics", Unit: "x/s", Work: 1, Setup: func(tensor.Backend) (func() error, func(), error) {
				return func() error { panic("boom") }, func() {}, nil
			}},
			{Name: "fine", Unit: "x/s", Work: 1, Setup: func(tensor.Backend) (func() error, func(), error) {
				return func() error { return nil }, func() {}, nil
			}},
		}, nil
	}}
	recs, err := Run(context.Background(), Config{Suites: []Suite{bad}, Backend: be, Timing: tinyTiming})
	require.NoError(t, err)
	require.Len(t, recs, 2)
	assert.Contains(t, recs[0].Error, "boom")
	assert.Empty(t, recs[1].Error)
	assert.Greater(t, recs[1].Sargo, 0.0)
}

func TestTableAndJSON(t *testing.T) {
	ref, ratio, spread, ratioCPU := 50.0, 2.0, 0.1, 1.25
	recs := []Record{
		{Suite: "matmul", Case: "square 64x64x64 NN", Unit: "GFLOP/s", Sargo: 100, SargoSpread: 0.05,
			Reference: &ref, ReferenceSpread: &spread, Ratio: &ratio, RatioCPU: &ratioCPU, Device: "cpu"},
		{Suite: "conv", Case: "forward", Unit: "GFLOP/s", Sargo: 1.5, Device: "cpu", Error: "reference: no result"},
	}
	var buf bytes.Buffer
	require.NoError(t, WriteTable(&buf, recs))
	out := buf.String()
	for _, want := range []string{"suite", "ratio", "square 64x64x64 NN", "100.0", "50.00", "2.00x", "1.25x", "ratio/cpu-s", "5%", "errors:", "reference: no result"} {
		assert.Contains(t, out, want)
	}
	path := filepath.Join(t.TempDir(), "sub", "bench.json")
	require.NoError(t, WriteJSON(path, recs))
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	for _, key := range []string{`"suite"`, `"case"`, `"unit"`, `"sargo"`, `"reference": null`, `"ratio": null`} {
		assert.Contains(t, string(raw), key)
	}
	back, err := ReadJSON(path)
	require.NoError(t, err)
	require.Len(t, back, 2)
	assert.Equal(t, recs[0].Case, back[0].Case)
	assert.InDelta(t, 2.0, *back[0].Ratio, 1e-12)
	assert.Nil(t, back[1].Reference)
}

func TestParseTorchOutput(t *testing.T) {
	tests := []struct {
		name, in, wantErr string
		cases             int
	}{
		{"ok", `{"info":{"torch":"1.13.0","device":"cpu","threads":2,"blas":"OpenBLAS core=Haswell","tf32":false},"results":[{"case":"a","runs":[1,2,3],"cpu_runs":[1,1,1]},{"case":"b","error":"boom"}]}`, "", 2},
		{"not json", `reference: hello`, "parse reference output", 0},
		{"no case", `{"info":{},"results":[{"runs":[1]}]}`, "no case name", 0},
		{"no runs", `{"info":{},"results":[{"case":"a"}]}`, "neither runs nor an error", 0},
		{"unknown fields ignored", `{"info":{"threads":2},"results":[{"case":"a","runs":[1],"new":1}],"extra":1}`, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := ParseTorchOutput([]byte(tt.in))
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Len(t, out.Results, tt.cases)
			assert.Contains(t, out.Info.String(), "2 threads")
		})
	}
}

func TestReferenceEnv(t *testing.T) {
	env := ReferenceEnv([]string{"PATH=/bin", "OPENBLAS_CORETYPE=Haswell", "OPENBLAS_L2_SIZE=512", "OMP_NUM_THREADS=8"}, 2)
	assert.Contains(t, env, "PATH=/bin")
	assert.Contains(t, env, "OMP_NUM_THREADS=2")
	assert.Contains(t, env, "OPENBLAS_NUM_THREADS=2")
	for _, kv := range env {
		assert.NotContains(t, kv, "CORETYPE")
		assert.NotContains(t, kv, "L2_SIZE")
		assert.NotEqual(t, "OMP_NUM_THREADS=8", kv)
	}
}

// TestTorchRunnerWithFakeScript runs the runner against a stand-in script
// that echoes the request's cases, so the protocol is checked without
// PyTorch.
func TestTorchRunnerWithFakeScript(t *testing.T) {
	dir := t.TempDir()
	script := `import json, sys
req = json.load(sys.stdin)
print("progress", file=sys.stderr)
json.dump({"info": {"torch": "fake", "device": req["device"], "threads": req["threads"], "blas": "none", "tf32": False},
           "results": [{"case": c["case"], "runs": [c["work"]] * req["repeats"]} for c in req["cases"]]}, sys.stdout)
`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bench_fake.py"), []byte(script), 0o644))
	python := DefaultPython
	if _, err := os.Stat(python); err != nil {
		t.Skipf("no %s", python)
	}
	r := &TorchRunner{Python: python, Dir: dir, Device: "cpu", Threads: 2, Timing: Timing{Warmup: 1, Repeats: 3, MinTime: time.Millisecond}}
	cases := []Case{{Name: "a", Kind: "k", Unit: "x/s", Work: 2, Params: map[string]any{"n": 1}}}
	out, err := r.Run(context.Background(), "fake", cases)
	require.NoError(t, err)
	require.Len(t, out.Results, 1)
	assert.Equal(t, []float64{2, 2, 2}, out.Results[0].Runs)
	assert.Equal(t, 2, out.Info.Threads)

	_, err = r.Run(context.Background(), "missing", cases)
	require.ErrorContains(t, err, "reference script for suite missing")
}

// TestTorchScriptsParse runs each real reference script on its quick cases
// when Debian's python3 with torch is installed.
func TestTorchScriptsParse(t *testing.T) {
	if testing.Short() {
		t.Skip("runs PyTorch")
	}
	if err := torchMissing(); err != nil {
		t.Skip(err)
	}
	for _, name := range Suites() {
		t.Run(name, func(t *testing.T) {
			suites, err := Lookup(name)
			require.NoError(t, err)
			cases, err := suites[0].Cases(true)
			require.NoError(t, err)
			r := &TorchRunner{Dir: filepath.Join("torch"), Device: "cpu", Threads: 1, Timing: tinyTiming}
			out, err := r.Run(context.Background(), name, cases)
			require.NoError(t, err)
			require.Len(t, out.Results, len(cases))
			for i, res := range out.Results {
				assert.Equal(t, cases[i].Name, res.Case)
				assert.Empty(t, res.Error)
				assert.Len(t, res.Runs, 1)
			}
			assert.Equal(t, "cpu", out.Info.Device)
			assert.Equal(t, 1, out.Info.Threads)
		})
	}
}
