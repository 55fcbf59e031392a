package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"sargo/kernels/vulkan"
)

// testReports are two targets' reports of three pipelines in two groups;
// the second target lacks one pipeline.
func testReports() []vulkan.StatsReport {
	p := func(group, label string, vgprs, lds, waves int) vulkan.ShaderStats {
		return vulkan.ShaderStats{Group: group, Variant: label, VGPRs: vgprs, LDSBytes: lds, WavesPerSIMD: waves}
	}
	return []vulkan.StatsReport{
		{Target: "navi21 wave64", Floor: 8, Pipelines: []vulkan.ShaderStats{
			p("matmul big", "ta=0", 100, 2048, 8), p("matmul big", "ta=1", 112, 2048, 9), p("reduce rows", "sum", 8, 512, 32)}},
		{Target: "navi21 wave32", Floor: 8, Pipelines: []vulkan.ShaderStats{
			p("matmul big", "ta=0", 96, 2048, 10), p("reduce rows", "sum", 16, 512, 32)}},
	}
}

func TestWriteReadmeBlocks(t *testing.T) {
	for _, tc := range []struct {
		name, in, want, err string
	}{
		{name: "groups and variants",
			in: "# T\n<!-- stats:begin matmul -->\nold\n<!-- stats:end -->\ntext\n<!-- stats:begin matmul,reduce variants -->\n<!-- stats:end -->\n",
			want: "# T\n<!-- stats:begin matmul -->\n" +
				"| group | LDS B | navi21 wave64 | navi21 wave32 |\n|---|---:|---:|---:|\n" +
				"| matmul big | 2048 | 112 / 8 | 96 / 10 |\n" +
				"<!-- stats:end -->\ntext\n<!-- stats:begin matmul,reduce variants -->\n" +
				"| variant | LDS B | navi21 wave64 | navi21 wave32 |\n|---|---:|---:|---:|\n" +
				"| matmul big ta=0 | 2048 | 100 / 8 | 96 / 10 |\n" +
				"| matmul big ta=1 | 2048 | 112 / 9 | – |\n" +
				"| reduce rows sum | 512 | 8 / 32 | 16 / 32 |\n" +
				"<!-- stats:end -->\n"},
		{name: "no block", in: "# T\n", err: "no \"<!-- stats:begin PREFIXES -->\""},
		{name: "unknown prefix", in: "<!-- stats:begin conv -->\n<!-- stats:end -->\n", err: "no group starts with conv"},
		{name: "bad mode", in: "<!-- stats:begin matmul all -->\n<!-- stats:end -->\n", err: "want PREFIXES [variants]"},
		{name: "no end", in: "<!-- stats:begin matmul -->\n", err: "has no \"<!-- stats:end -->\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "README.md")
			require.NoError(t, os.WriteFile(path, []byte(tc.in), 0o644))
			err := writeReadmeBlocks(path, testReports())
			got, rerr := os.ReadFile(path)
			require.NoError(t, rerr)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				require.Equal(t, tc.in, string(got), "file changed on error")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, string(got))
		})
	}
}
