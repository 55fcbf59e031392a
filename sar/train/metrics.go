package train

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
)

// Metric is one line of metrics.jsonl, written every LogEvery steps.
// Losses are averaged over the steps since the previous line that were
// not skipped (SkipNonFinite); Skipped counts those that were. When every
// step since the previous line was skipped, the line has no loss and no
// gradient norm (nil), rather than a loss of 0.
type Metric struct {
	Step       int      `json:"step"`
	Epoch      int      `json:"epoch"`
	Loss       *float64 `json:"loss,omitempty"`
	LossTF     *float64 `json:"loss_tf,omitempty"`
	LossSF     *float64 `json:"loss_sf,omitempty"`
	LossCSFL   *float64 `json:"loss_csfl,omitempty"`
	LR         float64  `json:"lr"`
	GradNorm   *float64 `json:"grad_norm,omitempty"`
	TokensPerS float64  `json:"tokens_per_s"`
	Seconds    float64  `json:"seconds"`
	// DataWait is the seconds the steps since the previous line waited
	// for their images to be decoded (StepResult.DataWait).
	DataWait float64 `json:"data_wait_s"`
	Skipped  int     `json:"skipped,omitempty"`
}

// meter averages step results into a Metric.
type meter struct {
	n, skipped           int
	loss, tf, sf, csfl   float64
	grad                 float64
	tokens               int
	seconds, wait        float64
	hasTF, hasSF, hasCSF bool
}

func (m *meter) add(r StepResult, method string) {
	m.seconds += r.Elapsed.Seconds()
	m.wait += r.DataWait.Seconds()
	m.tokens += r.Tokens
	if r.Skipped {
		m.skipped++
		return
	}
	m.n++
	m.loss += r.Loss
	m.grad += r.GradNorm
	switch method {
	case MethodTF:
		m.tf += r.LossTF
		m.hasTF = true
	case MethodSF:
		m.sf += r.LossSF
		m.hasSF = true
	case MethodSAR:
		m.tf += r.LossTF
		m.csfl += r.LossCSFL
		m.hasTF, m.hasCSF = true, true
	}
}

// flush returns the averaged metric for the last result and resets.
func (m *meter) flush(last StepResult, total float64) Metric {
	out := Metric{Step: last.Step + 1, Epoch: last.Epoch, LR: last.LR, Seconds: total, DataWait: m.wait, Skipped: m.skipped}
	if m.seconds > 0 {
		out.TokensPerS = float64(m.tokens) / m.seconds
	}
	if n := float64(m.n); n > 0 {
		ptr := func(v float64) *float64 { return &v }
		out.Loss, out.GradNorm = ptr(m.loss/n), ptr(m.grad/n)
		if m.hasTF {
			out.LossTF = ptr(m.tf / n)
		}
		if m.hasSF {
			out.LossSF = ptr(m.sf / n)
		}
		if m.hasCSF {
			out.LossCSFL = ptr(m.csfl / n)
		}
	}
	*m = meter{}
	return out
}

// ReadMetrics reads a metrics.jsonl file.
func ReadMetrics(path string) ([]Metric, error) {
	buf, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read metrics: %w", err)
	}
	var out []Metric
	sc := bufio.NewScanner(bytes.NewReader(buf))
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var m Metric
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			return nil, fmt.Errorf("metrics %s line %d: %w", path, line, err)
		}
		out = append(out, m)
	}
	return out, sc.Err()
}
