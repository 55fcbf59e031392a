package vulkan

import (
	"errors"
	"math"
	"os"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	_ "sargo/kernels/cpu"
	"sargo/tensor"
)

// shared is the validated backend the op tests share; opening one with the
// validation layer costs about a second.
var shared struct {
	once sync.Once
	b    *Backend
	err  error
}

// openValidated opens a new vulkan:0 with the validation layer, skipping
// the test when no Vulkan device exists (failing instead when
// SARGO_REQUIRE_VULKAN=1). The backend is closed at the end of the test
// and any validation message fails it.
func openValidated(t *testing.T) *Backend {
	t.Helper()
	return openValidatedWith(t, Options{})
}

// openValidatedWith is openValidated with options opt (validation on).
func openValidatedWith(t *testing.T, opt Options) *Backend {
	t.Helper()
	opt.Validation = true
	b, err := Open(0, opt)
	skipOrFail(t, err)
	t.Cleanup(func() {
		require.NoError(t, b.Close())
		require.Empty(t, b.ValidationMessages(), "validation messages")
	})
	return b
}

// sharedBackend returns the shared validated backend; the test fails if it
// produced any validation message by the test's end.
func sharedBackend(t *testing.T) *Backend {
	t.Helper()
	shared.once.Do(func() { shared.b, shared.err = Open(0, Options{Validation: true}) })
	skipOrFail(t, shared.err)
	b := shared.b
	t.Cleanup(func() {
		require.NoError(t, b.Sync())
		require.Empty(t, b.ValidationMessages(), "validation messages")
	})
	return b
}

func skipOrFail(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("SARGO_REQUIRE_VULKAN") != "1" && (errors.Is(err, ErrNoLoader) || errors.Is(err, ErrNoDevice)) {
		t.Skipf("no Vulkan: %v", err)
	}
	require.NoError(t, err)
}

func cpuBackend() tensor.Backend { return tensor.MustOpen("cpu") }

// poisoned allocates n elements on b filled with NaN.
func poisoned(b tensor.Backend, n int) tensor.Storage {
	s := b.Alloc(n)
	nan := make([]float32, n)
	for i := range nan {
		nan[i] = float32(math.NaN())
	}
	b.Write(s, 0, nan)
	return s
}

// upload allocates and writes data on b.
func upload(b tensor.Backend, data []float32) tensor.Storage {
	s := b.Alloc(len(data))
	b.Write(s, 0, data)
	return s
}

// download reads all of s.
func download(t *testing.T, b tensor.Backend, s tensor.Storage) []float32 {
	t.Helper()
	out := make([]float32, s.Len())
	require.NoError(t, b.Read(s, 0, out))
	return out
}

// randData is deterministic data in [-2, 2).
func randData(n int, seed uint64) []float32 {
	d := make([]float32, n)
	for i := range d {
		d[i] = 4*tensor.PhiloxUniform(seed, uint64(i)) - 2
	}
	return d
}

// requireClose compares element by element with an absolute plus relative
// tolerance, treating NaN as equal to NaN and infinities exactly.
func requireClose(t *testing.T, want, got []float32, tol float64, msg string) {
	t.Helper()
	require.Len(t, got, len(want), msg)
	bad := 0
	for i := range want {
		w, g := float64(want[i]), float64(got[i])
		if math.IsNaN(w) && math.IsNaN(g) || w == g {
			continue
		}
		if math.IsNaN(w) || math.IsNaN(g) || math.IsInf(w, 0) || math.IsInf(g, 0) || math.Abs(w-g) > tol*(1+math.Abs(w)) {
			if bad < 5 {
				t.Errorf("%s: element %d: want %v, got %v", msg, i, w, g)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Fatalf("%s: %d of %d elements differ", msg, bad, len(want))
	}
}
