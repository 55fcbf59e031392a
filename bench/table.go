package bench

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteTable prints records as an aligned table: suite, case, unit, sargo's
// rate ± spread, the reference's, the ratio, and the ratio of the rates
// per processor-second. Missing values print as
// "-"; errors are listed under the table.
func WriteTable(w io.Writer, records []Record) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "suite\tcase\tunit\tsargo\t±\treference\t±\tratio\tratio/cpu-s\t")
	var notes []string
	for _, r := range records {
		ref, refSpread, ratio, ratioCPU := "-", "-", "-", "-"
		if r.Reference != nil {
			ref = formatRate(*r.Reference)
		}
		if r.ReferenceSpread != nil {
			refSpread = formatSpread(*r.ReferenceSpread)
		}
		if r.Ratio != nil {
			ratio = fmt.Sprintf("%.2fx", *r.Ratio)
		}
		if r.RatioCPU != nil {
			ratioCPU = fmt.Sprintf("%.2fx", *r.RatioCPU)
		}
		sargo, spread := formatRate(r.Sargo), formatSpread(r.SargoSpread)
		if r.Sargo == 0 {
			sargo, spread = "-", "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Suite, r.Case, r.Unit, sargo, spread, ref, refSpread, ratio, ratioCPU)
		if r.Error != "" {
			notes = append(notes, fmt.Sprintf("%s/%s: %s", r.Suite, r.Case, r.Error))
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("print benchmark table: %w", err)
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
