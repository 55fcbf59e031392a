// Command statsdoc writes docs/shader-stats.md: every pipeline variant of
// the Vulkan backend compiled with AMD's shader compiler on Mesa's RADV
// null device (kernels/vulkan RADVStats) for each target, summarised per
// group of variants, beside the same summary for the shaders as they were
// before the tuned kernels (a committed baseline). Run it with
// `make shader-stats`; -write-baseline writes the baseline instead.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	"sargo/internal/atomicfile"
	"sargo/kernels/vulkan"
)

// baseline is the committed summary the document compares against.
type baseline struct {
	Note    string                         `json:"note"`
	Targets map[string][]vulkan.GroupStats `json:"targets"`
}

func main() {
	out := flag.String("o", "docs/shader-stats.md", "the document to write")
	readme := flag.String("readme", "kernels/vulkan/shaders/README.md", "the shader README whose statistics block to rewrite (empty: none)")
	families := flag.String("families", "navi21,gfx1100", "RADV_FORCE_FAMILY names, comma-separated")
	basePath := flag.String("baseline", "docs/shader-stats-before.json", "the baseline summary")
	writeBase := flag.String("write-baseline", "", "write the current summary as the baseline, with this note, instead of the document")
	flag.Parse()
	if err := run(*out, *readme, *families, *basePath, *writeBase); err != nil {
		fmt.Fprintln(os.Stderr, "statsdoc:", err)
		os.Exit(1)
	}
}

func run(out, readme, families, basePath, writeBase string) error {
	reps, err := vulkan.RADVStatsFamilies(families)
	if err != nil {
		return fmt.Errorf("-families %s: %w", families, err)
	}
	if writeBase != "" {
		b := baseline{Note: writeBase, Targets: map[string][]vulkan.GroupStats{}}
		for _, rep := range reps {
			b.Targets[rep.Target] = rep.Summarize(rep.Floor)
		}
		data, err := json.MarshalIndent(b, "", " ")
		if err != nil {
			return err
		}
		return atomicfile.WriteFile(basePath, append(data, '\n'))
	}
	data, err := os.ReadFile(basePath)
	if err != nil {
		return fmt.Errorf("read the baseline: %w", err)
	}
	var base baseline
	if err := json.Unmarshal(data, &base); err != nil {
		return fmt.Errorf("%s: %w", basePath, err)
	}
	var doc bytes.Buffer
	writeDoc(&doc, reps, base)
	if err := atomicfile.WriteFile(out, doc.Bytes()); err != nil {
		return err
	}
	if readme == "" {
		return nil
	}
	return writeReadmeBlock(readme, reps)
}

// tunedGroups are the group prefixes of the tuned kernels that the shader
// README's table shows.
var tunedGroups = []string{"matmul", "conv2d", "reduce", "norm_backward_params", "scatter_add", "interpolate_backward"}

// Markers of the README's generated block.
const (
	blockBegin = "<!-- stats:begin -->\n"
	blockEnd   = "<!-- stats:end -->"
)

// writeReadmeBlock rewrites the block between the markers of the README
// at path with the tuned kernels' worst VGPRs and fewest waves per SIMD on
// each target.
func writeReadmeBlock(path string, reps []vulkan.StatsReport) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	i, j := bytes.Index(data, []byte(blockBegin)), bytes.Index(data, []byte(blockEnd))
	if i < 0 || j < i {
		return fmt.Errorf("%s: no %q ... %q block", path, strings.TrimSpace(blockBegin), blockEnd)
	}
	var b bytes.Buffer
	b.WriteString("VGPRs / waves per SIMD, worst over each group's variants:\n\n| group |")
	for _, rep := range reps {
		fmt.Fprintf(&b, " %s |", rep.Target)
	}
	b.WriteString("\n|---|" + strings.Repeat("---:|", len(reps)) + "\n")
	sums := make([]map[string]vulkan.GroupStats, len(reps))
	for k, rep := range reps {
		sums[k] = map[string]vulkan.GroupStats{}
		for _, g := range rep.Summarize(rep.Floor) {
			sums[k][g.Group] = g
		}
	}
	for _, g := range reps[0].Summarize(reps[0].Floor) {
		tuned := false
		for _, p := range tunedGroups {
			tuned = tuned || strings.HasPrefix(g.Group, p)
		}
		if !tuned {
			continue
		}
		fmt.Fprintf(&b, "| %s |", g.Group)
		for k := range reps {
			s := sums[k][g.Group]
			fmt.Fprintf(&b, " %d / %d |", s.VGPRs, s.WavesPerSIMD)
		}
		b.WriteString("\n")
	}
	out := append(append(append([]byte{}, data[:i+len(blockBegin)]...), b.Bytes()...), data[j:]...)
	return atomicfile.WriteFile(path, out)
}

func writeDoc(w *bytes.Buffer, reps []vulkan.StatsReport, base baseline) {
	w.WriteString(header)
	fmt.Fprintf(w, "Compiled by %s. Occupancy floors (waves per SIMD):", reps[0].Driver)
	for _, rep := range reps {
		fmt.Fprintf(w, " %s %d;", rep.Target, rep.Floor)
	}
	w.WriteString("\n\n")
	for _, rep := range reps {
		floor := rep.Floor
		fmt.Fprintf(w, "## %s (%s)\n\n", rep.Target, rep.Device)
		var failing []string
		for _, p := range rep.Pipelines {
			if pr := p.Problems(floor); len(pr) > 0 {
				failing = append(failing, fmt.Sprintf("- `%s`: %s", p.Name(), strings.Join(pr, "; ")))
			}
		}
		fmt.Fprintf(w, "After (%d pipelines", len(rep.Pipelines))
		if len(failing) == 0 {
			w.WriteString(", none failing):\n\n")
		} else {
			fmt.Fprintf(w, ", %d failing):\n\n", len(failing))
		}
		table(w, rep.Summarize(floor))
		if len(failing) > 0 {
			w.WriteString("\nFailing pipelines:\n\n")
			w.WriteString(strings.Join(failing, "\n"))
			w.WriteString("\n")
		}
		if b, ok := base.Targets[rep.Target]; ok {
			fmt.Fprintf(w, "\nBefore (%s):\n\n", base.Note)
			table(w, b)
		}
		w.WriteString("\n")
	}
}

func table(w *bytes.Buffer, gs []vulkan.GroupStats) {
	w.WriteString("| group | variants | VGPRs | SGPRs | spilled | scratch B/wave | LDS B | waves/SIMD | instructions | failing |\n")
	w.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, g := range gs {
		fmt.Fprintf(w, "| %s | %d | %d | %d | %d | %d | %d | %d | %d | %d |\n", g.Group, g.Variants, g.VGPRs, g.SGPRs,
			g.SpilledVGPRs+g.SpilledSGPRs, g.ScratchBytes, g.LDSBytes, g.WavesPerSIMD, g.Instructions, g.Failing)
	}
}

const header = `# Shader statistics on AMD's compiler

Generated by ` + "`make shader-stats`" + ` (kernels/vulkan/internal/statsdoc); do not edit by hand.

Every pipeline variant the Vulkan backend can launch (each shader with the
specialization constants the Go side passes: every matmul tiling with both
transposes, accumulation and split-K, every reduction op and pass,
attention at each padded head dim 32, 64, 96 and 128, ...; the list is ` + "`Variants`" + ` in
kernels/gpu/variants.go) is compiled with
` + "`VK_PIPELINE_CREATE_CAPTURE_STATISTICS_BIT_KHR`" + ` on Mesa's RADV null device
(` + "`VK_ICD_FILENAMES=.../radeon_icd.x86_64.json RADV_FORCE_FAMILY=<family>`" + `,
` + "`RADV_PERFTEST=cswave32`" + ` for wave32), which runs AMD's real shader compiler
(ACO) without AMD hardware, and its statistics are read with
` + "`vkGetPipelineExecutableStatisticsKHR`" + `. ` + "`sargo shaders --stats`" + ` prints the
same tables (` + "`--all`" + ` per variant, ` + "`--json`" + ` with every statistic), and
` + "`SARGO_SHADER_STATS=navi21,gfx1100 go test -run TestShaderStats ./kernels/vulkan/`" + `
(run by .ci/run) fails on any spilled register, any scratch memory and any
pipeline below its target's occupancy floor.

Each row is a group of variants with the worst value of each statistic over
the group: the most VGPRs, SGPRs, spilled registers, scratch bytes per wave,
LDS (shared memory) bytes and instructions, and the fewest waves per SIMD.
"failing" counts the variants with a spill, scratch memory or occupancy
below the floor.

## Occupancy floors

RADV's "waves per SIMD" is the number of waves of the pipeline one SIMD
can hold at once: the least of the hardware's wave slots, the VGPR file
divided by the VGPRs one wave needs, and the shared memory (LDS) of a
workgroup processor (128 KiB, 32 KiB per SIMD in RADV's model) divided
among the waves of the workgroups it holds. On RDNA (navi21, gfx1100)
RADV reports it in units of 32 invocations whatever the wave size: a
wave64 wave counts twice, so the figures of the two wave sizes compare
directly.

The floor is 8 on RDNA, that is 256 resident invocations per SIMD (4
wave64 or 8 wave32 waves), and 4 waves on GCN (vega, wave64 only, counted
once). A SIMD issues one instruction per cycle from one of its resident
waves, and a global-memory load takes several hundred cycles; a kernel
hides that latency with independent work, either other waves or its own
instructions. The register-blocked matmul does 128 FMAs per thread
between the shared-memory reads of one pair of k (8x8 outputs) and fetches
the next tile into registers while it computes, so 4 wave64 waves of it
keep a SIMD busy; memory-bound kernels (elementwise ops, reductions,
norms) have little work per load and need more waves, and all of them are
far above the floor. The floor also bounds what a tuned kernel may trade
for registers or shared memory: at most 128 VGPRs per invocation (512 per
SIMD lane in wave64, 1024 in wave32 on RDNA2) and, for a 256-invocation
workgroup, at most 32 KiB of shared memory.

`
