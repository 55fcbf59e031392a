package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// DefaultPython is the interpreter of the reference scripts: Debian's,
// which has python3-torch and numpy.
const DefaultPython = "/usr/bin/python3"

// DefaultTorchDir holds the reference scripts, relative to the repository
// root.
const DefaultTorchDir = "bench/torch"

// TorchRunner runs the PyTorch reference of a suite:
// <Python> <Dir>/bench_<suite>.py reads a TorchRequest as JSON on stdin
// and prints a TorchOutput as JSON on stdout; its stderr is progress.
type TorchRunner struct {
	Python string
	Dir    string
	// Device is "cpu", "cuda", or "auto" (CUDA when available, else CPU).
	Device string
	// Threads is the CPU thread count of the reference (torch and BLAS).
	Threads int
	Timing  Timing
	Seed    uint64
	// Options choose among PyTorch's paths (TF32, attention).
	Options TorchOptions
	// Stderr receives the script's progress; nil discards it.
	Stderr io.Writer
}

// TorchRequest is what a reference script reads on stdin.
type TorchRequest struct {
	Suite   string      `json:"suite"`
	Device  string      `json:"device"`
	Threads int         `json:"threads"`
	Warmup  int         `json:"warmup"`
	Repeats int         `json:"repeats"`
	MinTime float64     `json:"min_time"`
	Budget  float64     `json:"budget"`
	Seed    uint64      `json:"seed"`
	Cases   []TorchCase `json:"cases"`
	TorchOptions
}

// TorchCase is one case as the reference script sees it.
type TorchCase struct {
	Case   string         `json:"case"`
	Kind   string         `json:"kind"`
	Unit   string         `json:"unit"`
	Work   float64        `json:"work"`
	Params map[string]any `json:"params"`
}

// TorchOutput is what a reference script prints on stdout.
type TorchOutput struct {
	Info    TorchInfo     `json:"info"`
	Results []TorchResult `json:"results"`
}

// TorchInfo describes the reference's environment.
type TorchInfo struct {
	Torch   string `json:"torch"`
	Device  string `json:"device"`
	Threads int    `json:"threads"`
	// BLAS names the BLAS library and the kernel it runs, when known.
	BLAS string `json:"blas"`
	TF32 bool   `json:"tf32"`
	// Attention is the attention path the script took, when it says.
	Attention string `json:"attention,omitempty"`
}

// String is a one-line summary, such as
// "torch 1.13.0 cpu, 2 threads, OpenBLAS core=Haswell".
func (i TorchInfo) String() string {
	s := fmt.Sprintf("torch %s %s", i.Torch, i.Device)
	if i.Threads > 0 {
		s += fmt.Sprintf(", %d threads", i.Threads)
	}
	if i.BLAS != "" {
		s += ", " + i.BLAS
	}
	if strings.HasPrefix(i.Device, "cuda") {
		s += fmt.Sprintf(", tf32=%v", i.TF32)
	}
	if i.Attention != "" {
		s += ", attention=" + i.Attention
	}
	return s
}

// TorchResult is the reference's measurement of one case: the rate of
// each repeat, or an error.
type TorchResult struct {
	Case string    `json:"case"`
	Runs []float64 `json:"runs"`
	// CPURuns are the rates per processor-second of the whole process.
	CPURuns []float64 `json:"cpu_runs,omitempty"`
	Error   string    `json:"error,omitempty"`
}

// ParseTorchOutput decodes and checks a reference script's stdout. Fields
// it does not know are ignored, so that scripts may report more.
func ParseTorchOutput(data []byte) (TorchOutput, error) {
	var out TorchOutput
	if err := json.Unmarshal(bytes.TrimSpace(data), &out); err != nil {
		return TorchOutput{}, fmt.Errorf("parse reference output: %w", err)
	}
	for i, r := range out.Results {
		if r.Case == "" {
			return TorchOutput{}, fmt.Errorf("parse reference output: result %d has no case name", i)
		}
		if r.Error == "" && len(r.Runs) == 0 {
			return TorchOutput{}, fmt.Errorf("parse reference output: case %q has neither runs nor an error", r.Case)
		}
	}
	return out, nil
}

// Script is the path of a suite's reference script.
func (t *TorchRunner) Script(suite string) string {
	dir := t.Dir
	if dir == "" {
		dir = DefaultTorchDir
	}
	return filepath.Join(dir, "bench_"+suite+".py")
}

// torchProbe imports torch and prints its version and file. A folder named
// torch in the working directory would import as an empty namespace
// package, with no version and no file, so both are required.
const torchProbe = `import torch, sys
v, f = getattr(torch, "__version__", None), getattr(torch, "__file__", None)
if not v or not f:
    sys.exit("torch imported from %s is not PyTorch (no version or file)" % list(getattr(torch, "__path__", [])))
print(v, f)`

// TorchAvailable reports why python (DefaultPython when empty) cannot run
// the reference scripts, or nil. It runs from the system's temporary folder,
// so that no folder of the caller's working directory can stand in for the
// torch package.
func TorchAvailable(python string) error {
	if python == "" {
		python = DefaultPython
	}
	cmd := exec.Command(python, "-c", torchProbe)
	cmd.Dir = os.TempDir()
	cmd.Env = ReferenceEnv(os.Environ(), 1)
	out, err := cmd.CombinedOutput()
	if err != nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		return fmt.Errorf("%s cannot import PyTorch (install python3-torch: scripts/setup.sh --python): %s", python, lines[len(lines)-1])
	}
	return nil
}

// Run executes the reference of suite for cases.
func (t *TorchRunner) Run(ctx context.Context, suite string, cases []Case) (TorchOutput, error) {
	script := t.Script(suite)
	if _, err := os.Stat(script); err != nil {
		return TorchOutput{}, fmt.Errorf("reference script for suite %s: %w", suite, err)
	}
	if err := t.Options.Check(); err != nil {
		return TorchOutput{}, err
	}
	req := TorchRequest{Suite: suite, Device: t.Device, Threads: t.Threads, Warmup: t.Timing.Warmup,
		Repeats: t.Timing.Repeats, MinTime: t.Timing.MinTime.Seconds(), Budget: t.Timing.Budget.Seconds(), Seed: t.Seed,
		TorchOptions: t.Options}
	for _, c := range cases {
		req.Cases = append(req.Cases, TorchCase{Case: c.Name, Kind: c.Kind, Unit: c.Unit, Work: c.Work, Params: c.Params})
	}
	in, err := json.Marshal(req)
	if err != nil {
		return TorchOutput{}, fmt.Errorf("encode reference request: %w", err)
	}
	python := t.Python
	if python == "" {
		python = DefaultPython
	}
	cmd := exec.CommandContext(ctx, python, script)
	cmd.Stdin = bytes.NewReader(in)
	var stdout bytes.Buffer
	tail := &tailBuffer{max: 4096}
	cmd.Stdout = &stdout
	cmd.Stderr = tail
	if t.Stderr != nil {
		cmd.Stderr = io.MultiWriter(tail, t.Stderr)
	}
	cmd.Env = ReferenceEnv(os.Environ(), t.Threads)
	if err := cmd.Run(); err != nil {
		return TorchOutput{}, fmt.Errorf("run %s %s: %w: %s", python, script, err, strings.TrimSpace(tail.String()))
	}
	out, err := ParseTorchOutput(stdout.Bytes())
	if err != nil {
		return TorchOutput{}, fmt.Errorf("%s: %w", script, err)
	}
	return out, nil
}

// ReferenceEnv is the environment of the reference process: env without
// OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE (so that OpenBLAS picks its kernel
// for the machine), with every thread-count variable set to threads, and
// without writing bytecode caches into the scripts' folder.
func ReferenceEnv(env []string, threads int) []string {
	drop := map[string]bool{"OPENBLAS_CORETYPE": true, "OPENBLAS_L2_SIZE": true,
		"OMP_NUM_THREADS": true, "OPENBLAS_NUM_THREADS": true, "MKL_NUM_THREADS": true}
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if !drop[k] {
			out = append(out, kv)
		}
	}
	out = append(out, "PYTHONDONTWRITEBYTECODE=1")
	if threads > 0 {
		n := strconv.Itoa(threads)
		out = append(out, "OMP_NUM_THREADS="+n, "OPENBLAS_NUM_THREADS="+n, "MKL_NUM_THREADS="+n)
	}
	return out
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.buf = append(b.buf, p...)
	if len(b.buf) > b.max {
		b.buf = b.buf[len(b.buf)-b.max:]
	}
	return len(p), nil
}

func (b *tailBuffer) String() string { return string(b.buf) }
