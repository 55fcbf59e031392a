package main

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"sargo/dist"
	"sargo/sar"
	"sargo/sar/preset"
	"sargo/sar/tokenizer"
	"sargo/sar/train"
	"sargo/tensor"
)

// parallelFlags are the data-parallel flags of `sargo train`.
type parallelFlags struct {
	devices   string
	bucketMiB float64
	timeout   time.Duration
	trace     string
}

func (f *parallelFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.devices, "devices", "", "train data-parallel on these devices of this process, comma-separated (vulkan:0,vulkan:1); replaces --device")
	fl.Float64Var(&f.bucketMiB, "bucket-mib", dist.DefaultBucketBytes>>20, "data-parallel: size of a gradient bucket in MiB")
	fl.DurationVar(&f.timeout, "comm-timeout", 30*time.Minute, "under mpirun: how long a collective operation may wait for the other ranks")
	fl.StringVar(&f.trace, "comm-trace", "", "data-parallel: write the timing of every gradient bucket to DIR/rank-N.jsonl")
}

// parallel is the data-parallel side of one `sargo train` process: its
// world (alone, or the MPI job mpirun started) and its devices.
type parallel struct {
	world   *dist.World
	devices []tensor.Backend
	bucket  int
	trace   *dist.Trace
	file    *os.File
}

// on reports whether more than one replica trains.
func (p *parallel) on() bool { return p.world.Size() > 1 || len(p.devices) > 1 }

// startParallel joins the MPI job when mpirun started this process and
// opens the devices: --devices, else --device.
func startParallel(f *parallelFlags, device string) (*parallel, error) {
	names := []string{device}
	if f.devices != "" {
		names = strings.Split(f.devices, ",")
	}
	p := &parallel{world: dist.Alone(), bucket: int(f.bucketMiB * (1 << 20))}
	if f.bucketMiB <= 0 {
		return nil, fmt.Errorf("--bucket-mib %g: want > 0", f.bucketMiB)
	}
	seen := map[string]bool{}
	for _, n := range names {
		dev, err := tensor.Open(strings.TrimSpace(n))
		if err != nil {
			if f.devices == "" {
				return nil, err
			}
			return nil, fmt.Errorf("--devices %s: %w", f.devices, err)
		}
		if seen[dev.Name()] {
			return nil, fmt.Errorf("--devices %s: %s is listed twice", f.devices, dev.Name())
		}
		seen[dev.Name()] = true
		p.devices = append(p.devices, dev)
	}
	if dist.Launched() {
		w, err := dist.JoinMPI(dist.WorldOptions{Timeout: f.timeout})
		if err != nil {
			return nil, err
		}
		p.world = w
	}
	if f.trace != "" {
		if err := os.MkdirAll(f.trace, 0o755); err != nil {
			return p, fmt.Errorf("--comm-trace: %w", err)
		}
		file, err := os.Create(filepath.Join(f.trace, fmt.Sprintf("rank-%d.jsonl", p.world.Rank())))
		if err != nil {
			return p, fmt.Errorf("--comm-trace: %w", err)
		}
		p.file, p.trace = file, dist.NewTrace(file)
	}
	return p, nil
}

// signals are what stop training: SIGINT and SIGTERM; data-parallel also
// SIGUSR1, which mpirun forwards to every rank (it answers
// its own SIGINT and SIGTERM by killing the ranks a second later).
func (p *parallel) signals() []os.Signal {
	if !p.on() {
		return []os.Signal{os.Interrupt, syscall.SIGTERM}
	}
	return []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGUSR1}
}

// finish ends the process's part in the job. A run that ended the same
// way on every rank (finished, interrupted together, or stopped by a
// non-finite value) shuts MPI down cleanly; any other failure aborts the
// job so that no rank waits for this one. It prints the trace summary.
func (p *parallel) finish(runErr error, out io.Writer) error {
	if p == nil {
		return runErr
	}
	if p.trace != nil {
		if err := errors.Join(p.trace.Flush(), p.file.Close()); err != nil && runErr == nil {
			runErr = fmt.Errorf("--comm-trace: %w", err)
		}
		if steps, err := readTraceFile(p.file.Name()); err == nil && len(steps) > 1 {
			fmt.Fprintf(out, "rank %d communication (%s, first step skipped): %s\n", p.world.Rank(), p.file.Name(), dist.Summarize(steps, 1))
		}
	}
	if p.world.Size() == 1 {
		return runErr
	}
	var nf *train.NonFiniteError
	if runErr == nil || errors.Is(runErr, train.ErrStopped) || errors.As(runErr, &nf) {
		if err := p.world.Close(); err != nil && runErr == nil {
			runErr = err
		}
		if runErr != nil {
			return fmt.Errorf("rank %d: %w", p.world.Rank(), runErr)
		}
		return nil
	}
	fmt.Fprintf(os.Stderr, "sargo: rank %d: %v\n", p.world.Rank(), runErr)
	p.world.Abort(1)
	return runErr
}

func readTraceFile(path string) ([]dist.StepTrace, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return dist.ReadTrace(f)
}

// shared is what every rank takes from rank 0 before building its model.
type shared struct {
	Preset    preset.Preset `json:"preset"`
	Model     sar.Config    `json:"model"`
	Tokenizer [32]byte      `json:"tokenizer"` // hash of the tokenizer file
}

// shareConfig makes every rank train rank 0's configuration and model
// (which may come from files only rank 0 has: the stored config.json and
// checkpoint of a resumed run) and checks that every rank has the same
// tokenizer.
func shareConfig(w *dist.World, p *preset.Preset, mc *sar.Config, tokPath string) error {
	if w.Size() == 1 {
		return nil
	}
	tok, err := os.ReadFile(tokPath)
	if err != nil {
		return fmt.Errorf("tokenizer: %w", err)
	}
	own := sha256.Sum256(tok)
	var blob []byte
	if w.Rank() == 0 {
		if blob, err = json.Marshal(shared{Preset: *p, Model: *mc, Tokenizer: own}); err != nil {
			return err
		}
	}
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(blob)))
	if err := w.Bcast(n[:], 0); err != nil {
		return fmt.Errorf("share the configuration: %w", err)
	}
	if w.Rank() != 0 {
		blob = make([]byte, binary.LittleEndian.Uint64(n[:]))
	}
	if err := w.Bcast(blob, 0); err != nil {
		return fmt.Errorf("share the configuration: %w", err)
	}
	var s shared
	if err := json.Unmarshal(blob, &s); err != nil {
		return fmt.Errorf("share the configuration: %w", err)
	}
	if s.Tokenizer != own {
		return fmt.Errorf("tokenizer %s on %s differs from rank 0's: every machine needs the same tokenizer file", tokPath, w.Host())
	}
	*p, *mc = s.Preset, s.Model
	return nil
}

// replicas loads the tokenizer and builds the model on each further
// device.
func (p *parallel) replicas(tokPath string, mc sar.Config, seed uint64) ([]train.Replica, error) {
	var out []train.Replica
	for _, dev := range p.devices[1:] {
		vq, _, err := tokenizer.Load(tokPath, dev)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", dev.Name(), err)
		}
		vq.SetTrain(false)
		m, err := sar.NewModel(mc, dev, seed)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", dev.Name(), err)
		}
		out = append(out, train.Replica{Net: m, Tok: vq, Dev: dev})
	}
	return out, nil
}
