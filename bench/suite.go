package bench

import (
	"fmt"
	"sort"
	"strings"

	"sargo/tensor"
)

// Case is one measured operation. Its Params describe it completely (shapes,
// flags, model configuration) and are sent to the reference script, which
// runs the same operation from them.
type Case struct {
	// Name identifies the case within its suite, such as "4096x4096x4096".
	Name string
	// Kind tells the reference script which operation Params describe.
	Kind string
	// Unit is the higher-is-better unit of the rate, such as "GFLOP/s".
	Unit string
	// Work is the amount of work one run does, in the unit's numerator
	// (GFLOP, Mpixel, tokens, images).
	Work float64
	// Params are the JSON-encodable parameters of the case.
	Params map[string]any
	// ModelGFLOP, when positive, is the model's arithmetic in one run
	// (GFLOP): the record then gets the model FLOP utilisation against
	// the GEMM's peak measured in the same invocation.
	ModelGFLOP float64
	// Setup prepares the case on a backend, inside a scope that owns what
	// it makes until the case ends. It returns the timed function, which
	// runs the case once (freeing what it makes) and waits for the device,
	// and a function that undoes what the scope does not.
	Setup func(be tensor.Backend) (run func() error, done func(), err error)
	// PeakMemory asks for the peak resident memory of the process while
	// the case runs (after Setup, through the measured runs), on both
	// sides: it is for cases that have the process to themselves, such as
	// a large model's inference.
	PeakMemory bool
	// Memory asks for the case's Memory record; StateBytes, when set, says
	// what should stay live after a run (called after Setup).
	Memory     bool
	StateBytes func() int64
}

// Suite is a named list of cases.
type Suite struct {
	// Name is the command-line name, such as "matmul"; the reference script
	// is bench/torch/bench_<Name>.py.
	Name string
	// Doc is a one-line description.
	Doc string
	// Cases lists the cases; quick shrinks every case to a size that runs
	// in well under a second on a CPU driver.
	Cases func(quick bool) ([]Case, error)
	// GPUCases, when set, lists the cases measured on a GPU
	// (--gpu-shapes) in place of Cases: larger shapes, and those of the
	// model's training; quick shrinks them as it does Cases.
	GPUCases func(quick bool) ([]Case, error)
}

var registry = map[string]Suite{}

// register adds a suite; suites register themselves from init functions.
func register(s Suite) {
	if _, dup := registry[s.Name]; dup {
		panic("bench: suite registered twice: " + s.Name)
	}
	registry[s.Name] = s
}

// suiteOrder is the order of "all"; suites not listed come after, sorted.
var suiteOrder = []string{"matmul", "attention", "conv", "interpolate", "train", "tokenizer", "sample"}

// Suites returns the registered suite names in run order.
func Suites() []string {
	var names []string
	seen := map[string]bool{}
	for _, n := range suiteOrder {
		if _, ok := registry[n]; ok {
			names = append(names, n)
			seen[n] = true
		}
	}
	var rest []string
	for n := range registry {
		if !seen[n] {
			rest = append(rest, n)
		}
	}
	sort.Strings(rest)
	return append(names, rest...)
}

// Lookup returns the suites named by names; "all" expands to every suite.
func Lookup(names ...string) ([]Suite, error) {
	var out []Suite
	seen := map[string]bool{}
	for _, n := range names {
		expand := []string{n}
		if n == "all" {
			expand = Suites()
		}
		for _, e := range expand {
			s, ok := registry[e]
			if !ok {
				return nil, fmt.Errorf("unknown benchmark suite %q: known suites are %s, or all", n, strings.Join(Suites(), ", "))
			}
			if !seen[e] {
				seen[e] = true
				out = append(out, s)
			}
		}
	}
	return out, nil
}

// syncRun wraps a function that records work on be into a run that waits
// for the device and reports its error.
func syncRun(be tensor.Backend, f func()) func() error {
	return func() error {
		f()
		if err := be.Sync(); err != nil {
			return fmt.Errorf("device %s: %w", be.Name(), err)
		}
		return nil
	}
}

// nothing is the done function of a case whose tensors the case's scope
// frees.
func nothing() {}
