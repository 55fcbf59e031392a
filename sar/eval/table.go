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

// WriteExposureTable prints an exposure-bias measurement as an aligned
// text table: one row per scale with the cross-entropy (nats per token)
// under each kind of input and the two gaps with their standard errors,
// and a last row of token-weighted means.
func WriteExposureTable(w io.Writer, e *Exposure) error {
	fmt.Fprintf(w, "exposure bias on %d test images, schedule %s, model predictions %s\n", e.Images, e.Schedule, e.Predictions)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "scale\tCE GT inputs\tCE SSR inputs\tCE chained inputs\tgap SSR\t±se\tgap chained\t±se\t\n")
	for k, s := range e.Scales {
		fmt.Fprintf(tw, "%d\t%.4f\t%.4f\t%.4f\t%+.4f\t%.4f\t%+.4f\t%.4f\t\n",
			s, e.GT[k], e.SSR[k], e.Chained[k], e.GapSSR[k], e.SEGapSSR[k], e.GapChained[k], e.SEGapChained[k])
	}
	fmt.Fprintf(tw, "all\t%.4f\t%.4f\t%.4f\t%+.4f\t%.4f\t%+.4f\t%.4f\t\n",
		e.MeanGT, e.MeanSSR, e.MeanChained, e.MeanGapSSR, e.SEMeanGapSSR, e.MeanGapChained, e.SEMeanGapChained)
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write exposure table: %w", err)
	}
	return nil
}
