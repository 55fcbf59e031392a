package softplus_test

import (
	"bytes"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/autograd"
	"sargo/kernels/kerneltest"
	"sargo/tensor"
	"sargo/tensor/tensortest"
)

// Tolerances of kernels/check: normalised mean squared error between two
// fp32 backends, and between a backend and a float64 reference.
const (
	tolFP32 = 1e-7
	tolF64  = 1e-10
)

// devices is the CPU and, when present, the first Vulkan device
// (kerneltest.Devices: with SARGO_REQUIRE_VULKAN=1 a missing one fails),
// with the shaders registered.
func devices(t *testing.T) []tensor.Backend {
	devs := kerneltest.Devices(t)
	for _, dev := range devs {
		require.NoError(t, Register(dev))
	}
	return devs
}

// nmse is sum((got-want)²)/sum(want²).
func nmse(got, want []float64) float64 {
	var num, den float64
	for i := range want {
		num += (got[i] - want[i]) * (got[i] - want[i])
		den += want[i] * want[i]
	}
	return num / math.Max(den, 1e-300)
}

func f64(xs []float32) []float64 {
	out := make([]float64, len(xs))
	for i, v := range xs {
		out[i] = float64(v)
	}
	return out
}

// read returns t's elements, failing the test on a device error.
func read(t *testing.T, x *tensor.Tensor) []float64 {
	v, err := x.Read()
	require.NoError(t, err)
	return f64(v)
}

// TestConformance runs forward and backward on every device for inputs
// from −20 to 20 (both exponential tails), and compares them with the CPU
// backend and with float64 references: log1p(e^x) and gy/(1+e^−x). The
// outputs' memory is first filled with NaN and freed, so that a kernel
// that leaves an element unwritten is caught when the allocator reuses it
// (Alloc does not initialise), and each case must free all it makes.
func TestConformance(t *testing.T) {
	ref := tensor.MustOpen("cpu")
	cases := []struct {
		name  string
		shape []int
	}{{"one", []int{1}}, {"row", []int{1000}}, {"matrix", []int{300, 257}}}
	for _, dev := range devices(t) {
		for _, tc := range cases {
			t.Run(dev.Name()+"/"+tc.name, func(t *testing.T) {
				tensortest.NoLeaksOn(t, []tensor.Backend{dev, ref}, func() { conformanceCase(t, dev, ref, tc.shape) })
			})
		}
	}
}

// conformanceCase is one case of TestConformance: softplus forward and
// backward of one shape on dev, against the CPU ref and against float64.
func conformanceCase(t *testing.T, dev, ref tensor.Backend, shape []int) {
	s, rs := tensor.NewScope(dev), tensor.NewScope(ref)
	defer s.Close()
	defer rs.Close()
	x := tensor.Scale(tensor.Randn(ref, 7, 0, shape...), 8)
	gy := tensor.Randn(ref, 7, 1<<20, shape...)
	xs, gys := read(t, x), read(t, gy)
	poison(dev, x.Size())

	g := autograd.NewGraph(dev)
	defer g.Close()
	xv := autograd.Param(x.To(dev))
	y := Softplus(g, xv)
	require.NoError(t, g.BackwardWith(y, gy.To(dev)))
	got, gotDx := read(t, y.Value), read(t, xv.Grad)
	xv.ZeroGrad()

	wantY, wantDx := make([]float64, len(xs)), make([]float64, len(xs))
	for i, v := range xs {
		wantY[i] = math.Log1p(math.Exp(v))
		wantDx[i] = gys[i] / (1 + math.Exp(-v))
	}
	assert.LessOrEqual(t, nmse(got, wantY), tolF64, "forward against float64")
	assert.LessOrEqual(t, nmse(gotDx, wantDx), tolF64, "backward against float64")

	cg := autograd.NewGraph(ref)
	defer cg.Close()
	cx := autograd.Param(x)
	cy := Softplus(cg, cx)
	require.NoError(t, cg.BackwardWith(cy, gy))
	assert.LessOrEqual(t, nmse(got, read(t, cy.Value)), tolFP32, "forward against the CPU")
	assert.LessOrEqual(t, nmse(gotDx, read(t, cx.Grad)), tolFP32, "backward against the CPU")
	cx.ZeroGrad()
	require.NoError(t, dev.Sync())
}

// poison fills two blocks of n elements (the sizes of the forward and
// backward outputs) with NaN on dev and frees them.
func poison(dev tensor.Backend, n int) {
	s := tensor.NewScope(dev)
	defer s.Close()
	tensor.Full(dev, float32(math.NaN()), n)
	tensor.Full(dev, float32(math.NaN()), n)
}

// TestGradient checks the backward kernels of every device against
// central finite differences of the forward kernels (autograd.CheckGrad,
// differences and quotient in float64), on inputs of order one, freeing
// everything it makes.
func TestGradient(t *testing.T) {
	for _, dev := range devices(t) {
		t.Run(dev.Name(), func(t *testing.T) {
			tensortest.NoLeaks(t, dev, func() {
				s := tensor.NewScope(dev)
				defer s.Close()
				x := tensor.Scale(tensor.Randn(dev, 3, 0, 4, 5), 2)
				res, err := autograd.CheckGrad(func(g *autograd.Graph, xs []*autograd.Var) *autograd.Var {
					return Softplus(g, xs[0])
				}, []*tensor.Tensor{x}, autograd.CheckOptions{})
				require.NoError(t, err)
				t.Logf("largest absolute difference %.2e", res.MaxAbs[0])
			})
		})
	}
}

// TestShadersUpToDate recompiles each shader of this folder as go generate
// does (glslc -O --target-env=vulkan1.1, as kernels/vulkan's shaders) and
// fails when a committed .spv differs from its source.
func TestShadersUpToDate(t *testing.T) {
	if _, err := exec.LookPath("glslc"); err != nil {
		t.Skip("glslc not installed")
	}
	srcs, err := filepath.Glob("*.comp")
	require.NoError(t, err)
	require.Len(t, srcs, 2)
	for _, src := range srcs {
		spv := strings.TrimSuffix(src, ".comp") + ".spv"
		out := filepath.Join(t.TempDir(), spv)
		msg, err := exec.Command("glslc", "-O", "--target-env=vulkan1.1", "-I", ".", "-o", out, src).CombinedOutput()
		require.NoError(t, err, "glslc %s: %s", src, msg)
		want, err := os.ReadFile(out)
		require.NoError(t, err)
		got, err := os.ReadFile(spv)
		require.NoError(t, err)
		assert.True(t, bytes.Equal(want, got), "%s is stale: run go generate ./examples/softplus", spv)
	}
}
