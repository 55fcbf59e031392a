//go:build opengl && cgo

package opengl

import (
	"testing"

	"github.com/stretchr/testify/require"

	"sargo/kernels/check"
	"sargo/tensor"
)

// TestConformance runs the backend-independent conformance suite against
// an OpenGL context with KHR_debug output on.
func TestConformance(t *testing.T) {
	b := openDebug(t, Options{})
	check.Run(t, b)
	require.NoError(t, b.Sync())
}

// TestFaults runs the cases that break the id contract, each on a context
// of its own with KHR_debug output: the device-side checks must report
// every bad id as tensor.IDError at Sync.
func TestFaults(t *testing.T) {
	check.RunFaults(t, func(t *testing.T) tensor.Backend { return openFaulty(t, Options{Debug: true}) })
}

// FuzzIDs runs check.FuzzIDs on contexts with KHR_debug output: ids of
// every kind over views of every shape give the host's rows or the first
// bad id as tensor.IDError.
func FuzzIDs(f *testing.F) {
	check.FuzzIDs(f, func(t *testing.T) tensor.Backend { return openMaybeFaulty(t, Options{Debug: true}) })
}

// openMaybeFaulty opens a context that a case may leave with a sticky
// error: Close must return nil or a tensor.IDError, and the debug output
// must have had nothing to say.
func openMaybeFaulty(t *testing.T, opt Options) *Backend {
	t.Helper()
	b, err := Open(0, opt)
	skipOrFail(t, err)
	check.CloseFaulty(t, b.Close, b.DebugMessages, "KHR_debug messages", true)
	return b
}

// openFaulty opens a context for a case that leaves a sticky error: Close
// must return a tensor.IDError, and the debug output must have had nothing
// to say.
func openFaulty(t *testing.T, opt Options) *Backend {
	t.Helper()
	b, err := Open(0, opt)
	skipOrFail(t, err)
	check.CloseFaulty(t, b.Close, b.DebugMessages, "KHR_debug messages", false)
	return b
}
