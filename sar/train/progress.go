package train

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// IsTerminal reports whether f is a character device (an interactive
// terminal), where progress is drawn as a bar instead of log lines.
func IsTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progress reports training: a redrawn bar with loss, throughput and ETA
// on a terminal, plain log lines (one per logged metric) otherwise.
type progress struct {
	w     io.Writer
	tty   bool
	total int
	start time.Time
	first int // step the run (or resumption) started at
	drawn bool
}

func newProgress(w io.Writer, tty bool, first, total int) *progress {
	return &progress{w: w, tty: tty, total: total, start: time.Now(), first: first}
}

// eta estimates the time left from the pace since the run started.
func (p *progress) eta(done int) time.Duration {
	n := done - p.first
	if n <= 0 {
		return 0
	}
	per := time.Since(p.start) / time.Duration(n)
	return per * time.Duration(p.total-done)
}

// step redraws the bar after a step (terminal only).
func (p *progress) step(done int, r StepResult) {
	if !p.tty || p.w == nil {
		return
	}
	const width = 24
	fill := width * done / max(p.total, 1)
	bar := strings.Repeat("#", fill) + strings.Repeat(".", width-fill)
	tps := 0.0
	if s := r.Elapsed.Seconds(); s > 0 {
		tps = float64(r.Tokens) / s
	}
	fmt.Fprintf(p.w, "\r[%s] %d/%d loss %.4f  %.0f tok/s  ETA %s   ", bar, done, p.total, r.Loss, tps,
		p.eta(done).Round(time.Second))
	p.drawn = true
}

// log prints a metric line (non-terminal), or nothing on a terminal where
// the bar already shows it.
func (p *progress) log(m Metric) {
	if p.tty || p.w == nil {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "step %d/%d epoch %d", m.Step, p.total, m.Epoch)
	if m.Loss == nil {
		fmt.Fprintf(&b, " skipped %d: no finite step since the last line", m.Skipped)
		fmt.Fprintln(p.w, b.String())
		return
	}
	fmt.Fprintf(&b, " loss %.4f", *m.Loss)
	if m.LossTF != nil {
		fmt.Fprintf(&b, " tf %.4f", *m.LossTF)
	}
	if m.LossSF != nil {
		fmt.Fprintf(&b, " sf %.4f", *m.LossSF)
	}
	if m.LossCSFL != nil {
		fmt.Fprintf(&b, " csfl %.4f", *m.LossCSFL)
	}
	fmt.Fprintf(&b, " lr %.3g grad %.3f %.0f tok/s ETA %s", m.LR, *m.GradNorm, m.TokensPerS, p.eta(m.Step).Round(time.Second))
	if m.Skipped > 0 {
		fmt.Fprintf(&b, " skipped %d", m.Skipped)
	}
	fmt.Fprintln(p.w, b.String())
}

// note prints a message on its own line, ending a drawn bar first.
func (p *progress) note(format string, args ...any) {
	if p.w == nil {
		return
	}
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
	fmt.Fprintf(p.w, format+"\n", args...)
}
