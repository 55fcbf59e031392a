package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseProfileTable(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    map[string]shaderTotal
		wantErr string
	}{
		{"table", `sargo vulkan profile (NVIDIA H200): 3.500 ms of GPU time
      shader  count  total ms  mean µs
      matmul     10     3.000    300.0
  unary exp     4     0.500    125.0
`, map[string]shaderTotal{"matmul": {10, 3}, "unary exp": {4, 0.5}}, ""},
		{"empty table", "sargo vulkan profile (x): 0.000 ms of GPU time\nshader\tcount\ttotal ms\tmean µs\t\n", map[string]shaderTotal{}, ""},
		{"no header", "sargo: vulkan: x has no compute timestamps; SARGO_PROFILE ignored\n", nil, "no header"},
		{"bad row", "shader count total ms mean µs\nmatmul ten 3.0 300\n", nil, `cannot read the row "matmul ten 3.0 300"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseProfileTable(tt.in)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseTestLog(t *testing.T) {
	log := `=== RUN   TestConformance
=== RUN   TestConformance/elementwise/unary_NaN
    helpers_test.go:61: vulkan: validation layer: Validation Error: [ VUID-x ] bad
--- FAIL: TestConformance (1.00s)
    --- PASS: TestConformance/elementwise/unary_NaN (0.01s)
    --- FAIL: TestConformance/matmul/square (0.20s)
    --- SKIP: TestConformance/attention/d256 (0.00s)
--- PASS: TestUnarySpecialValues (0.10s)
--- PASS: TestInfo (0.10s)
FAIL
`
	l := parseTestLog(strings.NewReader(log))
	assert.Equal(t, 3, l.Passed)
	assert.Equal(t, 2, l.Failed)
	assert.Equal(t, 1, l.Skipped)
	assert.Equal(t, "FAIL", l.Ending)
	assert.Equal(t, 1, l.ValidationMessages)
	assert.Equal(t, []string{"TestConformance", "TestConformance/matmul/square"}, l.failures(5))
	assert.Equal(t, []string{"TestConformance"}, l.failures(1))
	var robust []string
	for _, r := range l.Tests {
		if robustnessName.MatchString(r.Name) {
			robust = append(robust, r.Name)
		}
	}
	assert.Equal(t, []string{"TestConformance/elementwise/unary_NaN", "TestUnarySpecialValues"}, robust)

	timedOut := parseTestLog(strings.NewReader("=== RUN   TestX\npanic: test timed out after 5s\n\trunning tests:\n\t\tTestX (5s)\n"))
	assert.Equal(t, "panic: test timed out after 5s", timedOut.Ending)
}

func TestDatasheetPeak(t *testing.T) {
	tests := []struct {
		device string
		tflops float64
		ok     bool
	}{
		{"NVIDIA H200", 67, true},
		{"NVIDIA H200 NVL", 60, true},
		{"NVIDIA H100 80GB HBM3", 67, true},
		{"NVIDIA H100 PCIe", 51, true},
		{"NVIDIA A100-SXM4-80GB", 19.5, true},
		{"NVIDIA L40S", 91.6, true},
		{"NVIDIA L4", 30.3, true},
		{"llvmpipe (LLVM 15.0.6, 256 bits)", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, _, ok := datasheetPeak(tt.device)
		assert.Equal(t, tt.ok, ok, tt.device)
		assert.InDelta(t, tt.tflops, got, 0, tt.device)
	}
}

func TestDeviceName(t *testing.T) {
	lines := []string{
		"  cpu        CPU, 2 threads, linux/amd64, GEMM kernel avx2-6x16",
		"* vulkan:0   NVIDIA H200 (default vulkan)",
		"             type:                 discrete",
	}
	assert.Equal(t, "NVIDIA H200", deviceName(lines))
	assert.Equal(t, "", deviceName(lines[:1]))
}
