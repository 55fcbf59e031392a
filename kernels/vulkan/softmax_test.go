package vulkan

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"sargo/tensor"
)

// The kernel tests of this package run every neural-network kernel on the
// Vulkan device (with the validation layer) and on the CPU backend with the
// same inputs, and compare. Outputs are poisoned with NaN before each run
// and inputs sit at a non-zero offset in their storage.

// nnEnv is a Vulkan device and the CPU reference side by side.
type nnEnv struct {
	vk  *Backend
	cpu tensor.Backend
	rng *rand.Rand
}

// nnOffset is where every test buffer's data starts in its storage.
const nnOffset = 5

// newNNEnv returns the shared validated Vulkan device (see
// helpers_test.go: skipped when no device exists unless
// SARGO_REQUIRE_VULKAN=1; a device error or validation message fails the
// test) beside the CPU backend.
func newNNEnv(t *testing.T) *nnEnv {
	t.Helper()
	return &nnEnv{vk: sharedBackend(t), cpu: cpuBackend(), rng: rand.New(rand.NewPCG(1, uint64(len(t.Name()))))}
}

// pair is one buffer allocated on both backends.
type pair struct {
	vk, cpu tensor.Span
	n       int
}

// input returns a pair holding data on both backends.
func (e *nnEnv) input(data []float32) pair {
	n := len(data)
	p := pair{n: n}
	for _, side := range []struct {
		b  tensor.Backend
		sp *tensor.Span
	}{{e.vk, &p.vk}, {e.cpu, &p.cpu}} {
		s := side.b.Alloc(n + 2*nnOffset)
		side.b.Write(s, nnOffset, data)
		*side.sp = tensor.Span{Buf: s, Offset: nnOffset}
	}
	return p
}

// output returns a pair of n elements poisoned with NaN.
func (e *nnEnv) output(n int) pair { return e.input(e.fill(n, float32(math.NaN()))) }

// fill returns n copies of v.
func (e *nnEnv) fill(n int, v float32) []float32 {
	d := make([]float32, n)
	for i := range d {
		d[i] = v
	}
	return d
}

// normal returns n standard normal values times scale.
func (e *nnEnv) normal(n int, scale float64) []float32 {
	d := make([]float32, n)
	for i := range d {
		d[i] = float32(e.rng.NormFloat64() * scale)
	}
	return d
}

// read returns the contents of a pair on both backends.
func (e *nnEnv) read(t *testing.T, p pair) (vk, cpu []float32) {
	t.Helper()
	vk, cpu = make([]float32, p.n), make([]float32, p.n)
	require.NoError(t, e.vk.Read(p.vk.Buf, p.vk.Offset, vk))
	require.NoError(t, e.cpu.Read(p.cpu.Buf, p.cpu.Offset, cpu))
	return vk, cpu
}

// nmse is Σ(got−want)² / Σwant², with equal infinities counting as equal
// and any NaN in got (or one-sided infinity) as +Inf.
func nmse(got, want []float32) float64 {
	var num, den float64
	for i, w := range want {
		g := got[i]
		if math.IsInf(float64(w), 0) || math.IsInf(float64(g), 0) {
			if g != w {
				return math.Inf(1)
			}
			continue
		}
		if math.IsNaN(float64(g)) != math.IsNaN(float64(w)) {
			return math.Inf(1)
		}
		if math.IsNaN(float64(w)) {
			continue
		}
		d := float64(g) - float64(w)
		num += d * d
		den += float64(w) * float64(w)
	}
	if num == 0 {
		return 0
	}
	return num / max(den, 1e-30)
}

// nnTol is the default bound on the normalised MSE against the CPU.
const nnTol = 1e-7

// check compares a pair against the CPU backend within tol (normalised MSE).
func (e *nnEnv) check(t *testing.T, what string, p pair, tol float64) {
	t.Helper()
	vk, cpu := e.read(t, p)
	err := nmse(vk, cpu)
	if err > tol {
		worst := 0
		for i := range cpu {
			if math.Abs(float64(vk[i]-cpu[i])) > math.Abs(float64(vk[worst]-cpu[worst])) || math.IsNaN(float64(vk[i])) {
				worst = i
				if math.IsNaN(float64(vk[i])) {
					break
				}
			}
		}
		t.Fatalf("%s: normalised MSE %.3g > %.3g (element %d: vulkan %v, cpu %v)", what, err, tol, worst, vk[worst], cpu[worst])
	}
}

// exact compares a pair against the CPU backend bit for bit.
func (e *nnEnv) exact(t *testing.T, what string, p pair) {
	t.Helper()
	vk, cpu := e.read(t, p)
	for i := range cpu {
		if math.Float32bits(vk[i]) != math.Float32bits(cpu[i]) {
			t.Fatalf("%s: element %d: vulkan %v, cpu %v", what, i, vk[i], cpu[i])
		}
	}
}

var nnShapes = [][2]int{{1, 1}, {1, 7}, {7, 13}, {13, 33}, {3, 300}, {2, 1030}}

func TestSoftmax(t *testing.T) {
	e := newNNEnv(t)
	for _, sh := range nnShapes {
		for _, c := range []struct {
			log   bool
			shift float32
		}{{false, 0}, {true, 0}, {false, 1000}, {true, 1000}} {
			log := c.log
			t.Run(fmt.Sprintf("%dx%d/log=%v/shift=%v", sh[0], sh[1], log, c.shift), func(t *testing.T) {
				rows, n := sh[0], sh[1]
				xs := e.normal(rows*n, 3)
				for i := range xs {
					xs[i] += c.shift // large logits must not lose precision to the lse
				}
				for i := 1; i < len(xs); i += 5 {
					xs[i] = float32(math.Inf(-1)) // masked logits
				}
				x := e.input(xs)
				y := e.output(rows * n)
				e.vk.Softmax(y.vk, x.vk, rows, n, log)
				e.cpu.Softmax(y.cpu, x.cpu, rows, n, log)
				e.check(t, "y", y, nnTol)

				// the backward from the CPU's forward output, so both see the same y
				_, yref := e.read(t, y)
				yy := e.input(yref)
				gy := e.input(e.normal(rows*n, 1))
				dx := e.output(rows * n)
				e.vk.SoftmaxBackward(dx.vk, yy.vk, gy.vk, rows, n, log)
				e.cpu.SoftmaxBackward(dx.cpu, yy.cpu, gy.cpu, rows, n, log)
				e.check(t, "dx", dx, nnTol)
			})
		}
	}
}

func TestCrossEntropy(t *testing.T) {
	e := newNNEnv(t)
	const ignore = -100
	for _, sh := range nnShapes {
		for _, c := range [][2]float32{{0, 0}, {0.1, 0}, {0, 1000}, {0.1, 1000}} {
			smoothing, shift := c[0], c[1]
			t.Run(fmt.Sprintf("%dx%d/s=%v/shift=%v", sh[0], sh[1], smoothing, shift), func(t *testing.T) {
				rows, n := sh[0], sh[1]
				xs := e.normal(rows*n, 2)
				for i := range xs {
					xs[i] += shift
				}
				x := e.input(xs)
				tg := make([]float32, rows)
				for r := range tg {
					switch r % 5 {
					case 3:
						tg[r] = ignore
					case 4:
						tg[r] = float32(n - 1) // the last class
					default:
						tg[r] = float32(e.rng.IntN(n))
					}
				}
				targets := e.input(tg)
				loss, lse := e.output(rows), e.output(rows)
				e.vk.CrossEntropy(loss.vk, lse.vk, x.vk, targets.vk, rows, n, ignore, smoothing)
				e.cpu.CrossEntropy(loss.cpu, lse.cpu, x.cpu, targets.cpu, rows, n, ignore, smoothing)
				e.check(t, "loss", loss, nnTol)
				e.check(t, "lse", lse, nnTol)

				gloss := e.input(e.normal(rows, 1))
				dx := e.output(rows * n)
				e.vk.CrossEntropyBackward(dx.vk, x.vk, lse.vk, targets.vk, gloss.vk, rows, n, ignore, smoothing)
				e.cpu.CrossEntropyBackward(dx.cpu, x.cpu, lse.cpu, targets.cpu, gloss.cpu, rows, n, ignore, smoothing)
				e.check(t, "dlogits", dx, nnTol)
			})
		}
	}
}

// benchBackends runs f as a sub-benchmark on the CPU and, when one opens,
// on the Vulkan device, waiting for the device after each iteration.
func benchBackends(b *testing.B, f func(b *testing.B, be tensor.Backend)) {
	backends := []tensor.Backend{tensor.MustOpen("cpu")}
	if vk, err := tensor.Open("vulkan"); err == nil {
		backends = append(backends, vk)
	}
	for _, be := range backends {
		b.Run(be.Name(), func(b *testing.B) {
			f(b, be)
			require.NoError(b, be.Sync())
		})
	}
}

// benchInput allocates n normal values on be.
func benchInput(be tensor.Backend, n int) tensor.Span {
	s := be.Alloc(n)
	d := make([]float32, n)
	for i := range d {
		d[i] = tensor.PhiloxNormal(7, uint64(i))
	}
	be.Write(s, 0, d)
	return tensor.Span{Buf: s}
}

func BenchmarkSoftmax(b *testing.B) {
	const rows, n = 256, 1024
	benchBackends(b, func(b *testing.B, be tensor.Backend) {
		x, y := benchInput(be, rows*n), benchInput(be, rows*n)
		for b.Loop() {
			be.Softmax(y, x, rows, n, false)
			_ = be.Sync()
		}
	})
}
