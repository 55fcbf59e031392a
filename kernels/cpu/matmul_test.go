package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/tensor"
)

// matmulCase is one batched product to check against the float64 reference.
type matmulCase struct {
	batch, m, n, k   int
	transA, transB   bool
	strideA, strideB int // per-batch strides; -1 means a full matrix
	offA, offB, offC int // span offsets
	alpha            float32
	beta             float32
	noise            bool // fill C with NaN before a beta-0 product
}

func (c matmulCase) String() string {
	return fmt.Sprintf("b%d_m%d_n%d_k%d_tA%v_tB%v_sA%d_sB%d_a%g_b%g", c.batch, c.m, c.n, c.k, c.transA, c.transB, c.strideA, c.strideB, c.alpha, c.beta)
}

// matmulFixture holds the buffers of a case and the expected result.
type matmulFixture struct {
	args       tensor.MatMulArgs
	cBuf       *Buffer
	want       []float64 // expected C buffer, including guard elements
	tol        []float64
	guardValue float32
}

// newMatmulFixture fills A, B and C with random values (C with NaN when
// the case asks for it), surrounds C with guard values and computes the
// expected C in float64.
func newMatmulFixture(c matmulCase, rng *rand.Rand) *matmulFixture {
	sizeA, sizeB, sizeC := c.m*c.k, c.k*c.n, c.m*c.n
	sA, sB := c.strideA, c.strideB
	if sA < 0 {
		sA = sizeA
	}
	if sB < 0 {
		sB = sizeB
	}
	fill := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = rng.Float32()*2 - 1
		}
		return v
	}
	a := fill(c.offA + (c.batch-1)*sA + sizeA)
	b := fill(c.offB + (c.batch-1)*sB + sizeB)
	const guard = 4
	cv := fill(c.offC + c.batch*sizeC + guard)
	if c.noise {
		for i := c.offC; i < c.offC+c.batch*sizeC; i++ {
			cv[i] = float32(math.NaN())
		}
	}
	f := &matmulFixture{
		args: tensor.MatMulArgs{
			Batch: c.batch, M: c.m, N: c.n, K: c.k,
			TransA: c.transA, TransB: c.transB,
			A:       tensor.Span{Buf: &Buffer{Data: a}, Offset: c.offA},
			B:       tensor.Span{Buf: &Buffer{Data: b}, Offset: c.offB},
			C:       tensor.Span{Buf: &Buffer{Data: cv}, Offset: c.offC},
			StrideA: sA, StrideB: sB, StrideC: sizeC,
			Alpha: c.alpha, Beta: c.beta,
		},
		want: make([]float64, len(cv)),
		tol:  make([]float64, len(cv)),
	}
	f.cBuf = f.args.C.Buf.(*Buffer)
	for i, v := range cv {
		f.want[i] = float64(v)
	}
	for bt := 0; bt < c.batch; bt++ {
		oa, ob, oc := c.offA+bt*sA, c.offB+bt*sB, c.offC+bt*sizeC
		for i := 0; i < c.m; i++ {
			for j := 0; j < c.n; j++ {
				var s, mag float64
				for p := 0; p < c.k; p++ {
					x := a[oa+i*c.k+p]
					if c.transA {
						x = a[oa+p*c.m+i]
					}
					y := b[ob+p*c.n+j]
					if c.transB {
						y = b[ob+j*c.k+p]
					}
					s += float64(x) * float64(y)
					mag += math.Abs(float64(x) * float64(y))
				}
				idx := oc + i*c.n + j
				old := 0.0
				if c.beta != 0 {
					old = float64(cv[idx])
				}
				f.want[idx] = float64(c.alpha)*s + old
				// Rounding grows with the depth and the size of the terms.
				scale := math.Abs(float64(c.alpha))*mag + math.Abs(old)
				f.tol[idx] = (1e-5+1e-7*float64(c.k))*scale + 1e-6
			}
		}
	}
	return f
}

// check compares C with the expectation, guard elements included.
func (f *matmulFixture) check(t *testing.T) {
	t.Helper()
	bad := 0
	for i, g := range f.cBuf.Data {
		diff := math.Abs(float64(g) - f.want[i])
		if !(diff <= f.tol[i]) {
			bad++
			if bad <= 5 {
				t.Errorf("C[%d] = %v, want %v (tol %g)", i, g, f.want[i], f.tol[i])
			}
		}
	}
	require.Zero(t, bad, "mismatched elements")
}

// raggedCases covers every transpose combination over ragged shapes.
func raggedCases() []matmulCase {
	shapes := [][3]int{
		{1, 1, 1}, {7, 7, 7}, {13, 13, 13}, {31, 31, 31}, {97, 97, 97}, {130, 130, 130}, {257, 257, 257},
		{1, 257, 13}, {257, 1, 31}, {7, 130, 97}, {97, 31, 257}, {130, 257, 7}, {13, 97, 130},
		{31, 13, 1}, {257, 7, 130}, {1, 97, 257}, {130, 1, 257}, {14, 32, 300}, {28, 64, 17},
	}
	var cases []matmulCase
	for _, s := range shapes {
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			cases = append(cases, matmulCase{batch: 1, m: s[0], n: s[1], k: s[2], transA: tr[0], transB: tr[1],
				strideA: -1, strideB: -1, alpha: 1, noise: true})
		}
	}
	return cases
}

// featureCases covers batching, broadcasting, scaling, accumulation and
// offsets.
func featureCases() []matmulCase {
	return []matmulCase{
		{batch: 3, m: 31, n: 97, k: 13, strideA: 0, strideB: -1, alpha: 1, noise: true},
		{batch: 3, m: 97, n: 31, k: 130, strideA: -1, strideB: 0, alpha: 1, noise: true},
		{batch: 3, m: 97, n: 31, k: 130, transA: true, strideA: -1, strideB: 0, alpha: 1, noise: true},
		{batch: 4, m: 64, n: 64, k: 64, transB: true, strideA: 0, strideB: -1, alpha: 1, beta: 1},
		{batch: 5, m: 130, n: 97, k: 31, transA: true, transB: true, strideA: -1, strideB: -1, alpha: 0.5, beta: 1},
		{batch: 16, m: 13, n: 7, k: 31, strideA: -1, strideB: -1, alpha: -2, noise: true},
		{batch: 9, m: 40, n: 50, k: 60, transB: true, strideA: -1, strideB: 0, alpha: 1, beta: 1},
		{batch: 1, m: 257, n: 130, k: 97, strideA: -1, strideB: -1, alpha: -1.5, beta: 1},
		{batch: 1, m: 257, n: 130, k: 97, transA: true, strideA: -1, strideB: -1, alpha: 3, noise: true},
		{batch: 2, m: 97, n: 130, k: 257, strideA: -1, strideB: -1, offA: 5, offB: 11, offC: 3, alpha: 0.25, beta: 1},
		{batch: 2, m: 13, n: 7, k: 1, transA: true, transB: true, strideA: -1, strideB: 0, offA: 2, offB: 9, offC: 17, alpha: 1, noise: true},
		{batch: 2, m: 1, n: 300, k: 200, transB: true, strideA: -1, strideB: -1, alpha: 0.5, beta: 1},
		{batch: 2, m: 1, n: 300, k: 200, strideA: 0, strideB: -1, offB: 7, alpha: -1, beta: 1},
		{batch: 3, m: 300, n: 1, k: 100, transA: true, strideA: -1, strideB: 0, alpha: 2, beta: 1},
		{batch: 3, m: 300, n: 1, k: 100, strideA: -1, strideB: -1, offC: 5, alpha: 1, beta: 1},
		{batch: 2, m: 7, n: 13, k: 0, strideA: -1, strideB: -1, alpha: 1, noise: true},
		{batch: 2, m: 7, n: 13, k: 0, strideA: -1, strideB: -1, alpha: 1, beta: 1},
	}
}

// tinyBlocking returns a copy of kern with blocks of a few micro-panels, so
// that every block boundary of the driver is crossed by small products.
func tinyBlocking(kern *gemmKernel) *gemmKernel {
	k := *kern
	k.name += "-tiny"
	k.kc, k.mc, k.nc = 20, 2*k.mr, 2*k.nr
	return &k
}

func TestGemmKernelsListed(t *testing.T) {
	ks := gemmKernels()
	require.NotEmpty(t, ks)
	assert.Equal(t, goKernel, ks[len(ks)-1], "the Go kernel is always available")
	assert.Equal(t, ks[0].name, gemmKernelName())
	for _, k := range ks {
		assert.Zero(t, k.mc%k.mr, "%s: mc must be a multiple of mr", k.name)
	}
}

func TestMatMul(t *testing.T) {
	cases := append(raggedCases(), featureCases()...)
	for _, kern := range gemmKernels() {
		for _, variant := range []struct {
			name    string
			kern    *gemmKernel
			workers int
		}{
			{"default", kern, 2},
			{"serial", kern, 1},
			{"tinyblocks", tinyBlocking(kern), 3},
		} {
			t.Run(variant.kern.name+"/"+variant.name, func(t *testing.T) {
				rng := rand.New(rand.NewPCG(1, 2))
				be := &Backend{workers: variant.workers}
				for _, c := range cases {
					f := newMatmulFixture(c, rng)
					be.matmulWith(f.args, variant.kern)
					t.Run(c.String(), f.check)
				}
			})
		}
	}
}

// TestGemmPaths runs the direct loop, the matrix-vector loop (on
// single-row or single-column shapes) and the packed path with every kernel
// on the small shapes, whichever of them the dispatcher would choose.
func TestGemmPaths(t *testing.T) {
	type path struct {
		name string
		run  func(g gemmOperands)
	}
	paths := []path{{"direct", gemmSmall}, {"gemv", func(g gemmOperands) { gemv(&Backend{workers: 2}, g) }}}
	for _, kern := range gemmKernels() {
		paths = append(paths, path{kern.name, func(g gemmOperands) { gemmBlocked(&Backend{workers: 2}, 2, g, kern) }})
	}
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 4))
			for _, c := range raggedCases() {
				if c.m*c.n*c.k > 64<<10 || (p.name == "gemv" && c.m != 1 && c.n != 1) {
					continue
				}
				f := newMatmulFixture(c, rng)
				a := f.args
				A, B, C := data(a.A.Buf), data(a.B.Buf), data(a.C.Buf)
				p.run(gemmOperands{m: a.M, n: a.N, k: a.K, transA: a.TransA, transB: a.TransB,
					a: A[:a.M*a.K], b: B[:a.K*a.N], c: C[:a.M*a.N], alpha: a.Alpha})
				t.Run(c.String(), f.check)
			}
		})
	}
}

func TestMatMulPublic(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	f := newMatmulFixture(matmulCase{batch: 2, m: 65, n: 70, k: 80, transB: true, strideA: -1, strideB: 0, alpha: 1, noise: true}, rng)
	New().MatMul(f.args)
	f.check(t)
}

// TestMatMulReusesBuffers checks that a steady-state product does not
// allocate its packing buffers again. A garbage collection empties the
// buffer pools, so the best of a few trials counts.
func TestMatMulReusesBuffers(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops buffers at random under the race detector")
	}
	const n = 300
	rng := rand.New(rand.NewPCG(7, 8))
	f := newMatmulFixture(matmulCase{batch: 1, m: n, n: n, k: n, strideA: -1, strideB: -1, alpha: 1}, rng)
	for _, workers := range []int{1, 2} {
		be := &Backend{workers: workers}
		be.MatMul(f.args)
		best := uint64(math.MaxUint64)
		for range 5 {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			const runs = 10
			for range runs {
				be.MatMul(f.args)
			}
			runtime.ReadMemStats(&after)
			best = min(best, (after.TotalAlloc-before.TotalAlloc)/runs)
		}
		assert.Less(t, best, uint64(4096), "workers=%d: bytes allocated per product", workers)
	}
}
