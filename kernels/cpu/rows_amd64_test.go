package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// withoutVectors runs f with the row and binary vector kernels switched
// off, as on a processor without AVX-512F.
func withoutVectors(f func()) {
	defer func(v vectorISA) { vectorLevel = v }(vectorLevel)
	vectorLevel = vecNone
	f()
}

// TestRowHelpersScalar runs the softmax, cross-entropy, attention and
// binary tests on the scalar fallbacks, which other machines use.
func TestRowHelpersScalar(t *testing.T) {
	if vectorLevel == vecNone {
		t.Skip("the scalar fallbacks already run the other tests")
	}
	for _, tc := range []struct {
		name string
		f    func(*testing.T)
	}{{"softmax", TestSoftmax}, {"crossentropy", TestCrossEntropy}, {"attention", TestAttention}, {"binary", TestBinaryAndWhere}} {
		t.Run(tc.name, func(t *testing.T) { withoutVectors(func() { tc.f(t) }) })
	}
}

// TestRowHelpersVectorVsScalar compares the softmax and cross-entropy
// kernels on the vector kernels with their scalar fallbacks over long
// rows, and checks that the vector results do not depend on the worker
// count.
func TestRowHelpersVectorVsScalar(t *testing.T) {
	if vectorLevel == vecNone {
		t.Skip("no vector kernels on this machine")
	}
	const rows, n, ignore = 9, 1031, -100
	rng := rand.New(rand.NewPCG(20, 21))
	x := kernRand(rng, rows*n, -12, 12)
	gy := kernRand(rng, rows*n, -1, 1)
	targets := make([]float32, rows)
	for r := range targets {
		targets[r] = float32(rng.IntN(n))
	}
	targets[4] = ignore
	gl := kernRand(rng, rows, 0.5, 2)

	// run returns every output of the kernels on backend be.
	run := func(be *Backend) [][]float32 {
		var outs [][]float32
		for _, log := range []bool{false, true} {
			y, dx := make([]float32, rows*n), make([]float32, rows*n)
			be.Softmax(kernSpan(y), kernSpan(x), rows, n, log)
			be.SoftmaxBackward(kernSpan(dx), kernSpan(y), kernSpan(gy), rows, n, log)
			outs = append(outs, y, dx)
		}
		loss, lse, d := make([]float32, rows), make([]float32, rows), make([]float32, rows*n)
		be.CrossEntropy(kernSpan(loss), kernSpan(lse), kernSpan(x), kernSpan(targets), rows, n, ignore, 0.1)
		be.CrossEntropyBackward(kernSpan(d), kernSpan(x), kernSpan(lse), kernSpan(targets), kernSpan(gl), rows, n, ignore, 0.1)
		return append(outs, loss, lse, d)
	}
	names := []string{"softmax", "softmax backward", "log-softmax", "log-softmax backward", "loss", "lse", "dlogits"}
	vec := run(&Backend{workers: 3})
	require.Equal(t, vec, run(&Backend{workers: 1}), "vector results depend on the worker count")
	var sc [][]float32
	withoutVectors(func() { sc = run(&Backend{workers: 2}) })
	for k, name := range names {
		// Every output is within a few float32 roundings of the scalar
		// one, relative to the row's scale (for the backward outputs,
		// sums of terms as large as the gradients).
		for i := range vec[k] {
			v, s := float64(vec[k][i]), float64(sc[k][i])
			tol := 1e-6*math.Abs(s) + 1e-8
			if k == 1 || k == 3 || k == 6 {
				tol = 1e-6
			}
			if k == 2 || k == 5 {
				tol = 1e-6 * max(1, math.Abs(s))
			}
			require.InDeltaf(t, s, v, tol, "%s: element %d", name, i)
		}
	}
}

// BenchmarkRowHelpers compares the softmax and cross-entropy kernels on the
// scalar fallbacks and on the vector kernels, on one worker over 256 rows
// of 1024 logits, reporting ns per logit.
func BenchmarkRowHelpers(b *testing.B) {
	const rows, n = 256, 1024
	rng := rand.New(rand.NewPCG(22, 23))
	x := kernRand(rng, rows*n, -8, 8)
	gy := kernRand(rng, rows*n, -1, 1)
	targets := make([]float32, rows)
	for r := range targets {
		targets[r] = float32(rng.IntN(n))
	}
	gl := kernRand(rng, rows, 0.5, 2)
	y, d := make([]float32, rows*n), make([]float32, rows*n)
	loss, lse := make([]float32, rows), make([]float32, rows)
	be := &Backend{workers: 1}
	be.CrossEntropy(kernSpan(loss), kernSpan(lse), kernSpan(x), kernSpan(targets), rows, n, -100, 0)
	benches := []struct {
		name string
		run  func()
	}{
		{"softmax", func() { be.Softmax(kernSpan(y), kernSpan(x), rows, n, false) }},
		{"logsoftmax", func() { be.Softmax(kernSpan(y), kernSpan(x), rows, n, true) }},
		{"logsoftmax-backward", func() { be.SoftmaxBackward(kernSpan(d), kernSpan(x), kernSpan(gy), rows, n, true) }},
		{"crossentropy", func() {
			be.CrossEntropy(kernSpan(loss), kernSpan(lse), kernSpan(x), kernSpan(targets), rows, n, -100, 0)
		}},
		{"crossentropy-backward", func() {
			be.CrossEntropyBackward(kernSpan(d), kernSpan(x), kernSpan(lse), kernSpan(targets), kernSpan(gl), rows, n, -100, 0)
		}},
	}
	for _, bc := range benches {
		for _, impl := range []string{"scalar", "vector"} {
			b.Run(bc.name+"/"+impl, func(b *testing.B) {
				if impl == "vector" && vectorLevel == vecNone {
					b.Skip("no vector kernels on this machine")
				}
				loop := func() {
					for b.Loop() {
						bc.run()
					}
				}
				if impl == "scalar" {
					withoutVectors(loop)
				} else {
					loop()
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(rows*n), "ns/value")
			})
		}
	}
}

// TestVectorKernelsNarrower runs the tests of the vector kernels again with
// each narrower instruction set the processor also runs (the AVX2 kernels
// on an AVX-512 machine), which the other tests do not reach there.
func TestVectorKernelsNarrower(t *testing.T) {
	best := bestVectorISA()
	if best <= vecAVX2 {
		t.Skip("the other tests already run the only vector kernels of this machine")
	}
	for level := best - 1; level >= vecAVX2; level-- {
		for _, tc := range []struct {
			name string
			f    func(*testing.T)
		}{
			{"activation accuracy", TestActivationAccuracy}, {"activation vs scalar", TestActivationVectorVsScalar},
			{"activation special", TestActivationSpecial}, {"binary", TestBinaryVector},
			{"rows vs scalar", TestRowHelpersVectorVsScalar}, {"softmax", TestSoftmax}, {"attention", TestAttention},
		} {
			t.Run(fmt.Sprintf("level %d/%s", level, tc.name), func(t *testing.T) {
				defer func(v, a vectorISA) { vectorLevel, activationLevel = v, a }(vectorLevel, activationLevel)
				vectorLevel, activationLevel = level, level
				tc.f(t)
			})
		}
	}
}
