package eval

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteTable prints reports as an aligned text table, one row per report
// labelled by its Model field.
func WriteTable(w io.Writer, reports []*Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "model\tstep\tFID (%s)\taccuracy\tIS\tprecision\trecall\timages/s\trecon\tcode usage\t\n", FeatureName)
	for _, r := range reports {
		fmt.Fprintf(tw, "%s\t%d\t%.3f\t%.4f\t%.3f\t%.4f\t%.4f\t%.1f\t%.4f\t%.3f\t\n",
			r.Model, r.Step, r.FID, r.Accuracy, r.IS, r.Precision, r.Recall, r.ImagesPerS, r.TokenizerRecon, r.CodebookUsage)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}
