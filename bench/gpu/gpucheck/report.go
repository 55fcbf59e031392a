package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"sargo/bench"
)

// Summary is everything a run of bench/gpu/run.sh found, as written to
// summary.json (and, as tables, summary.md).
type Summary struct {
	Generated string `json:"generated"`
	// Device is the Vulkan device the run used, as `sargo devices` names it,
	// and DeviceType its type line (discrete, integrated, cpu...); CPUDriver
	// is set when it is a CPU implementation (lavapipe), whose figures are
	// no GPU's.
	Device     string `json:"device"`
	DeviceType string `json:"device_type,omitempty"`
	CPUDriver  bool   `json:"cpu_driver,omitempty"`
	// Reference is run.sh's "reference:" line: the PyTorch it compared
	// with, or "absent: ..." when no torch there saw CUDA.
	Reference string `json:"reference,omitempty"`
	// Mode is run.sh's mode line ("quick, limit 230s"); in quick mode the
	// bench runs tiny shapes and its targets are not judged.
	Mode string   `json:"mode,omitempty"`
	Env  []string `json:"env,omitempty"`
	Peak Peak     `json:"peak"`
	// Phases are run.sh's steps in the order they ran (or were skipped).
	Phases     []Phase         `json:"phases"`
	Robustness []RobustCase    `json:"robustness"`
	Bench      []BenchRow      `json:"bench"`
	Profile    []ProfileResult `json:"profile"`
	Targets    []Target        `json:"targets"`
}

// Phase is one step of run.sh: a test binary, a bench or profile run.
type Phase struct {
	Name  string `json:"name"`
	Group string `json:"group"`
	// Variant names the reference path of a bench phase (fp32, tf32,
	// unfused, sdpa, eager).
	Variant string `json:"variant,omitempty"`
	// Status is pass, fail, timeout or skipped (no time left).
	Status  string  `json:"status"`
	RC      int     `json:"rc"`
	Seconds float64 `json:"seconds"`
	Timeout float64 `json:"timeout"`
	Log     string  `json:"log,omitempty"`
	JSON    string  `json:"json,omitempty"`
	Command string  `json:"command,omitempty"`
	// Tests summarises a test phase's log; Failures names its failed
	// tests (at most 30).
	Tests    *TestLog `json:"tests,omitempty"`
	Failures []string `json:"failures,omitempty"`
	// Records is the number of records of a bench phase.
	Records int `json:"records,omitempty"`
}

// RobustCase is a test or conformance case about special values or bounds.
type RobustCase struct {
	Phase  string `json:"phase"`
	Name   string `json:"name"`
	Result string `json:"result"`
}

// BenchRow is one bench case with its reference under every variant that
// ran.
type BenchRow struct {
	Suite string  `json:"suite"`
	Case  string  `json:"case"`
	Unit  string  `json:"unit"`
	Sargo float64 `json:"sargo"`
	// PeakFraction is Sargo over the device's fp32 peak (GFLOP/s cases);
	// MeasuredPeakFraction over the best cuBLAS fp32 GEMM rate of the run.
	PeakFraction         *float64   `json:"peak_fraction,omitempty"`
	MeasuredPeakFraction *float64   `json:"measured_peak_fraction,omitempty"`
	Refs                 []BenchRef `json:"refs,omitempty"`
	Error                string     `json:"error,omitempty"`
}

// BenchRef is the reference of a case under one variant.
type BenchRef struct {
	Variant   string   `json:"variant"`
	Reference *float64 `json:"reference"`
	// Ratio is sargo/reference as measured in the same bench run.
	Ratio  *float64 `json:"ratio"`
	Device string   `json:"device,omitempty"`
	Error  string   `json:"error,omitempty"`
}

// Peak is the fp32 peak that fractions are taken of.
type Peak struct {
	TFLOPS float64 `json:"tflops,omitempty"`
	// Source says where TFLOPS comes from: a datasheet entry, the
	// --peak-tflops flag or SARGO_GPU_PEAK_TFLOPS, or nothing.
	Source string `json:"source"`
	// MeasuredGFLOPS is the best reference rate of the matmul suite with
	// TF32 off (cuBLAS fp32 on a GPU) in this run.
	MeasuredGFLOPS float64 `json:"measured_gflops,omitempty"`
	MeasuredSource string  `json:"measured_source,omitempty"`
}

// Target is one of the first run's targets and whether it was met (nil:
// not measured).
type Target struct {
	Name string `json:"name"`
	Want string `json:"want"`
	Got  string `json:"got"`
	Met  *bool  `json:"met"`
}

func reportCmd(args []string) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	out := fs.String("out", "", "folder for summary.json and summary.md (default WORKDIR)")
	peak := fs.Float64("peak-tflops", 0, "the device's fp32 peak in TFLOP/s (default $SARGO_GPU_PEAK_TFLOPS, else the datasheet table)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("report: want one WORKDIR\n%s", usage)
	}
	work := fs.Arg(0)
	if *out == "" {
		*out = work
	}
	if *peak == 0 {
		if v := os.Getenv("SARGO_GPU_PEAK_TFLOPS"); v != "" {
			p, err := strconv.ParseFloat(v, 64)
			if err != nil || p <= 0 {
				return fmt.Errorf("report: SARGO_GPU_PEAK_TFLOPS=%q: want a positive number of TFLOP/s", v)
			}
			*peak = p
		}
	}
	s, err := buildSummary(work, *peak, time.Now())
	if err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(*out, "summary.json"), s); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(*out, "summary.md"))
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := writeMarkdown(f, s); err != nil {
		f.Close()
		return fmt.Errorf("report: write %s: %w", f.Name(), err)
	}
	return f.Close()
}

// buildSummary reads a run's working folder.
func buildSummary(work string, peakTFLOPS float64, now time.Time) (*Summary, error) {
	s := &Summary{Generated: now.UTC().Format(time.RFC3339)}
	phases, err := readPhases(filepath.Join(work, "phases.tsv"))
	if err != nil {
		return nil, err
	}
	s.Env = readLines(filepath.Join(work, "env.txt"))
	for _, l := range s.Env {
		if m, ok := strings.CutPrefix(l, "mode: "); ok {
			s.Mode = m
		}
		if r, ok := strings.CutPrefix(l, "reference: "); ok {
			s.Reference = r
		}
	}
	devices := readLines(filepath.Join(work, "devices.txt"))
	s.Device = deviceName(devices)
	for _, l := range devices {
		f := strings.Fields(l)
		if len(f) == 2 && f[0] == "type:" && s.DeviceType == "" {
			s.DeviceType = f[1]
			s.CPUDriver = f[1] == "cpu"
		}
	}
	rows := map[string]*BenchRow{}
	var order []string
	for i := range phases {
		p := &phases[i]
		switch p.Group {
		case "check":
			if p.Log == "" || p.Status == "skipped" {
				break
			}
			f, err := os.Open(filepath.Join(work, p.Log))
			if err != nil {
				break
			}
			l := parseTestLog(f)
			f.Close()
			p.Failures = l.failures(30)
			for _, t := range l.Tests {
				if isRobustCase(p.Name, t.Name, t.Result) {
					s.Robustness = append(s.Robustness, RobustCase{Phase: p.Name, Name: t.Name, Result: t.Result})
				}
			}
			l.Tests = nil
			p.Tests = &l
		case "bench":
			if p.JSON == "" {
				break
			}
			recs, err := bench.ReadJSON(filepath.Join(work, p.JSON))
			if err != nil {
				break
			}
			p.Records = len(recs)
			for _, r := range recs {
				key := r.Suite + "/" + r.Case
				row := rows[key]
				if row == nil {
					row = &BenchRow{Suite: r.Suite, Case: r.Case, Unit: r.Unit, Sargo: r.Sargo}
					rows[key] = row
					order = append(order, key)
					if s.Device == "" {
						s.Device = r.Device
					}
				}
				if row.Sargo == 0 && r.Sargo > 0 {
					row.Sargo = r.Sargo
				}
				if r.Sargo == 0 && r.Error != "" && row.Error == "" {
					row.Error = r.Error
				}
				ref := BenchRef{Variant: p.Variant, Reference: r.Reference, Ratio: r.Ratio, Device: r.ReferenceDevice, Error: r.Error}
				row.Refs = append(row.Refs, ref)
				if r.Suite == "matmul" && p.Variant == "fp32" && r.Reference != nil && *r.Reference > s.Peak.MeasuredGFLOPS {
					s.Peak.MeasuredGFLOPS = *r.Reference
					s.Peak.MeasuredSource = fmt.Sprintf("best reference rate of the matmul suite with TF32 off (%s: %s)", r.Case, r.ReferenceDevice)
				}
			}
		case "profile":
			if p.JSON == "" {
				break
			}
			data, err := os.ReadFile(filepath.Join(work, p.JSON))
			if err != nil {
				break
			}
			var prof []ProfileResult
			if json.Unmarshal(data, &prof) == nil {
				s.Profile = append(s.Profile, prof...)
			}
		}
	}
	s.Phases = phases
	switch {
	case peakTFLOPS > 0:
		s.Peak.TFLOPS, s.Peak.Source = peakTFLOPS, "given (--peak-tflops or SARGO_GPU_PEAK_TFLOPS)"
	default:
		if t, name, ok := datasheetPeak(s.Device); ok {
			s.Peak.TFLOPS, s.Peak.Source = t, fmt.Sprintf("datasheet fp32 peak of %s", name)
		} else {
			s.Peak.Source = "none: the device is not in the datasheet table"
		}
	}
	for _, k := range order {
		row := rows[k]
		if row.Unit == "GFLOP/s" && row.Sargo > 0 {
			if s.Peak.TFLOPS > 0 {
				f := row.Sargo / (1e3 * s.Peak.TFLOPS)
				row.PeakFraction = &f
			}
			if s.Peak.MeasuredGFLOPS > 0 {
				f := row.Sargo / s.Peak.MeasuredGFLOPS
				row.MeasuredPeakFraction = &f
			}
		}
		s.Bench = append(s.Bench, *row)
	}
	s.Targets = targets(s)
	if s.ReferenceAbsent() {
		for i := range s.Targets[:3] {
			if s.Targets[i].Met == nil {
				s.Targets[i].Got = "not measured: the PyTorch CUDA reference was absent"
			}
		}
	}
	if strings.HasPrefix(s.Mode, "quick") {
		for i := range s.Targets[:3] {
			if s.Targets[i].Met != nil {
				s.Targets[i].Got, s.Targets[i].Met = "quick sizes, not judged: "+s.Targets[i].Got, nil
			}
		}
	}
	return s, nil
}

// isRobustCase reports whether a test of a check phase goes in the table
// of special values and bounds: in the robustness phase, whose tests are
// all about them, each top-level test and any failed subtest; elsewhere,
// tests named for them (not the "nan=false" halves of a NaN case).
func isRobustCase(phase, name, result string) bool {
	if strings.HasPrefix(phase, "robustness") {
		return !strings.Contains(name, "/") || result == "FAIL"
	}
	return robustnessName.MatchString(name) && !strings.Contains(strings.ToLower(name), "nan=false")
}

// ReferenceAbsent reports whether run.sh found no PyTorch to compare with.
func (s *Summary) ReferenceAbsent() bool { return strings.HasPrefix(s.Reference, "absent") }

// DeviceLabel names the device with what kind of processor it is, so that
// a CPU driver's figures are never read as a GPU's.
func (s *Summary) DeviceLabel() string {
	name := s.Device
	if name == "" {
		name = "unknown device"
	}
	switch {
	case s.CPUDriver:
		return name + " (a CPU driver, not a GPU)"
	case s.DeviceType != "":
		return name + " (" + s.DeviceType + " GPU)"
	}
	return name
}

// readPhases reads run.sh's phases.tsv: a header line, then one line per
// phase with name, group, variant, status, rc, seconds, timeout, log, json
// and command separated by tabs ("-" for none).
func readPhases(path string) ([]Phase, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	defer f.Close()
	var out []Phase
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		if line == 1 || strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		c := strings.Split(sc.Text(), "\t")
		if len(c) != 10 {
			return nil, fmt.Errorf("report: %s:%d: %d fields, want 10 (name, group, variant, status, rc, seconds, timeout, log, json, command)", path, line, len(c))
		}
		for i := range c {
			if c[i] == "-" {
				c[i] = ""
			}
		}
		rc, err1 := strconv.Atoi(c[4])
		sec, err2 := strconv.ParseFloat(c[5], 64)
		to, err3 := strconv.ParseFloat(c[6], 64)
		if err := errors.Join(err1, err2, err3); err != nil {
			return nil, fmt.Errorf("report: %s:%d: %w", path, line, err)
		}
		out = append(out, Phase{Name: c[0], Group: c[1], Variant: c[2], Status: c[3], RC: rc, Seconds: sec, Timeout: to,
			Log: c[7], JSON: c[8], Command: c[9]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("report: %s: %w", path, err)
	}
	return out, nil
}

func readLines(path string) []string {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	return strings.Split(strings.TrimRight(string(data), "\n"), "\n")
}

// deviceName is the name of the default Vulkan device in `sargo devices`
// output: the line "* vulkan:N   NAME (default vulkan)".
func deviceName(lines []string) string {
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) < 3 || f[0] != "*" || !strings.HasPrefix(f[1], "vulkan") {
			continue
		}
		name := strings.Join(f[2:], " ")
		return strings.TrimSpace(strings.TrimSuffix(name, "(default vulkan)"))
	}
	return ""
}

// targets checks the first GPU run's targets against what was measured.
func targets(s *Summary) []Target {
	ref := func(row BenchRow, variant string) *float64 {
		for _, r := range row.Refs {
			if r.Variant == variant {
				return r.Ratio
			}
		}
		return nil
	}
	var out []Target

	t := Target{Name: "fp32 matmul at 4096 against cuBLAS with TF32 off", Want: "ratio ≥ 0.70", Got: "not measured"}
	for _, row := range s.Bench {
		if row.Suite == "matmul" && row.Case == "square 4096x4096x4096 NN" {
			if r := ref(row, "fp32"); r != nil {
				t.Got, t.Met = fmt.Sprintf("%.2f×", *r), boolPtr(*r >= 0.7)
			}
		}
	}
	out = append(out, t)

	t = Target{Name: "attention forward against PyTorch's unfused path", Want: "ratio > 1 for every shape", Got: "not measured"}
	lowest, n := math.Inf(1), 0
	for _, row := range s.Bench {
		if row.Suite == "attention" && strings.HasPrefix(row.Case, "forward ") {
			if r := ref(row, "unfused"); r != nil {
				lowest, n = math.Min(lowest, *r), n+1
			}
		}
	}
	if n > 0 {
		t.Got, t.Met = fmt.Sprintf("lowest %.2f× over %d shapes", lowest, n), boolPtr(lowest > 1)
	}
	out = append(out, t)

	t = Target{Name: "train step time against PyTorch CUDA fp32 eager", Want: "≤ 1.5× PyTorch's time (ratio ≥ 1/1.5)", Got: "not measured"}
	var got []string
	met := true
	for _, row := range s.Bench {
		if row.Suite == "train" {
			if r := ref(row, "eager"); r != nil {
				got = append(got, fmt.Sprintf("%s %.2f×", strings.Fields(row.Case)[0], *r))
				met = met && *r >= 1/1.5
			}
		}
	}
	if len(got) > 0 {
		t.Got, t.Met = strings.Join(got, ", "), boolPtr(met)
	}
	out = append(out, t)

	t = Target{Name: "validation messages", Want: "none", Got: "not measured"}
	msgs, validated := 0, 0
	for _, p := range s.Phases {
		if p.Tests != nil && strings.Contains(p.Name, "validation") {
			validated++
			msgs += p.Tests.ValidationMessages
		}
	}
	if validated > 0 {
		t.Got, t.Met = fmt.Sprintf("%d in %d validated phases", msgs, validated), boolPtr(msgs == 0)
	}
	out = append(out, t)

	t = Target{Name: "conformance suite", Want: "all green", Got: "not measured"}
	var conf []string
	green := true
	for _, p := range s.Phases {
		if !strings.Contains(p.Name, "conformance") {
			continue
		}
		if p.Tests == nil {
			conf, green = append(conf, p.Name+" "+p.Status), false
			continue
		}
		conf = append(conf, fmt.Sprintf("%s %s (%d passed, %d failed)", p.Name, p.Status, p.Tests.Passed, p.Tests.Failed))
		green = green && p.Status == "pass" && p.Tests.Failed == 0 && p.Tests.Passed > 0
	}
	if len(conf) > 0 {
		t.Got, t.Met = strings.Join(conf, "; "), boolPtr(green)
	}
	return append(out, t)
}

func boolPtr(b bool) *bool { return &b }
