package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// Record is the result of one case: sargo's rate, the reference's rate
// when one ran, and their ratio sargo/reference (above 1: sargo is faster).
type Record struct {
	Suite string `json:"suite"`
	Case  string `json:"case"`
	Unit  string `json:"unit"`
	// Sargo is the median rate of sargo's repeats.
	Sargo float64 `json:"sargo"`
	// Reference is the median rate of the reference, or null.
	Reference *float64 `json:"reference"`
	// Ratio is Sargo / Reference, or null without a reference.
	Ratio *float64 `json:"ratio"`
	// SargoSpread and ReferenceSpread are (max-min)/median of the repeats.
	SargoSpread     float64   `json:"sargo_spread"`
	ReferenceSpread *float64  `json:"reference_spread,omitempty"`
	SargoRuns       []float64 `json:"sargo_runs,omitempty"`
	// SargoCPU and ReferenceCPU are median rates per processor-second of
	// the whole process (0 or null when unknown), and RatioCPU their ratio.
	SargoCPU      float64   `json:"sargo_cpu,omitempty"`
	ReferenceCPU  *float64  `json:"reference_cpu,omitempty"`
	RatioCPU      *float64  `json:"ratio_cpu,omitempty"`
	ReferenceRuns []float64 `json:"reference_runs,omitempty"`
	// Device describes sargo's device; ReferenceDevice the reference's
	// (framework, device, threads, BLAS kernel).
	Device          string `json:"device"`
	ReferenceDevice string `json:"reference_device,omitempty"`
	// Params are the case's parameters, as sent to the reference.
	Params map[string]any `json:"params,omitempty"`
	// Memory is what one run did with memory, for the cases that measure
	// it.
	Memory *Memory `json:"memory,omitempty"`
	// Vulkan is what one run recorded on a Vulkan device (dispatches,
	// barriers, descriptors, host time per dispatch), measured with Memory.
	Vulkan *Dispatch `json:"vulkan,omitempty"`
	// Error says why the case, or its reference, has no result.
	Error string `json:"error,omitempty"`
}

// setReference fills the reference fields and the ratio.
func (r *Record) setReference(s Stats, device string) {
	med, spread := s.Median, s.Spread()
	r.Reference, r.ReferenceSpread, r.ReferenceRuns, r.ReferenceDevice = &med, &spread, s.Runs, device
	if med > 0 && r.Sargo > 0 {
		ratio := r.Sargo / med
		r.Ratio = &ratio
	}
	if s.CPU > 0 {
		cpu := s.CPU
		r.ReferenceCPU = &cpu
		if r.SargoCPU > 0 {
			ratio := r.SargoCPU / cpu
			r.RatioCPU = &ratio
		}
	}
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
