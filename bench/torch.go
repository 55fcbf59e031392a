package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// DefaultPython is the interpreter of the reference scripts: Debian's,
// which has python3-torch and numpy.
const DefaultPython = "/usr/bin/python3"

// DefaultTorchDir holds the reference scripts, relative to the repository
// root.
const DefaultTorchDir = "bench/torch"

// TorchRunner runs the PyTorch reference of a suite as a process,
// <Python> <Dir>/bench_<suite>.py, that takes its cases one at a time
// (TorchSession) so that its repeats can alternate with sargo's. Its
// stderr is progress.
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

// The protocol between sargo and a reference script is one JSON object per
// line each way. sargo first writes a TorchHeader and the script answers
// with {"info": TorchInfo}; then sargo writes TorchCommands, each answered
// by one TorchReply:
//
//	{"cmd": "setup", "case": TorchCase}  set the case up and run its warm-ups
//	{"cmd": "repeat"}                    one timed repeat: {"rate": R, "cpu_rate": C}
//	{"cmd": "release"}                   free the case
//
// A reply with "error" reports a failure of that command; the script
// exits when its stdin closes.

// TorchHeader is the first line a reference script reads.
type TorchHeader struct {
	Suite   string `json:"suite"`
	Device  string `json:"device"`
	Threads int    `json:"threads"`
	Warmup  int    `json:"warmup"`
	// MinTime is the least duration of one repeat, in seconds.
	MinTime float64 `json:"min_time"`
	Seed    uint64  `json:"seed"`
	TorchOptions
}

// TorchCommand is one command to a reference script.
type TorchCommand struct {
	Cmd  string     `json:"cmd"`
	Case *TorchCase `json:"case,omitempty"`
}

// TorchReply is a reference script's answer to the header or a command.
type TorchReply struct {
	Info *TorchInfo `json:"info,omitempty"`
	OK   bool       `json:"ok,omitempty"`
	// Rate and CPURate are a repeat's rate per wall-clock second and per
	// processor-second of the whole process.
	Rate    float64 `json:"rate,omitempty"`
	CPURate float64 `json:"cpu_rate,omitempty"`
	// PeakBytes, in the reply to release, is the script's peak resident
	// memory from the case's setup to its release, for cases with
	// "peak_memory" in their parameters.
	PeakBytes int64  `json:"peak_bytes,omitempty"`
	Error     string `json:"error,omitempty"`
}

// TorchCase is one case as the reference script sees it.
type TorchCase struct {
	Case   string         `json:"case"`
	Kind   string         `json:"kind"`
	Unit   string         `json:"unit"`
	Work   float64        `json:"work"`
	Params map[string]any `json:"params"`
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

// Start runs the reference script of suite and reads its description.
// The process ends when ctx ends or the session is closed.
func (t *TorchRunner) Start(ctx context.Context, suite string) (*TorchSession, error) {
	script := t.Script(suite)
	if _, err := os.Stat(script); err != nil {
		return nil, fmt.Errorf("reference script for suite %s: %w", suite, err)
	}
	if err := t.Options.Check(); err != nil {
		return nil, err
	}
	python := t.Python
	if python == "" {
		python = DefaultPython
	}
	cmd := exec.CommandContext(ctx, python, script)
	s := &TorchSession{cmd: cmd, name: python + " " + script, tail: &tailBuffer{max: 4096}}
	cmd.Stderr = s.tail
	if t.Stderr != nil {
		cmd.Stderr = io.MultiWriter(s.tail, t.Stderr)
	}
	cmd.Env = ReferenceEnv(os.Environ(), t.Threads)
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("reference %s: %w", s.name, err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("reference %s: %w", s.name, err)
	}
	s.in, s.out = in, bufio.NewReader(out)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", s.name, err)
	}
	hdr := TorchHeader{Suite: suite, Device: t.Device, Threads: t.Threads, Warmup: t.Timing.Warmup,
		MinTime: t.Timing.MinTime.Seconds(), Seed: t.Seed, TorchOptions: t.Options}
	rep, err := s.call(hdr)
	if err == nil && rep.Info == nil {
		err = fmt.Errorf("reference %s: the first reply has no info", s.name)
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	s.Info = *rep.Info
	return s, nil
}

// TorchSession is a running reference script.
type TorchSession struct {
	// Info describes the reference's environment.
	Info TorchInfo
	cmd  *exec.Cmd
	name string
	in   io.WriteCloser
	out  *bufio.Reader
	tail *tailBuffer
	// dead is set once the process failed; no command is sent after it.
	dead error
}

// Setup sets c up in the reference and runs its warm-ups.
func (s *TorchSession) Setup(c Case) error {
	_, err := s.call(TorchCommand{Cmd: "setup", Case: &TorchCase{Case: c.Name, Kind: c.Kind, Unit: c.Unit, Work: c.Work, Params: c.Params}})
	return err
}

// repeat runs one timed repeat of the case set up last.
func (s *TorchSession) repeat() (float64, float64, error) {
	rep, err := s.call(TorchCommand{Cmd: "repeat"})
	if err != nil {
		return 0, 0, err
	}
	if !(rep.Rate > 0) {
		return 0, 0, fmt.Errorf("reference %s: repeat reported rate %v", s.name, rep.Rate)
	}
	return rep.Rate, rep.CPURate, nil
}

// Release frees the case set up last and returns the script's peak
// resident memory while it ran (0 unless the case asked for it).
func (s *TorchSession) Release() (peakBytes int64, err error) {
	rep, err := s.call(TorchCommand{Cmd: "release"})
	return rep.PeakBytes, err
}

// Alive reports whether the process can take more commands.
func (s *TorchSession) Alive() bool { return s.dead == nil }

// Close ends the script (closing its stdin) and waits for it.
func (s *TorchSession) Close() error {
	s.in.Close()
	err := s.cmd.Wait()
	if s.dead == nil {
		s.dead = errors.New("closed")
	}
	if err != nil {
		return fmt.Errorf("reference %s: %w: %s", s.name, err, strings.TrimSpace(s.tail.String()))
	}
	return nil
}

// call sends msg and reads one reply. A reply with an error fails the
// command; a broken pipe or malformed reply fails the session.
func (s *TorchSession) call(msg any) (TorchReply, error) {
	if s.dead != nil {
		return TorchReply{}, fmt.Errorf("reference %s stopped: %w", s.name, s.dead)
	}
	line, err := json.Marshal(msg)
	if err != nil {
		return TorchReply{}, fmt.Errorf("encode reference command: %w", err)
	}
	if _, err := s.in.Write(append(line, '\n')); err != nil {
		return TorchReply{}, s.fail(err)
	}
	raw, err := s.out.ReadBytes('\n')
	if err != nil {
		return TorchReply{}, s.fail(err)
	}
	var rep TorchReply
	if err := json.Unmarshal(bytes.TrimSpace(raw), &rep); err != nil {
		return TorchReply{}, s.fail(fmt.Errorf("parse reference reply %q: %w", bytes.TrimSpace(raw), err))
	}
	if rep.Error != "" {
		return rep, fmt.Errorf("reference: %s", rep.Error)
	}
	return rep, nil
}

// fail marks the session dead and describes err with the script's last
// words.
func (s *TorchSession) fail(err error) error {
	s.dead = err
	return fmt.Errorf("reference %s: %w: %s", s.name, err, strings.TrimSpace(s.tail.String()))
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

// tailBuffer keeps the last max bytes written to it; the process's output
// goroutine writes while the caller may read.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if len(b.buf) > b.max {
		b.buf = b.buf[len(b.buf)-b.max:]
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
