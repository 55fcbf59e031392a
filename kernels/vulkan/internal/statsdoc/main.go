// Command statsdoc writes docs/shader-stats.md: every pipeline variant of
// the Vulkan backend compiled with AMD's shader compiler on Mesa's RADV
// null device (kernels/vulkan RADVStats) for each target, summarised per
// group of variants, beside the same summary for the shaders as they were
// before the tuned kernels (a committed baseline), and rewrites the
// generated tables of kernels/vulkan/shaders/README.md (see blockBegin).
// Run it with `make shader-stats`; -write-baseline writes the baseline
// instead.
//
// Layering: a generator run by make shader-stats; it imports kernels/vulkan
// and internal utilities.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
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
	readme := flag.String("readme", "kernels/vulkan/shaders/README.md", "the shader README whose statistics blocks to rewrite (empty: none)")
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
	return writeReadmeBlocks(readme, reps)
}

// Markers of the README's generated blocks: each block starts with
// "<!-- stats:begin PREFIXES [variants] -->", where PREFIXES is a
// comma-separated list of group-name prefixes, and ends with
// "<!-- stats:end -->". A block is a table of the groups whose names start
// with one of the prefixes (a row per variant with "variants").
const (
	blockBegin = "<!-- stats:begin "
	blockEnd   = "<!-- stats:end -->"
)

// writeReadmeBlocks rewrites every generated block of the README at path
// from reps.
func writeReadmeBlocks(path string, reps []vulkan.StatsReport) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	rest, blocks := data, 0
	for {
		i := bytes.Index(rest, []byte(blockBegin))
		if i < 0 {
			break
		}
		eol := bytes.IndexByte(rest[i:], '\n')
		if eol < 0 {
			return fmt.Errorf("%s: unterminated %q line", path, blockBegin)
		}
		marker := string(rest[i : i+eol])
		args, ok := strings.CutSuffix(strings.TrimPrefix(marker, blockBegin), " -->")
		if !ok {
			return fmt.Errorf("%s: %q does not end with -->", path, marker)
		}
		j := bytes.Index(rest[i:], []byte(blockEnd))
		if j < 0 {
			return fmt.Errorf("%s: %q has no %q", path, marker, blockEnd)
		}
		table, err := readmeTable(reps, strings.Fields(args))
		if err != nil {
			return fmt.Errorf("%s: %s: %w", path, marker, err)
		}
		out.Write(rest[:i+eol+1])
		out.WriteString(table)
		rest = rest[i+j:]
		blocks++
	}
	if blocks == 0 {
		return fmt.Errorf("%s: no %q ... %q block", path, blockBegin+"PREFIXES -->", blockEnd)
	}
	out.Write(rest)
	return atomicfile.WriteFile(path, out.Bytes())
}

// readmeTable is the table of one README block with arguments args (see
// blockBegin): the most shared memory of each row, and per target the
// most VGPRs and fewest waves per SIMD.
func readmeTable(reps []vulkan.StatsReport, args []string) (string, error) {
	if len(args) == 0 || len(args) > 2 || (len(args) == 2 && args[1] != "variants") {
		return "", fmt.Errorf("want PREFIXES [variants], got %q", strings.Join(args, " "))
	}
	prefixes := strings.Split(args[0], ",")
	perVariant := len(args) == 2
	match := func(group string) bool {
		return slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(group, p) })
	}
	// rows in the order of the first report, each with its cells per target
	type row struct {
		name string
		lds  int
		vgpr []int
		wave []int
	}
	var rows []*row
	index := map[string]*row{}
	for k, rep := range reps {
		// each item is a row's name, its group, and its statistics
		type item struct {
			name, group string
			s           vulkan.GroupStats
		}
		var items []item
		if perVariant {
			for _, p := range rep.Pipelines {
				items = append(items, item{p.Name(), p.Group, vulkan.GroupStats{VGPRs: p.VGPRs, LDSBytes: p.LDSBytes, WavesPerSIMD: p.WavesPerSIMD}})
			}
		} else {
			for _, g := range rep.Summarize(rep.Floor) {
				items = append(items, item{g.Group, g.Group, g})
			}
		}
		for _, it := range items {
			if !match(it.group) {
				continue
			}
			r, ok := index[it.name]
			if !ok {
				r = &row{name: it.name, vgpr: make([]int, len(reps)), wave: make([]int, len(reps))}
				for t := range reps {
					r.vgpr[t] = -1 // not on that target
				}
				index[it.name] = r
				rows = append(rows, r)
			}
			r.lds = max(r.lds, it.s.LDSBytes)
			r.vgpr[k], r.wave[k] = it.s.VGPRs, it.s.WavesPerSIMD
		}
	}
	if len(rows) == 0 {
		return "", fmt.Errorf("no group starts with %s", args[0])
	}
	var b strings.Builder
	first := "group"
	if perVariant {
		first = "variant"
	}
	fmt.Fprintf(&b, "| %s | LDS B |", first)
	for _, rep := range reps {
		fmt.Fprintf(&b, " %s |", rep.Target)
	}
	b.WriteString("\n|---|---:|" + strings.Repeat("---:|", len(reps)) + "\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %d |", r.name, r.lds)
		for k := range reps {
			if r.vgpr[k] < 0 {
				b.WriteString(" – |")
				continue
			}
			fmt.Fprintf(&b, " %d / %d |", r.vgpr[k], r.wave[k])
		}
		b.WriteString("\n")
	}
	return b.String(), nil
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
