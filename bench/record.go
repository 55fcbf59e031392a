package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// Record is the result of one case: sargo's rate, the reference's rate
// when one ran, and the ratio sargo/reference (above 1: sargo is faster).
type Record struct {
	Suite string `json:"suite"`
	Case  string `json:"case"`
	Unit  string `json:"unit"`
	// Sargo is the median rate of sargo's repeats and SargoInterval its
	// 95% interval (null with fewer than 6 repeats).
	Sargo         float64   `json:"sargo"`
	SargoInterval *Interval `json:"sargo_interval,omitempty"`
	// Reference is the median rate of the reference, or null.
	Reference         *float64  `json:"reference"`
	ReferenceInterval *Interval `json:"reference_interval,omitempty"`
	// Ratio is the median over the pairs of repeats (each sargo repeat
	// and the reference repeat right after it) of sargo's rate over the
	// reference's, or null without a reference. RatioInterval is its 95%
	// interval (null with fewer than 6 pairs) and PairRatios the ratio of
	// each pair in order.
	Ratio         *float64  `json:"ratio"`
	RatioInterval *Interval `json:"ratio_interval,omitempty"`
	PairRatios    []float64 `json:"pair_ratios,omitempty"`
	// Stable says that the reported interval (the ratio's with a
	// reference, else sargo's rate's) lies within Tolerance of its median.
	Stable    bool    `json:"stable"`
	Tolerance float64 `json:"tolerance,omitempty"`
	// SargoSpread and ReferenceSpread are (max-min)/median of the repeats.
	SargoSpread     float64   `json:"sargo_spread"`
	ReferenceSpread *float64  `json:"reference_spread,omitempty"`
	SargoRuns       []float64 `json:"sargo_runs,omitempty"`
	// SargoCPU and ReferenceCPU are median rates per processor-second of
	// the whole process (0 or null when unknown), and RatioCPU the median
	// of their paired ratios.
	SargoCPU      float64   `json:"sargo_cpu,omitempty"`
	ReferenceCPU  *float64  `json:"reference_cpu,omitempty"`
	RatioCPU      *float64  `json:"ratio_cpu,omitempty"`
	ReferenceRuns []float64 `json:"reference_runs,omitempty"`
	// ModelGFLOP is the model's arithmetic in one run of the case (for the
	// cases that count it), GemmPeak the best rate (GFLOP/s) of sargo's
	// GEMM on GemmPeakCase in the same invocation, and MFU the model FLOP
	// utilisation: ModelGFLOP per second at sargo's median rate over
	// GemmPeak.
	ModelGFLOP   float64 `json:"model_gflop,omitempty"`
	GemmPeak     float64 `json:"gemm_peak,omitempty"`
	GemmPeakCase string  `json:"gemm_peak_case,omitempty"`
	MFU          float64 `json:"mfu,omitempty"`
	// Device describes sargo's device; ReferenceDevice the reference's
	// (framework, device, threads, BLAS kernel).
	Device          string `json:"device"`
	ReferenceDevice string `json:"reference_device,omitempty"`
	// Params are the case's parameters, as sent to the reference.
	Params map[string]any `json:"params,omitempty"`
	// SargoPeakBytes and ReferencePeakBytes are the peak resident memory
	// of each process while the case ran, for cases that ask for it (0 and
	// null otherwise, or where the system cannot tell).
	SargoPeakBytes     int64  `json:"sargo_peak_bytes,omitempty"`
	ReferencePeakBytes *int64 `json:"reference_peak_bytes,omitempty"`
	// Memory is what one run did with memory, for the cases that measure
	// it.
	Memory *Memory `json:"memory,omitempty"`
	// Error says why the case, or its reference, has no result.
	Error string `json:"error,omitempty"`
}

// Interval is a 95% confidence interval.
type Interval struct {
	Lo float64 `json:"lo"`
	Hi float64 `json:"hi"`
}

// interval is s's interval of the median, or nil when there is none.
func interval(s Stats) *Interval {
	if s.Lo == 0 && s.Hi == 0 {
		return nil
	}
	return &Interval{Lo: s.Lo, Hi: s.Hi}
}

// setSargo fills sargo's fields from its repeats.
func (r *Record) setSargo(s Stats) {
	r.Sargo, r.SargoSpread, r.SargoRuns, r.SargoCPU, r.SargoInterval = s.Median, s.Spread(), s.Runs, s.CPU, interval(s)
}

// setReference fills the reference fields and the paired ratios from the
// measured repeats.
func (r *Record) setReference(m measured, device string) {
	s := m.refStats()
	med, spread := s.Median, s.Spread()
	r.Reference, r.ReferenceSpread, r.ReferenceRuns, r.ReferenceDevice = &med, &spread, s.Runs, device
	r.ReferenceInterval = interval(s)
	if s.CPU > 0 {
		cpu := s.CPU
		r.ReferenceCPU = &cpu
	}
	if ratios := pairRatios(m.runs, m.refRuns); len(ratios) > 0 {
		rs := Summarise(ratios)
		ratio := rs.Median
		r.Ratio, r.RatioInterval, r.PairRatios = &ratio, interval(rs), ratios
	}
	if cpu := pairRatios(m.cpuRuns, m.refCPURuns); len(cpu) > 0 && len(cpu) == len(m.refRuns) {
		ratio := Summarise(cpu).Median
		r.RatioCPU = &ratio
	}
}

// setStable records whether the reported interval is within tol.
func (r *Record) setStable(tol float64) {
	r.Tolerance = tol
	iv, med := r.SargoInterval, r.Sargo
	if r.Ratio != nil {
		iv, med = r.RatioInterval, *r.Ratio
	}
	r.Stable = iv != nil && WithinTolerance(med, iv.Lo, iv.Hi, tol)
}

// WriteJSON writes records as an indented JSON list to path, through a
// temporary file renamed into place.
func WriteJSON(path string, records []Record) error {
	if records == nil {
		records = []Record{}
	}
	data, err := json.MarshalIndent(records, "", "  ")
	if err != nil {
		return fmt.Errorf("encode benchmark records: %w", err)
	}
	data = append(data, '\n')
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename %s to %s: %w", tmp, path, err)
	}
	return nil
}

// ReadJSON reads records written by WriteJSON.
func ReadJSON(path string) ([]Record, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read benchmark records: %w", err)
	}
	var rs []Record
	if err := json.Unmarshal(data, &rs); err != nil {
		return nil, fmt.Errorf("parse benchmark records %s: %w", path, err)
	}
	return rs, nil
}
