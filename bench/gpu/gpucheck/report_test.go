package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/bench"
)

// writeWork writes a working folder as run.sh leaves it after a full run
// on an H200: a passing and a failing test phase, matmul and attention
// under two reference variants each, a train bench and a profile.
func writeWork(t *testing.T, mode string) string {
	t.Helper()
	dir := t.TempDir()
	write := func(name, text string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
	write("env.txt", "date: 2026-12-03T00:00:00Z\nmode: "+mode+"\ngpu: NVIDIA H200, 580.159.03, 143771 MiB\n")
	write("devices.txt", "  cpu        CPU\n* vulkan:0   NVIDIA H200 (default vulkan)\n             type:                 discrete\n")
	write("conformance.log", "--- PASS: TestConformanceOnDevice (2.00s)\n    --- PASS: TestConformanceOnDevice/elementwise/unary_nan (0.01s)\nPASS\n")
	write("vulkan-tests.log", "--- FAIL: TestAttention (1.00s)\n    helpers_test.go:40: validation messages: [x]\nFAIL\n")
	phases := "name\tgroup\tvariant\tstatus\trc\tseconds\ttimeout\tlog\tjson\tcommand\n" +
		"conformance\tcheck\t-\tpass\t0\t2.5\t120\tconformance.log\t-\tgpucheck.test\n" +
		"vulkan-tests-validation\tcheck\t-\tfail\t1\t9.0\t150\tvulkan-tests.log\t-\tvulkan.test\n" +
		"bench-matmul-fp32\tbench\tfp32\tpass\t0\t30\t100\tm.log\tmatmul-fp32.json\tsargo bench matmul\n" +
		"bench-matmul-tf32\tbench\ttf32\tpass\t0\t30\t70\tm2.log\tmatmul-tf32.json\tsargo bench matmul --tf32\n" +
		"bench-attention-unfused\tbench\tunfused\tpass\t0\t30\t100\ta.log\tattention.json\tsargo bench attention\n" +
		"bench-train\tbench\teager\tpass\t0\t30\t120\tt.log\ttrain.json\tsargo bench train\n" +
		"profile-train\tprofile\t-\tpass\t0\t20\t60\tp.log\tprofile.json\tgpucheck profile\n" +
		"bench-sample\tbench\teager\tskipped\t0\t0\t70\t-\t-\tsargo bench sample\n"
	write("phases.tsv", phases)
	rec := func(suite, name, unit string, sargo, ref float64, dev string) bench.Record {
		ratio := sargo / ref
		return bench.Record{Suite: suite, Case: name, Unit: unit, Sargo: sargo, Reference: &ref, Ratio: &ratio,
			Device: "Vulkan NVIDIA H200 (discrete)", ReferenceDevice: dev}
	}
	cublas := "torch 2.11.0 cuda (NVIDIA H200), 16 threads, CUDA 13.0, tf32=false"
	require.NoError(t, bench.WriteJSON(filepath.Join(dir, "matmul-fp32.json"), []bench.Record{
		rec("matmul", "square 4096x4096x4096 NN", "GFLOP/s", 33500, 50000, cublas),
		rec("matmul", "train qkv 3200x1152x384 NT", "GFLOP/s", 20000, 40000, cublas),
	}))
	require.NoError(t, bench.WriteJSON(filepath.Join(dir, "matmul-tf32.json"), []bench.Record{
		rec("matmul", "square 4096x4096x4096 NN", "GFLOP/s", 33000, 300000, strings.Replace(cublas, "false", "true", 1)),
	}))
	require.NoError(t, bench.WriteJSON(filepath.Join(dir, "attention.json"), []bench.Record{
		rec("attention", "forward 32x6x680x64 block-causal", "GFLOP/s", 8000, 5000, cublas),
		rec("attention", "forward 4x8x1024x64 full", "GFLOP/s", 9000, 10000, cublas),
	}))
	require.NoError(t, bench.WriteJSON(filepath.Join(dir, "train.json"), []bench.Record{
		rec("train", "tf step d6 w384 B8 L680", "tokens/s", 70000, 100000, cublas),
		rec("train", "sar step d6 w384 B8 L680", "tokens/s", 50000, 100000, cublas),
	}))
	require.NoError(t, writeJSON(filepath.Join(dir, "profile.json"), []ProfileResult{{Suite: "train", Case: "tf step", Steps: 5,
		WallMs: 10, GPUMs: 4, IdleMs: 6, IdleFraction: 0.6, Dispatches: 800, HostCPUMs: 9, HostUsPerDispatch: 11.25,
		Shaders: []ShaderStep{{Name: "matmul", Dispatches: 100, Ms: 3}}}}))
	return dir
}

func TestBuildSummary(t *testing.T) {
	dir := writeWork(t, "full, limit 840s")
	s, err := buildSummary(dir, 0, time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	assert.Equal(t, "NVIDIA H200", s.Device)
	assert.Equal(t, "NVIDIA H200 (discrete GPU)", s.DeviceLabel())
	assert.False(t, s.CPUDriver)
	assert.False(t, s.ReferenceAbsent())
	assert.InDelta(t, 67, s.Peak.TFLOPS, 0)
	assert.InDelta(t, 50000, s.Peak.MeasuredGFLOPS, 0, "the best cuBLAS rate with TF32 off")

	require.Len(t, s.Phases, 8)
	assert.Equal(t, 2, s.Phases[0].Tests.Passed)
	assert.Equal(t, []string{"TestAttention"}, s.Phases[1].Failures)
	assert.Equal(t, 1, s.Phases[1].Tests.ValidationMessages)
	assert.Equal(t, 2, s.Phases[2].Records)
	assert.Equal(t, []RobustCase{{Phase: "conformance", Name: "TestConformanceOnDevice/elementwise/unary_nan", Result: "PASS"}}, s.Robustness)

	require.Len(t, s.Bench, 6)
	sq := s.Bench[0]
	assert.Equal(t, "square 4096x4096x4096 NN", sq.Case)
	require.Len(t, sq.Refs, 2, "TF32 off and on")
	assert.Equal(t, "fp32", sq.Refs[0].Variant)
	assert.Equal(t, "tf32", sq.Refs[1].Variant)
	assert.InDelta(t, 0.67, *sq.Refs[0].Ratio, 1e-9)
	assert.InDelta(t, 33500/67000.0, *sq.PeakFraction, 1e-9)
	assert.InDelta(t, 33500/50000.0, *sq.MeasuredPeakFraction, 1e-9)
	assert.Nil(t, s.Bench[4].PeakFraction, "tokens/s has no FLOP peak")
	require.Len(t, s.Profile, 1)

	met := map[string]*bool{}
	for _, tg := range s.Targets {
		met[tg.Name] = tg.Met
	}
	require.Len(t, met, 5)
	for name, want := range map[string]bool{
		"fp32 matmul at 4096 against cuBLAS with TF32 off": false, // 0.67 < 0.7
		"attention forward against PyTorch's unfused path": false, // 0.9 on the full shape
		"train step time against PyTorch CUDA fp32 eager":  false, // tf 0.70, sar 0.50 < 1/1.5
		"validation messages":                              false,
		"conformance suite":                                true,
	} {
		require.NotNil(t, met[name], name)
		assert.Equal(t, want, *met[name], name)
	}

	var md bytes.Buffer
	require.NoError(t, writeMarkdown(&md, s))
	out := md.String()
	for _, want := range []string{"# sargo on NVIDIA H200 (discrete GPU)", "| conformance | pass | 2 | 0 | 0 | 2 (120) |",
		"| bench-sample | skipped |", "torch fp32 | ratio | torch tf32 | ratio |",
		"| square 4096x4096x4096 NN | 33500 | GFLOP/s | 50.0% | 67.0% | 50000 | 0.67× | 300000 | 0.11× |",
		"| train/tf step | 10.00 | 4.00 | 6.00 | 60% | 800 | 11.2 | matmul 3.00 ms |",
		"Failed in vulkan-tests-validation (vulkan-tests.log): TestAttention", "| conformance suite | all green |"} {
		assert.Contains(t, out, want)
	}
}

func TestQuickTargetsAreNotJudged(t *testing.T) {
	s, err := buildSummary(writeWork(t, "quick, limit 230s"), 0, time.Now())
	require.NoError(t, err)
	for _, tg := range s.Targets[:3] {
		assert.Nil(t, tg.Met, tg.Name)
		assert.True(t, strings.HasPrefix(tg.Got, "quick sizes, not judged: "), tg.Got)
	}
	assert.NotNil(t, s.Targets[4].Met, "the checks are judged in quick mode too")
}

func TestReportCommand(t *testing.T) {
	dir := writeWork(t, "full, limit 840s")
	out := t.TempDir()
	require.NoError(t, reportCmd([]string{"--out", out, "--peak-tflops", "100", dir}))
	data, err := os.ReadFile(filepath.Join(out, "summary.json"))
	require.NoError(t, err)
	assert.Contains(t, string(data), `"tflops": 100`)
	md, err := os.ReadFile(filepath.Join(out, "summary.md"))
	require.NoError(t, err)
	assert.Contains(t, string(md), "33.5%", "33500 GFLOP/s of a given 100 TFLOP/s")

	require.ErrorContains(t, reportCmd([]string{}), "want one WORKDIR")
	bad := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(bad, "phases.tsv"), []byte("header\nname\tcheck\n"), 0o644))
	require.ErrorContains(t, reportCmd([]string{bad}), "phases.tsv:2: 2 fields, want 10")
	require.ErrorContains(t, reportCmd([]string{t.TempDir()}), "phases.tsv")

	t.Setenv("SARGO_GPU_PEAK_TFLOPS", "lots")
	require.ErrorContains(t, reportCmd([]string{dir}), `SARGO_GPU_PEAK_TFLOPS="lots"`)
}

func TestIsRobustCase(t *testing.T) {
	tests := []struct {
		phase, name, result string
		want                bool
	}{
		{"robustness-validation", "TestReduce", "PASS", true},
		{"robustness-validation", "TestReduce/max/3x7x1/nan=true", "PASS", false},
		{"robustness-validation", "TestReduce/max/3x7x1/nan=true", "FAIL", true},
		{"conformance", "TestConformanceOnDevice/elementwise/unary_nan", "PASS", true},
		{"conformance", "TestConformanceOnDevice/reduce/max/nan=false", "PASS", false},
		{"conformance", "TestConformanceOnDevice/matmul/square", "PASS", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, isRobustCase(tt.phase, tt.name, tt.result), "%s %s %s", tt.phase, tt.name, tt.result)
	}
}

// TestLavapipeSummaryWithoutReference checks the summary of a quick run on
// a CPU driver where no torch saw CUDA: the device is labelled as no GPU,
// the reference as absent, and the bench tables hold sargo alone.
func TestLavapipeSummaryWithoutReference(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
	write("env.txt", "date: 2026-12-03T00:00:00Z\nmode: quick, limit 210s\n"+
		"reference: absent: no python3 whose torch sees CUDA (/usr/bin/python3: torch 1.13.0 cuda None available False); sargo ran alone\n")
	write("devices.txt", "* vulkan:0   llvmpipe (LLVM 15.0.6, 256 bits) (default vulkan)\n             type:                 cpu\n")
	write("phases.tsv", "name\tgroup\tvariant\tstatus\trc\tseconds\ttimeout\tlog\tjson\tcommand\n"+
		"bench-matmul-fp32\tbench\tfp32\tpass\t0\t3\t100\tm.log\tm.json\tsargo bench matmul\n")
	require.NoError(t, bench.WriteJSON(filepath.Join(dir, "m.json"), []bench.Record{
		{Suite: "matmul", Case: "square 256x256x256 NN", Unit: "GFLOP/s", Sargo: 12.5, Device: "Vulkan llvmpipe (cpu)"},
	}))
	s, err := buildSummary(dir, 0, time.Now())
	require.NoError(t, err)
	assert.True(t, s.CPUDriver)
	assert.Equal(t, "cpu", s.DeviceType)
	assert.True(t, s.ReferenceAbsent())
	assert.Equal(t, "llvmpipe (LLVM 15.0.6, 256 bits) (a CPU driver, not a GPU)", s.DeviceLabel())
	require.Len(t, s.Bench, 1)
	assert.Empty(t, s.Bench[0].Refs[0].Ratio)
	assert.Equal(t, "not measured: the PyTorch CUDA reference was absent", s.Targets[0].Got)
	assert.Nil(t, s.Targets[0].Met)

	var md bytes.Buffer
	require.NoError(t, writeMarkdown(&md, s))
	out := md.String()
	for _, want := range []string{
		"# sargo on llvmpipe (LLVM 15.0.6, 256 bits) (a CPU driver, not a GPU)",
		"is a CPU implementation of Vulkan: its timings measure this machine's processor, not a GPU",
		"- reference: absent: no python3 whose torch sees CUDA",
		"Reference absent: no python3 whose torch sees CUDA",
		"| square 256x256x256 NN | 12.50 | GFLOP/s | - | - | - | - |",
		"| fp32 matmul at 4096 against cuBLAS with TF32 off | ratio ≥ 0.70 | not measured: the PyTorch CUDA reference was absent | not measured |",
	} {
		assert.Contains(t, out, want)
	}
	assert.NotContains(t, out, "Ratios are sargo/PyTorch")
}
