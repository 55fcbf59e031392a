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
				if r.ModelGFLOP > 0 {
					assert.Greater(t, r.MFU, 0.0, "%s counts model FLOPs but has no utilisation", r.Case)
				}
			}
			// One line per record, one memory line per record that has
			// one, and one for the GEMM peak where a case counts model
			// FLOPs.
			peakLines := strings.Count(log.String(), "gemm peak")
			assert.LessOrEqual(t, peakLines, 1)
			assert.Equal(t, lines+peakLines, strings.Count(log.String(), "\n"))
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
			Reference: &ref, ReferenceSpread: &spread, Ratio: &ratio, RatioCPU: &ratioCPU, Device: "cpu",
			RatioInterval: &Interval{Lo: 1.9, Hi: 2.1}, PairRatios: []float64{2, 1.9, 2.1, 2, 2, 2}, Stable: true,
			ModelGFLOP: 3, GemmPeak: 400, GemmPeakCase: "square", MFU: 0.75},
		{Suite: "conv", Case: "forward", Unit: "GFLOP/s", Sargo: 1.5, Device: "cpu", Error: "reference: no result"},
	}
	var buf bytes.Buffer
	require.NoError(t, WriteTable(&buf, recs))
	out := buf.String()
	for _, want := range []string{"suite", "ratio", "square 64x64x64 NN", "100.0", "50.00", "2.00x", "1.25x", "ratio/cpu-s", "5%",
		"[1.90, 2.10]", "95% interval", "MFU", "75%", "GEMM peak 400.0", "errors:", "reference: no result"} {
		assert.Contains(t, out, want)
	}
	path := filepath.Join(t.TempDir(), "sub", "bench.json")
	require.NoError(t, WriteJSON(path, recs))
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	for _, key := range []string{`"suite"`, `"case"`, `"unit"`, `"sargo"`, `"reference": null`, `"ratio": null`,
		`"ratio_interval"`, `"pair_ratios"`, `"stable"`, `"mfu"`, `"gemm_peak"`} {
		assert.Contains(t, string(raw), key)
	}
	back, err := ReadJSON(path)
	require.NoError(t, err)
	require.Len(t, back, 2)
	assert.Equal(t, recs[0].Case, back[0].Case)
	assert.InDelta(t, 2.0, *back[0].Ratio, 1e-12)
	assert.Equal(t, recs[0].RatioInterval, back[0].RatioInterval)
	assert.Equal(t, recs[0].PairRatios, back[0].PairRatios)
	assert.Nil(t, back[1].Reference)
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

// TestTorchScriptsParse runs each real reference script on its quick cases
// when Debian's python3 with torch is installed: setup, one repeat and
// release of every case.
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
			sess, err := r.Start(context.Background(), name)
			require.NoError(t, err)
			defer func() { assert.NoError(t, sess.Close()) }()
			assert.Equal(t, "cpu", sess.Info.Device)
			assert.Equal(t, 1, sess.Info.Threads)
			for _, c := range cases {
				require.NoError(t, sess.Setup(c), c.Name)
				rate, cpuRate, err := sess.repeat()
				require.NoError(t, err, c.Name)
				assert.Greater(t, rate, 0.0, c.Name)
				assert.GreaterOrEqual(t, cpuRate, 0.0, c.Name)
				_, err = sess.Release()
				require.NoError(t, err, c.Name)
			}
		})
	}
}

// TestTrainModelGFLOP checks the count against the bench model's figures
// worked out by hand: 24·C² + 2·C·V per token and block-causal attention
// over the 10-scale list (286,434 visible pairs per head and sample).
func TestTrainModelGFLOP(t *testing.T) {
	mb := benchModel(false)
	C, V, B, L := 384.0, 4096.0, 8.0, 680.0
	perToken := 2*32*C*679/680 + 6*24*C*C + 2*C*V
	fwd := B * (L*perToken + 6*4*286434*C + 6*12*C*C + 4*C*C)
	assert.InDelta(t, 3*fwd/1e9, trainModelGFLOP(mb, "tf"), 1e-9)
	student := B * (257*(2*32*C*256/257+6*24*C*C+2*C*V) + 6*4*(1+256*257)*C + 6*12*C*C + 4*C*C)
	assert.InDelta(t, 3*(fwd+student)/1e9, trainModelGFLOP(mb, "sar"), 1e-9)
	assert.InDelta(t, 462, trainModelGFLOP(mb, "tf"), 1, "about 462 GFLOP a step")
}
