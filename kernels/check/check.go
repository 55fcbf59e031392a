// Package check is the conformance suite that every tensor.Backend must
// pass, in the manner of gonum's blas/testblas: one implementation-
// independent set of cases run against each backend.
//
// Each case builds deterministic inputs on the CPU backend (the reference),
// copies them to the backend under test, runs the same tensor-level
// operation on both and compares the results by normalised mean squared
// error, sum((got-want)²)/sum(want²). Before the backend under test runs,
// blocks of each output's size are allocated on it, filled with NaN and
// released, so a kernel that leaves part of its output unwritten is caught
// when its allocator reuses that memory. Every case also checks a property
// of the backend's own output that holds for any correct implementation
// (rows of a softmax sum to one, the argmax points at the maximum, a small
// product matches a float64 reference), so the suite finds faults even when
// the backend under test is the CPU reference itself.
//
// A backend's test calls Run:
//
//	func TestConformance(t *testing.T) { check.Run(t, backend) }
//
// Subtests are named family/case, so -run 'TestConformance/attention'
// selects one family.
//
// Layering: the suite sits beside the backends: it imports tensor and the
// CPU backend (the reference), never another backend (each backend's test
// passes itself to Run) and nothing above tensor.
package check

import (
	"runtime/debug"
	"slices"
	"testing"

	_ "sargo/kernels/cpu" // the reference backend
	"sargo/tensor"
)

// tolFP32 is the normalised-MSE tolerance between two fp32 backends.
const tolFP32 = 1e-7

// tolF64 is the normalised-MSE tolerance between a backend's fp32 output
// and a float64 reference computed on the host: fp32 rounding alone gives
// about 1e-14, so anything above this is a wrong result, not rounding.
const tolF64 = 1e-10

// testCase is one named check of one operation family.
type testCase struct {
	name string
	run  func(c *ctx)
}

// family is a named group of cases, the first level of subtest names.
type family struct {
	name  string
	cases func() []testCase
}

// families lists every family in the order Run runs them.
var families = []family{
	{"elementwise", elementwiseCases},
	{"reduce", reduceCases},
	{"matmul", matmulCases},
	{"softmax", softmaxCases},
	{"crossentropy", crossEntropyCases},
	{"norm", normCases},
	{"embedding", embeddingCases},
	{"ids", idCases},
	{"attention", attentionCases},
	{"interpolate", interpolateCases},
	{"conv", convCases},
	{"random", randomCases},
	{"optim", optimCases},
	{"optim_multi", multiCases},
	{"sum_multi", sumMultiCases},
	{"special", specialCases},
}

// Run runs the whole conformance suite on b, comparing against the CPU
// backend. Subtests are named family/case.
func Run(t *testing.T, b tensor.Backend) {
	t.Helper()
	RunFamilies(t, b)
}

// RunFamilies runs the named families of the suite on b (every family
// when none is named); an unknown name fails the test.
func RunFamilies(t *testing.T, b tensor.Backend, names ...string) {
	t.Helper()
	ref := tensor.MustOpen("cpu")
	for _, name := range names {
		if !slices.ContainsFunc(families, func(f family) bool { return f.name == name }) {
			t.Fatalf("no conformance family %q", name)
		}
	}
	for _, f := range families {
		if len(names) > 0 && !slices.Contains(names, f.name) {
			continue
		}
		t.Run(f.name, func(t *testing.T) {
			for _, tc := range f.cases() {
				t.Run(tc.name, func(t *testing.T) {
					c := newCtx(t, b, ref)
					defer c.finish()
					defer func() {
						// A kernel that panics fails its case, not the suite.
						if r := recover(); r != nil {
							t.Errorf("panic: %v\n%s", r, debug.Stack())
						}
					}()
					tc.run(c)
				})
			}
		})
	}
}
