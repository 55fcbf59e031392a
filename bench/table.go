package bench

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteTable prints records as an aligned table: suite, case, unit, sargo's
// rate ± spread, the reference's, the median paired ratio with its 95%
// interval and the number of pairs, the ratio of the rates per
// processor-second, and the model FLOP utilisation where a case counts
// it. Missing values print as "-"; an interval that is not within the
// tolerance is marked "*"; errors are listed under the table.
func WriteTable(w io.Writer, records []Record) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "suite\tcase\tunit\tsargo\t±\treference\t±\tratio\t95% interval\tpairs\tratio/cpu-s\tMFU\t")
	var notes []string
	unstable := false
	for _, r := range records {
		ref, refSpread, ratio, iv, pairs, ratioCPU, mfu := "-", "-", "-", "-", "-", "-", "-"
		if r.Reference != nil {
			ref = formatRate(*r.Reference)
		}
		if r.ReferenceSpread != nil {
			refSpread = formatSpread(*r.ReferenceSpread)
		}
		if r.Ratio != nil {
			ratio, pairs = formatRatio(*r.Ratio), fmt.Sprint(len(r.PairRatios))
			iv = formatInterval(r.RatioInterval)
			if !r.Stable {
				iv += "*"
				unstable = true
			}
		}
		if r.RatioCPU != nil {
			ratioCPU = formatRatio(*r.RatioCPU)
		}
		if r.MFU > 0 {
			mfu = fmt.Sprintf("%.0f%%", 100*r.MFU)
		}
		sargo, spread := formatRate(r.Sargo), formatSpread(r.SargoSpread)
		if r.Sargo == 0 {
			sargo, spread = "-", "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Suite, r.Case, r.Unit, sargo, spread, ref, refSpread,
			ratio, iv, pairs, ratioCPU, mfu)
		if r.Error != "" {
			notes = append(notes, fmt.Sprintf("%s/%s: %s", r.Suite, r.Case, r.Error))
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("print benchmark table: %w", err)
	}
	var tail []string
	if unstable {
		tail = append(tail, "* the 95% interval of the ratio is wider than the tolerance, or there were fewer than 6 pairs")
	}
	for _, r := range records {
		if r.MFU > 0 {
			tail = append(tail, fmt.Sprintf("MFU: model FLOPs per second over the GEMM peak %s GFLOP/s (%s)", formatRate(r.GemmPeak), r.GemmPeakCase))
			break
		}
	}
	if len(tail) > 0 {
		if _, err := fmt.Fprintf(w, "\n%s\n", strings.Join(tail, "\n")); err != nil {
			return fmt.Errorf("print benchmark table: %w", err)
		}
	}
	if err := writePeaks(w, records); err != nil {
		return fmt.Errorf("print benchmark table: %w", err)
	}
	if len(notes) > 0 {
		if _, err := fmt.Fprintf(w, "\nerrors:\n  %s\n", strings.Join(notes, "\n  ")); err != nil {
			return fmt.Errorf("print benchmark table: %w", err)
		}
	}
	return nil
}

// formatRate prints a rate with three significant digits or more.
func formatRate(v float64) string {
	switch {
	case v >= 1000:
		return fmt.Sprintf("%.0f", v)
	case v >= 100:
		return fmt.Sprintf("%.1f", v)
	case v >= 1:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3g", v)
	}
}

// formatSpread prints a relative spread as a percentage.
func formatSpread(v float64) string { return fmt.Sprintf("%.0f%%", 100*v) }

// writePeaks lists the peak memory of the records that measured it, with
// the budget their parameters state (budget_bytes and its explanation).
func writePeaks(w io.Writer, records []Record) error {
	var lines []string
	for _, r := range records {
		if r.SargoPeakBytes == 0 && r.ReferencePeakBytes == nil {
			continue
		}
		line := fmt.Sprintf("%s/%s: sargo %s", r.Suite, r.Case, formatBytes(r.SargoPeakBytes))
		if r.ReferencePeakBytes != nil {
			line += ", reference " + formatBytes(*r.ReferencePeakBytes)
		}
		if b, ok := r.Params["budget_bytes"].(int64); ok {
			line += fmt.Sprintf("; budget %s (%v)", formatBytes(b), r.Params["budget"])
		}
		lines = append(lines, line)
	}
	if len(lines) == 0 {
		return nil
	}
	_, err := fmt.Fprintf(w, "\npeak resident memory while sampling:\n  %s\n", strings.Join(lines, "\n  "))
	return err
}

// formatBytes prints a size in GiB or MiB.
func formatBytes(b int64) string {
	if b >= 1<<30 {
		return fmt.Sprintf("%.2f GiB", float64(b)/(1<<30))
	}
	return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20))
}

// formatRatio prints a ratio such as "1.23x".
func formatRatio(v float64) string { return fmt.Sprintf("%.2fx", v) }

// formatInterval prints an interval of ratios as "[1.10, 1.35]", or "-".
func formatInterval(iv *Interval) string {
	if iv == nil {
		return "-"
	}
	return fmt.Sprintf("[%.2f, %.2f]", iv.Lo, iv.Hi)
}
