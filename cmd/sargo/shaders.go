package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"sargo/kernels/vulkan"
)

// shadersFlags are the flags of sargo shaders.
type shadersFlags struct {
	stats    bool
	families string
	asJSON   bool
	all      bool
}

func newShadersCmd(opts *globalOptions) *cobra.Command {
	f := &shadersFlags{}
	cmd := &cobra.Command{
		Use:   "shaders",
		Short: "List the Vulkan pipeline variants, or compile them and report register use",
		Long: `shaders lists every Vulkan pipeline variant the backend can launch on
--device (a vulkan device): each shader with the specialization constants
it is launched with (matmul tilings and transposes, reduction ops,
attention at each padded head dim 32, 64, 96 and 128, ...).

With --stats it compiles every variant with AMD's shader compiler on Mesa's
RADV null device (no AMD hardware needed; mesa-vulkan-drivers provides it)
for each family in --families, in wave64 and wave32, and reports per group
of variants the worst VGPRs, SGPRs, spilled registers, scratch memory, LDS
(shared memory), waves per SIMD and instruction count; --all reports every
variant, --json writes every variant with all the driver's statistics.
Rows that spill, use scratch or fall below the target's occupancy floor are
marked. docs/shader-stats.md is this report (make shader-stats).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.stats {
				return shaderStats(cmd.OutOrStdout(), f)
			}
			return listPipelines(cmd.OutOrStdout(), opts.device, f.asJSON)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.stats, "stats", false, "compile every variant on RADV's null device and report the compiler's statistics")
	fl.StringVar(&f.families, "families", "navi21,gfx1100", "RADV_FORCE_FAMILY names to compile for with --stats, comma-separated")
	fl.BoolVar(&f.asJSON, "json", false, "write JSON")
	fl.BoolVar(&f.all, "all", false, "with --stats, one row per variant instead of per group")
	return cmd
}

// listPipelines lists the pipeline variants for the Vulkan device named by
// device (vulkan:0 unless it names another).
func listPipelines(w io.Writer, device string, asJSON bool) error {
	devs, err := vulkan.Devices()
	if err != nil {
		return err
	}
	index := 0
	if device != "" && device != "vulkan" {
		if _, err := fmt.Sscanf(device, "vulkan:%d", &index); err != nil {
			return fmt.Errorf("--device %q: shaders lists Vulkan pipelines; name a device vulkan or vulkan:N", device)
		}
	}
	if index < 0 || index >= len(devs) {
		return fmt.Errorf("--device %q: there are %d Vulkan devices", device, len(devs))
	}
	ps := vulkan.Pipelines(devs[index])
	if asJSON {
		return writeJSON(w, ps)
	}
	fmt.Fprintf(w, "%d pipeline variants on vulkan:%d (%s)\n", len(ps), index, devs[index].Name)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "shader\tgroup\tvariant\tspec")
	for _, p := range ps {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%v\n", p.Shader, p.Group, p.Label, p.Spec)
	}
	return tw.Flush()
}

// shaderStats compiles every variant for each RADV target and prints the
// statistics.
func shaderStats(w io.Writer, f *shadersFlags) error {
	reps, err := vulkan.RADVStatsFamilies(f.families)
	if err != nil {
		return fmt.Errorf("--families %s: %w", f.families, err)
	}
	if f.asJSON {
		return writeJSON(w, reps)
	}
	for _, rep := range reps {
		floor := rep.Floor
		fmt.Fprintf(w, "%s (%s, %s), occupancy floor %d waves/SIMD\n", rep.Target, rep.Device, rep.Driver, floor)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "pipeline\tVGPRs\tSGPRs\tspilled\tscratch\tLDS\twaves/SIMD\tinstructions\t\tproblems\t")
		if f.all {
			for _, p := range rep.Pipelines {
				fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\t%s\t\n", p.Name(), p.VGPRs, p.SGPRs, p.SpilledVGPRs+p.SpilledSGPRs,
					p.ScratchBytes, p.LDSBytes, p.WavesPerSIMD, p.Instructions, strings.Join(p.Problems(floor), "; "))
			}
		} else {
			for _, g := range rep.Summarize(floor) {
				problems := ""
				if g.Failing > 0 {
					problems = fmt.Sprintf("%d of %d variants", g.Failing, g.Variants)
				}
				fmt.Fprintf(tw, "%s (%d)\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\t%s\t\n", g.Group, g.Variants, g.VGPRs, g.SGPRs, g.SpilledVGPRs+g.SpilledSGPRs,
					g.ScratchBytes, g.LDSBytes, g.WavesPerSIMD, g.Instructions, problems)
			}
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
