package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"sargo/bench"
	"sargo/tensor"
)

// benchFlags are the flags of sargo bench.
type benchFlags struct {
	vs, jsonPath, cpuProfile string
	python, torchDir, match  string
	torchDevice              string
	quick, gpuShapes         bool
	untilStable              bool
	torch                    bench.TorchOptions
	warmup, repeats, threads int
	maxRepeats               int
	tolerance                float64
	minTime, budget          time.Duration
}

func newBenchCmd(opts *globalOptions) *cobra.Command {
	f := &benchFlags{}
	cmd := &cobra.Command{
		Use:   "bench SUITE... (" + strings.Join(append(bench.Suites(), "all"), "|") + ")",
		Short: "Measure kernels and models, side by side with PyTorch",
		Long: `bench times sargo's kernels and models on --device and prints a table of
rates in higher-is-better units (GFLOP/s, Mpixel/s, tokens/s, images/s):
the median of several repeats after warm-up runs, with the spread of the
repeats ((max-min)/median).

With --vs torch the PyTorch scripts bench/torch/bench_<suite>.py run the
same cases in the same invocation (Debian's /usr/bin/python3 with
python3-torch; CUDA when --device is a GPU and CUDA is available, with TF32
off; OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset; the same thread count as
sargo). The script runs beside sargo and the repeats alternate, sargo then
PyTorch, case by case; the ratio column is the median over these pairs of
sargo's rate over PyTorch's, with its 95% interval (the exact
order-statistic interval of the median, from 6 pairs on). Run it from the
repository root, or point --torch-dir at the scripts.

--repeat-until-stable goes on past --repeats until that interval (without
--vs, the interval of sargo's median rate) lies within ±--tolerance of the
median, --budget has passed for the case, or --max-repeats is reached.
The train suite also reports the model FLOP utilisation: the step's model
FLOPs per second over the best rate of sargo's GEMM measured in the same
invocation.

--json writes the records as a JSON list; --quick shrinks every case (for
CPU Vulkan drivers and smoke tests); --cpuprofile writes a pprof CPU profile
of the whole run (the reference runs in its own process and is not in it).

--gpu-shapes measures the cases sized for a GPU where a suite has them
(matmul: squares 1024 to 4096 and a training step's products; attention:
B·H 192 × 680 block-causal tokens and B·H 32 × 1024 unmasked tokens, head
dimensions 64 and 128) instead of its usual ones. --torch-device cuda
makes the reference fail rather than fall back to the CPU, --tf32 lets
cuBLAS use TF32 tensor cores for the reference's fp32 products, and
--torch-attention sdpa runs the reference's attention through
scaled_dot_product_attention instead of separate matmuls and softmax.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBench(cmd, opts, f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.vs, "vs", "", "reference to compare with: torch")
	fl.StringVar(&f.jsonPath, "json", "", "write the records as JSON to this file")
	fl.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file")
	fl.StringVar(&f.python, "python", bench.DefaultPython, "Python interpreter of the reference scripts")
	fl.StringVar(&f.torchDir, "torch-dir", bench.DefaultTorchDir, "folder of the reference scripts")
	fl.BoolVar(&f.quick, "quick", false, "shrink every case (smoke tests, CPU Vulkan drivers)")
	fl.BoolVar(&f.gpuShapes, "gpu-shapes", false, "measure the cases sized for a GPU where a suite has them")
	fl.StringVar(&f.torchDevice, "torch-device", "", "reference device: cpu, cuda or auto (default cpu for --device cpu, else auto: CUDA when available)")
	fl.BoolVar(&f.torch.TF32, "tf32", false, "let the reference's fp32 products use TF32 tensor cores (CUDA)")
	fl.StringVar(&f.torch.Attention, "torch-attention", "", "reference attention path, unfused or sdpa (default: unfused in the attention suite, sdpa in the models where PyTorch has it)")
	fl.IntVar(&f.warmup, "warmup", 1, "untimed runs before measuring each case")
	fl.IntVar(&f.repeats, "repeats", 5, "timed repeats per case; the median is reported")
	fl.DurationVar(&f.minTime, "min-time", 300*time.Millisecond, "least duration of one repeat")
	fl.DurationVar(&f.budget, "budget", time.Minute, "stop repeating a case after two repeats once its repeats took this long (0: no limit)")
	fl.BoolVar(&f.untilStable, "repeat-until-stable", false, "repeat each case until the 95% interval of its ratio (or rate) is within --tolerance, or --budget ends")
	fl.Float64Var(&f.tolerance, "tolerance", 0.1, "relative half-width of a stable interval (with --repeat-until-stable)")
	fl.IntVar(&f.maxRepeats, "max-repeats", 200, "most repeats per case with --repeat-until-stable")
	fl.StringVar(&f.match, "cases", "", "run only the cases whose suite/case name matches this regular expression")
	fl.IntVar(&f.threads, "threads", 0, "reference thread count (default GOMAXPROCS, sargo's)")
	return cmd
}

func runBench(cmd *cobra.Command, opts *globalOptions, f *benchFlags, args []string) error {
	suites, err := bench.Lookup(args...)
	if err != nil {
		return err
	}
	if f.vs != "" && f.vs != "torch" {
		return fmt.Errorf("--vs %q: the only reference is torch", f.vs)
	}
	if f.repeats < 1 || f.warmup < 0 {
		return fmt.Errorf("--repeats must be at least 1 and --warmup at least 0, got %d and %d", f.repeats, f.warmup)
	}
	if !(f.tolerance > 0 && f.tolerance < 1) || f.maxRepeats < 1 {
		return fmt.Errorf("--tolerance must be in (0, 1) and --max-repeats at least 1, got %g and %d", f.tolerance, f.maxRepeats)
	}
	if err := f.torch.Check(); err != nil {
		return fmt.Errorf("--torch-attention: %w", err)
	}
	switch f.torchDevice {
	case "", "cpu", "cuda", "auto":
	default:
		return fmt.Errorf("--torch-device %q: want cpu, cuda or auto", f.torchDevice)
	}
	be, err := tensor.Open(opts.device)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	var match *regexp.Regexp
	if f.match != "" {
		if match, err = regexp.Compile(f.match); err != nil {
			return fmt.Errorf("--cases: %w", err)
		}
	}
	timing := bench.Timing{Warmup: f.warmup, Repeats: f.repeats, MinTime: f.minTime, Budget: f.budget,
		UntilStable: f.untilStable, Tolerance: f.tolerance, MaxRepeats: f.maxRepeats}
	cfg := bench.Config{Suites: suites, Backend: be, Timing: timing, Quick: f.quick, GPUShapes: f.gpuShapes, Match: match,
		Log: cmd.ErrOrStderr()}
	threads := f.threads
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	if f.vs == "torch" {
		if err := bench.TorchAvailable(f.python); err != nil {
			return fmt.Errorf("--vs torch: %w", err)
		}
		dev := f.torchDevice
		if dev == "" {
			dev = "auto"
			if strings.HasPrefix(be.Name(), "cpu") {
				dev = "cpu"
			}
		}
		cfg.Reference = &bench.TorchRunner{Python: f.python, Dir: f.torchDir, Device: dev, Threads: threads,
			Timing: timing, Seed: opts.seed, Options: f.torch, Stderr: cmd.ErrOrStderr()}
	}
	if f.cpuProfile != "" {
		pf, err := os.Create(f.cpuProfile)
		if err != nil {
			return fmt.Errorf("bench: cpu profile: %w", err)
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return fmt.Errorf("bench: cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	out := cmd.OutOrStdout()
	repeats := fmt.Sprintf("median of %d repeats", f.repeats)
	if f.untilStable {
		repeats = fmt.Sprintf("repeats until the 95%% interval is within ±%g%% (at least %d, at most %d)", 100*f.tolerance,
			max(f.repeats, bench.MinIntervalRepeats), f.maxRepeats)
	}
	if f.vs != "" {
		repeats += ", alternating with the reference"
	}
	start := time.Now()
	fmt.Fprintf(out, "sargo bench %s  %s%s\ndevice: %s\nGOMAXPROCS %d, reference threads %d, %d warm-up, %s of at least %v (budget %v)\n\n",
		strings.Join(args, " "), start.UTC().Format(time.RFC3339), loadAverage(), be.Describe(), runtime.GOMAXPROCS(0), threads,
		f.warmup, repeats, f.minTime, f.budget)
	records, runErr := bench.Run(ctx, cfg)
	if err := bench.WriteTable(out, records); err != nil {
		return err
	}
	if ref := referenceLine(records); ref != "" {
		fmt.Fprintf(out, "\nreference: %s\n", ref)
	}
	fmt.Fprintf(out, "ended %s%s, %v after the start\n", time.Now().UTC().Format(time.RFC3339), loadAverage(),
		time.Since(start).Round(time.Second))
	if f.jsonPath != "" {
		if err := bench.WriteJSON(f.jsonPath, records); err != nil {
			return fmt.Errorf("bench: %w", err)
		}
	}
	if runErr != nil {
		return fmt.Errorf("bench: %w", runErr)
	}
	return nil
}

// referenceLine is the reference description of the first record that has one.
func referenceLine(records []bench.Record) string {
	for _, r := range records {
		if r.ReferenceDevice != "" {
			return r.ReferenceDevice
		}
	}
	return ""
}

// loadAverage is "  load average A B C" from /proc/loadavg, or "" where
// it cannot be read: on a shared machine it says how contended the run was.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return "  load average " + strings.Join(f[:3], " ")
}
