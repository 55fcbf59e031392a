package main

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"
)

// writeMarkdown prints the summary as Markdown tables: checks, special
// values and bounds, one table per bench suite, the profile and the
// targets.
func writeMarkdown(w io.Writer, s *Summary) error {
	b := bufio.NewWriter(w)
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	p("# sargo on %s\n\nGenerated %s by bench/gpu/run.sh.\n\n", s.DeviceLabel(), s.Generated)
	if s.CPUDriver {
		p("**%s is a CPU implementation of Vulkan: its timings measure this machine's processor, not a GPU. "+
			"Use them to check the script, never as GPU figures.**\n\n", s.Device)
	}
	for _, l := range s.Env {
		if strings.HasPrefix(l, "date:") || strings.HasPrefix(l, "gpu:") || strings.HasPrefix(l, "reference:") ||
			strings.HasPrefix(l, "commit:") || strings.HasPrefix(l, "mode:") || strings.HasPrefix(l, "VK_ICD_FILENAMES=") {
			p("- %s\n", l)
		}
	}
	p("\n## Phases\n\n| phase | status | passed | failed | skipped | seconds (limit) |\n|---|---|---:|---:|---:|---:|\n")
	for _, ph := range s.Phases {
		pass, fail, skip := "", "", ""
		if ph.Tests != nil {
			pass, fail, skip = fmt.Sprint(ph.Tests.Passed), fmt.Sprint(ph.Tests.Failed), fmt.Sprint(ph.Tests.Skipped)
		} else if ph.Group == "bench" && ph.Status != "skipped" {
			pass = fmt.Sprintf("%d records", ph.Records)
		}
		p("| %s | %s | %s | %s | %s | %.0f (%.0f) |\n", ph.Name, ph.Status, pass, fail, skip, ph.Seconds, ph.Timeout)
	}
	for _, ph := range s.Phases {
		if len(ph.Failures) > 0 {
			p("\nFailed in %s (%s): %s\n", ph.Name, ph.Log, strings.Join(ph.Failures, ", "))
		}
		if ph.Tests != nil && ph.Tests.Ending != "" && strings.HasPrefix(ph.Tests.Ending, "panic") {
			p("\n%s ended with: `%s`\n", ph.Name, ph.Tests.Ending)
		}
	}

	p("\n## Special values and bounds\n\n")
	if len(s.Robustness) == 0 {
		p("No test or conformance case named for NaN, Inf, bounds or ids ran.\n")
	} else {
		p("| phase | test | result |\n|---|---|---|\n")
		for _, r := range s.Robustness {
			p("| %s | %s | %s |\n", r.Phase, r.Name, r.Result)
		}
	}

	p("\n## Benchmarks\n\nfp32 peak: ")
	if s.Peak.TFLOPS > 0 {
		p("%.1f TFLOP/s (%s)", s.Peak.TFLOPS, s.Peak.Source)
	} else {
		p("%s", s.Peak.Source)
	}
	if s.Peak.MeasuredGFLOPS > 0 {
		p("; measured: %.0f GFLOP/s, the %s", s.Peak.MeasuredGFLOPS, s.Peak.MeasuredSource)
	}
	if s.ReferenceAbsent() {
		p(". Reference %s: the tables hold sargo's figures only.\n", s.Reference)
	} else {
		p(". Ratios are sargo/PyTorch in the same bench run (above 1: sargo is faster).\n")
	}
	suite := ""
	for _, row := range s.Bench {
		if row.Suite != suite {
			suite = row.Suite
			variants := suiteVariants(s, suite)
			p("\n### %s\n\n| case | sargo | unit | %% peak | %% measured peak |", suite)
			for _, v := range variants {
				p(" torch %s | ratio |", v)
			}
			p("\n|---|---:|---|---:|---:|")
			for range variants {
				p("---:|---:|")
			}
			p("\n")
		}
		p("| %s | %s | %s | %s | %s |", row.Case, rate(row.Sargo), row.Unit, percent(row.PeakFraction), percent(row.MeasuredPeakFraction))
		for _, v := range suiteVariants(s, suite) {
			refRate, ratio := "-", "-"
			for _, r := range row.Refs {
				if r.Variant == v {
					if r.Reference != nil {
						refRate = rate(*r.Reference)
					}
					if r.Ratio != nil {
						ratio = fmt.Sprintf("%.2f×", *r.Ratio)
					}
				}
			}
			p(" %s | %s |", refRate, ratio)
		}
		p("\n")
	}
	// The references, each description once with the variants that had it.
	var devices []string
	variants := map[string][]string{}
	for _, row := range s.Bench {
		for _, r := range row.Refs {
			if r.Device == "" {
				continue
			}
			vs, ok := variants[r.Device]
			if !ok {
				devices = append(devices, r.Device)
			}
			if !slices.Contains(vs, r.Variant) {
				variants[r.Device] = append(vs, r.Variant)
			}
		}
	}
	if len(devices) > 0 {
		p("\nReferences:\n\n")
		for _, d := range devices {
			p("- %s: %s\n", strings.Join(variants[d], ", "), d)
		}
	}

	p("\n## Profile (Vulkan timestamps around every dispatch)\n\n")
	if len(s.Profile) == 0 {
		p("No profile ran.\n")
	} else {
		p("| case | wall ms/step | GPU ms/step | idle ms/step | idle | dispatches/step | host CPU µs/dispatch | most GPU time |\n|---|---:|---:|---:|---:|---:|---:|---|\n")
		for _, r := range s.Profile {
			if r.Error != "" {
				p("| %s/%s | error: %s |||||||\n", r.Suite, r.Case, oneLine(r.Error))
				continue
			}
			var top []string
			for i, sh := range r.Shaders {
				if i == 4 {
					break
				}
				top = append(top, fmt.Sprintf("%s %.2f ms", sh.Name, sh.Ms))
			}
			p("| %s/%s | %.2f | %.2f | %.2f | %.0f%% | %.0f | %.1f | %s |\n", r.Suite, r.Case, r.WallMs, r.GPUMs, r.IdleMs,
				100*r.IdleFraction, r.Dispatches, r.HostUsPerDispatch, strings.Join(top, ", "))
		}
		p("\nGPU ms/step sums the dispatches' own times; idle is wall minus that. Host CPU µs/dispatch is the whole process's processor time in a step over its dispatches")
		if s.CPUDriver {
			p(" (on this CPU driver that time includes the device's own work)")
		}
		p(".\n")
	}

	p("\n## Targets\n\n| target | want | got | met |\n|---|---|---|---|\n")
	for _, t := range s.Targets {
		met := "not measured"
		if strings.HasPrefix(t.Got, "quick sizes") {
			met = "not judged"
		}
		if t.Met != nil {
			met = map[bool]string{true: "yes", false: "**no**"}[*t.Met]
		}
		p("| %s | %s | %s | %s |\n", t.Name, t.Want, t.Got, met)
	}

	var errs []string
	for _, row := range s.Bench {
		for _, r := range row.Refs {
			if r.Error != "" {
				errs = append(errs, fmt.Sprintf("- %s/%s (%s): %s", row.Suite, row.Case, r.Variant, oneLine(r.Error)))
			}
		}
	}
	if len(errs) > 0 {
		p("\n## Errors\n\n%s\n", strings.Join(errs, "\n"))
	}
	return b.Flush()
}

// suiteVariants lists the reference variants of a suite's rows, in the
// order the phases ran.
func suiteVariants(s *Summary, suite string) []string {
	var out []string
	seen := map[string]bool{}
	for _, row := range s.Bench {
		if row.Suite != suite {
			continue
		}
		for _, r := range row.Refs {
			if !seen[r.Variant] {
				seen[r.Variant] = true
				out = append(out, r.Variant)
			}
		}
	}
	return out
}

func rate(v float64) string {
	switch {
	case v == 0:
		return "-"
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 1:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3g", v)
	}
}

func percent(f *float64) string {
	if f == nil {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100**f)
}

// oneLine keeps a message to one table cell: no newlines or pipes, at most
// 300 characters.
func oneLine(s string) string {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\n", " "), "|", "/")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
