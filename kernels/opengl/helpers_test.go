//go:build opengl && cgo

package opengl

import (
	"errors"
	"math"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	_ "sargo/kernels/cpu"
	"sargo/tensor"
)

// openDebug opens a new opengl:0 with KHR_debug output, skipping the test
// when no OpenGL device exists (failing instead when
// SARGO_REQUIRE_OPENGL=1). The backend is closed at the end of the test and
// any debug message fails it.
func openDebug(t *testing.T, opt Options) *Backend {
	t.Helper()
	opt.Debug = true
	b, err := Open(0, opt)
	skipOrFail(t, err)
	t.Cleanup(func() {
		require.NoError(t, b.Close())
		require.Empty(t, b.DebugMessages(), "KHR_debug messages")
	})
	return b
}

func skipOrFail(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("SARGO_REQUIRE_OPENGL") != "1" && (errors.Is(err, ErrNoLibrary) || errors.Is(err, ErrNoDevice) || errors.Is(err, ErrOldDriver)) {
		t.Skipf("no OpenGL: %v", err)
	}
	require.NoError(t, err)
}

// glDo runs f on the backend's GL thread after the recorded work.
func (b *Backend) glDo(f func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.submit()
	b.th.do(f)
}

// randData is deterministic data in [-2, 2).
func randData(n int, seed uint64) []float32 {
	d := make([]float32, n)
	for i := range d {
		d[i] = 4*tensor.PhiloxUniform(seed, uint64(i)) - 2
	}
	return d
}

// nanData is n NaNs.
func nanData(n int) []float32 {
	d := make([]float32, n)
	for i := range d {
		d[i] = float32(math.NaN())
	}
	return d
}
