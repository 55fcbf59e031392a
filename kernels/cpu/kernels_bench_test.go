package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"sargo/tensor"
)

// Benchmarks of the model's other heavy kernels, each reporting a rate per
// wall-clock second: attention and convolution in GFLOP/s (multiply-adds
// counted twice, only over the key positions the mask lets a query see),
// interpolation in output elements per second (Gelem/s), since its cost
// per element depends on the mode rather than on a FLOP count.

func benchTensor(be *Backend, seed uint64, shape ...int) *tensor.Tensor {
	return tensor.Randn(be, seed, 0, shape...)
}

// BenchmarkAttention times fused attention forward and backward with the
// block-causal mask of the VAR-like 10-scale list (680 tokens).
func BenchmarkAttention(b *testing.B) {
	be := New()
	scales := []int{1, 2, 3, 4, 5, 6, 8, 10, 13, 16}
	var ids []float32
	for i, s := range scales {
		for j := 0; j < s*s; j++ {
			ids = append(ids, float32(i))
		}
	}
	L := len(ids)
	visible := 0
	for _, qi := range ids {
		for _, kj := range ids {
			if kj <= qi {
				visible++
			}
		}
	}
	for _, c := range []struct{ B, H, D int }{{2, 6, 64}, {8, 6, 64}} {
		q, k, v := benchTensor(be, 1, c.B, c.H, L, c.D), benchTensor(be, 2, c.B, c.H, L, c.D), benchTensor(be, 3, c.B, c.H, L, c.D)
		sid := tensor.FromSlice(be, ids, L)
		mask := tensor.AttentionMask{Kind: tensor.MaskScale, ScaleQ: sid, ScaleK: sid}
		scale := float32(0.125)
		flops := 4 * float64(c.B*c.H*visible*c.D) // QKᵀ and PV
		b.Run(fmt.Sprintf("forward/B=%d,H=%d,L=%d,D=%d", c.B, c.H, L, c.D), func(b *testing.B) {
			cpu0 := processCPUSeconds()
			for b.Loop() {
				o, lse := tensor.Attention(q, k, v, scale, mask)
				o.Release()
				lse.Release()
			}
			reportAttnRates(b, flops, cpu0)
		})
		o, lse := tensor.Attention(q, k, v, scale, mask)
		gout := benchTensor(be, 4, c.B, c.H, L, c.D)
		b.Run(fmt.Sprintf("backward/B=%d,H=%d,L=%d,D=%d", c.B, c.H, L, c.D), func(b *testing.B) {
			cpu0 := processCPUSeconds()
			for b.Loop() {
				dq, dk, dv := tensor.AttentionBackward(q, k, v, o, lse, gout, scale, mask)
				dq.Release()
				dk.Release()
				dv.Release()
			}
			// Recomputing P, then dV, dP, dQ and dK: five products.
			reportAttnRates(b, 2.5*flops, cpu0)
		})
	}
}

// reportAttnRates reports flops per iteration as GFLOP/s per wall-clock
// second and per processor-second used by the whole process since cpu0 (on
// a shared machine the second moves less with other processes' load).
func reportAttnRates(b *testing.B, flops, cpu0 float64) {
	total := flops * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if cpu := processCPUSeconds() - cpu0; cpu > 0 {
		b.ReportMetric(total/cpu/1e9, "GFLOP/cpu-s")
	}
}

// BenchmarkConv2d times a 3×3 convolution of the tokenizer's shapes,
// forward and both backwards.
func BenchmarkConv2d(b *testing.B) {
	be := New()
	for _, c := range []struct{ N, Cin, Cout, H int }{{32, 32, 32, 32}, {32, 64, 64, 16}, {32, 64, 64, 8}} {
		x := benchTensor(be, 1, c.N, c.Cin, c.H, c.H)
		w := benchTensor(be, 2, c.Cout, c.Cin, 3, 3)
		bias := benchTensor(be, 3, c.Cout)
		flops := 2 * float64(c.N*c.Cout*c.H*c.H*c.Cin*9)
		name := fmt.Sprintf("N=%d,C=%d->%d,H=%d", c.N, c.Cin, c.Cout, c.H)
		b.Run("forward/"+name, func(b *testing.B) {
			for b.Loop() {
				tensor.Conv2d(x, w, bias, 1, 1).Release()
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		gy := benchTensor(be, 4, c.N, c.Cout, c.H, c.H)
		b.Run("backward/"+name, func(b *testing.B) {
			for b.Loop() {
				dx, dw, db := tensor.Conv2dBackward(x, w, true, gy, 1, 1)
				dx.Release()
				dw.Release()
				db.Release()
			}
			b.ReportMetric(2*flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkInterpolate times the model's resizes: bicubic upsampling of
// token latents between consecutive scales and area downsampling of the
// latent and the position grid.
func BenchmarkInterpolate(b *testing.B) {
	be := New()
	cases := []struct {
		mode      tensor.InterpMode
		planes    int
		hin, hout int
	}{
		{tensor.InterpBicubic, 32 * 32, 13, 16},
		{tensor.InterpBicubic, 32 * 32, 6, 8},
		{tensor.InterpArea, 32 * 32, 16, 5},
		{tensor.InterpArea, 384, 32, 13},
	}
	for _, c := range cases {
		x := benchTensor(be, 1, c.planes, c.hin, c.hin)
		elems := float64(c.planes * c.hout * c.hout)
		b.Run(fmt.Sprintf("%s/%d->%d,planes=%d", c.mode, c.hin, c.hout, c.planes), func(b *testing.B) {
			for b.Loop() {
				tensor.Interpolate(x, c.hout, c.hout, c.mode).Release()
			}
			b.ReportMetric(elems*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gelem/s")
		})
		g := benchTensor(be, 2, c.planes, c.hout, c.hout)
		b.Run(fmt.Sprintf("%s-backward/%d->%d,planes=%d", c.mode, c.hin, c.hout, c.planes), func(b *testing.B) {
			for b.Loop() {
				tensor.InterpolateBackward(g, c.hin, c.hin, c.mode).Release()
			}
			b.ReportMetric(elems*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gelem/s")
		})
	}
}

// convPassBench is one of the tokenizer's 3×3 convolutions (batch 8, pad
// 1) with its operands, for the benchmarks of single products.
type convPassBench struct {
	name           string
	a              tensor.ConvArgs
	flops          float64 // of one product
	x, w, bias, gy []float32
	y, dx, dw, db  []float32
}

// convPassBenches are the downsample, the 128-channel convolutions at 16²
// and 8² and the small preset's 64-channel one at 8².
func convPassBenches() []convPassBench {
	var out []convPassBench
	for _, c := range []struct{ Cin, Cout, H, Stride int }{{64, 64, 32, 2}, {128, 128, 16, 1}, {128, 128, 8, 1}, {64, 64, 8, 1}} {
		a := tensor.ConvArgs{N: 8, Cin: c.Cin, H: c.H, W: c.H, Cout: c.Cout, KH: 3, KW: 3, Stride: c.Stride, Pad: 1, HasBias: true}
		a.Hout = (a.H+2*a.Pad-a.KH)/a.Stride + 1
		a.Wout = a.Hout
		rng := rand.New(rand.NewPCG(1, 2))
		cb := convPassBench{name: fmt.Sprintf("N=%d,C=%d->%d,H=%d,s%d", a.N, a.Cin, a.Cout, a.H, a.Stride), a: a,
			flops: 2 * float64(a.N*a.Cout*a.Hout*a.Wout*a.Cin*9),
			x:     kernRand(rng, a.N*a.Cin*a.H*a.W, -1, 1), w: kernRand(rng, a.Cout*a.Cin*9, -1, 1),
			bias: kernRand(rng, a.Cout, -1, 1), gy: kernRand(rng, a.N*a.Cout*a.Hout*a.Wout, -1, 1)}
		cb.y, cb.dx = make([]float32, len(cb.gy)), make([]float32, len(cb.x))
		cb.dw, cb.db = make([]float32, len(cb.w)), make([]float32, a.Cout)
		out = append(out, cb)
	}
	return out
}

// convProduct is one product of a convolution, run on a given backend.
type convProduct struct {
	name string
	run  func(be *Backend)
}

// products are the forward pass and the two gradients of c.
func (c *convPassBench) products() []convProduct {
	return []convProduct{
		{"forward", func(be *Backend) { be.Conv2d(c.a, kernSpan(c.y), kernSpan(c.x), kernSpan(c.w), kernSpan(c.bias)) }},
		{"input", func(be *Backend) { be.Conv2dBackwardInput(c.a, kernSpan(c.dx), kernSpan(c.gy), kernSpan(c.w)) }},
		{"weight", func(be *Backend) {
			be.Conv2dBackwardWeight(c.a, kernSpan(c.dw), kernSpan(c.db), kernSpan(c.x), kernSpan(c.gy))
		}},
	}
}

// BenchmarkConv2dPasses times each product of the tokenizer's 3×3
// convolutions (batch 8) on its own, on the path useImplicit chooses, on
// the implicit path and on im2col, so that the paths of a pass can be
// compared shape by shape; it also reports the rate per
// processor-second.
func BenchmarkConv2dPasses(b *testing.B) {
	for _, c := range convPassBenches() {
		for _, path := range []struct {
			name string
			mode int
		}{{"chosen", 0}, {"implicit", 1}, {"im2col", -1}} {
			be := &Backend{workers: runtime.GOMAXPROCS(0), convPath: path.mode}
			for _, pass := range c.products() {
				b.Run(pass.name+"/"+c.name+"/"+path.name, func(b *testing.B) {
					cpu0 := processCPUSeconds()
					for b.Loop() {
						pass.run(be)
					}
					work := c.flops * float64(b.N) / 1e9
					b.ReportMetric(work/b.Elapsed().Seconds(), "GFLOP/s")
					if cpu := processCPUSeconds() - cpu0; cpu > 0 {
						b.ReportMetric(work/cpu, "GFLOP/cpu-s")
					}
				})
			}
		}
	}
}

// BenchmarkConv2dPathPairs times the implicit path against im2col on the
// products of BenchmarkConv2dPasses in alternation, call by call (the
// order swapped every pair), and reports the median over the pairs of
// im2col's time over the implicit path's ("speedup", above 1 where the
// implicit path is faster) with the 95% interval of that median. Pairing
// single calls keeps the ratio meaningful on a machine whose load changes
// from one second to the next.
func BenchmarkConv2dPathPairs(b *testing.B) {
	paths := [2]*Backend{
		{workers: runtime.GOMAXPROCS(0), convPath: 1},
		{workers: runtime.GOMAXPROCS(0), convPath: -1},
	}
	for _, c := range convPassBenches() {
		for _, pass := range c.products() {
			b.Run(pass.name+"/"+c.name, func(b *testing.B) {
				benchPairs(b, func() { pass.run(paths[1]) }, func() { pass.run(paths[0]) })
			})
		}
	}
}

// benchPairs times base and cand in alternation, call by call (the order
// swapped every pair), and reports the median over the pairs of base's
// time over cand's ("speedup", above 1 where cand is faster) with the 95%
// interval of that median.
func benchPairs(b *testing.B, base, cand func()) {
	runs := [2]func(){cand, base}
	var ratios []float64
	for i := 0; b.Loop(); i++ {
		var t [2]time.Duration
		for j := range 2 {
			p := (i + j) % 2
			start := time.Now()
			runs[p]()
			t[p] = time.Since(start)
		}
		ratios = append(ratios, float64(t[1])/float64(t[0]))
	}
	med, lo, hi := medianInterval95(ratios)
	b.ReportMetric(med, "speedup")
	b.ReportMetric(lo, "speedup-lo")
	b.ReportMetric(hi, "speedup-hi")
}

// tokenizerNormShapes are the tokenizer's group norms at batch 64: 16, 32,
// 64 and 128 channels in 32 groups (16 in 16) at 32², 16² and 8².
var tokenizerNormShapes = []tensor.NormArgs{
	{Batch: 64, C: 16, HW: 32 * 32, Groups: 16, Eps: 1e-6, HasWeight: true, HasBias: true},
	{Batch: 64, C: 32, HW: 32 * 32, Groups: 32, Eps: 1e-6, HasWeight: true, HasBias: true},
	{Batch: 64, C: 64, HW: 16 * 16, Groups: 32, Eps: 1e-6, HasWeight: true, HasBias: true},
	{Batch: 64, C: 128, HW: 8 * 8, Groups: 32, Eps: 1e-6, HasWeight: true, HasBias: true},
}

// BenchmarkGroupNormPairs times groupNorm against the row-by-row kernels
// (rowNorm, the group norm's kernel before groupNorm) on the tokenizer's
// group norms, forward and backward with both parameter gradients, in
// pairs as benchPairs does.
func BenchmarkGroupNormPairs(b *testing.B) {
	be := &Backend{workers: runtime.GOMAXPROCS(0)}
	for _, a := range tokenizerNormShapes {
		s := shapeOf(a)
		total := s.rows * s.rowLen
		rng := rand.New(rand.NewPCG(3, 4))
		x, gy := kernRand(rng, total, -2, 3), kernRand(rng, total, -1, 1)
		w, bias := kernRand(rng, s.params, 0.5, 1.5), kernRand(rng, s.params, -1, 1)
		y, dx := make([]float32, total), make([]float32, total)
		mean, rstd := make([]float32, s.rows), make([]float32, s.rows)
		dw, db := make([]float32, s.params), make([]float32, s.params)
		name := fmt.Sprintf("B=%d,C=%d,HW=%d,G=%d", a.Batch, a.C, a.HW, a.Groups)
		b.Run("forward/"+name, func(b *testing.B) {
			benchPairs(b, func() { be.rowNorm(s, a.Eps, y, mean, rstd, x, w, bias) },
				func() { be.groupNorm(s, a.Eps, y, mean, rstd, x, w, bias) })
		})
		be.groupNorm(s, a.Eps, y, mean, rstd, x, w, bias)
		b.Run("backward/"+name, func(b *testing.B) {
			benchPairs(b, func() { be.rowNormBackward(s, dx, dw, db, x, mean, rstd, w, gy) },
				func() { be.groupNormBackward(s, dx, dw, db, x, mean, rstd, w, gy) })
		})
	}
}

// medianInterval95 returns the median of xs and an interval holding it
// with probability at least 95% (the exact order-statistic interval),
// or the smallest and largest value where xs is too short for one.
func medianInterval95(xs []float64) (med, lo, hi float64) {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return 0, 0, 0
	}
	med = s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	// The largest k with P(Bin(n, 1/2) < k) ≤ 2.5%: [s[k], s[n−1−k]].
	k, tail := 0, 0.0
	for j := 0; j < n/2; j++ {
		tail += binomHalfProb(n, j)
		if tail > 0.025 {
			break
		}
		k = j + 1
	}
	return med, s[min(k, n-1)], s[max(n-1-k, 0)]
}

// binomHalfProb is P(Bin(n, 1/2) = j).
func binomHalfProb(n, j int) float64 {
	lg := func(x int) float64 { v, _ := math.Lgamma(float64(x + 1)); return v }
	return math.Exp(lg(n) - lg(j) - lg(n-j) - float64(n)*math.Ln2)
}

// BenchmarkNearestUpPairs times the decoder's ×2 nearest upsampling
// (batch 64) on nearestUp against the tap-table passes
// (interpolateTaps), forward and backward, in pairs as benchPairs does.
func BenchmarkNearestUpPairs(b *testing.B) {
	be := &Backend{workers: runtime.GOMAXPROCS(0)}
	for _, c := range []struct{ channels, h int }{{128, 8}, {64, 8}, {64, 16}, {32, 16}} {
		a := tensor.InterpArgs{Mode: tensor.InterpNearest, Planes: 64 * c.channels, Hin: c.h, Win: c.h, Hout: 2 * c.h, Wout: 2 * c.h}
		rng := rand.New(rand.NewPCG(5, 6))
		x := kernRand(rng, a.Planes*a.Hin*a.Win, -1, 1)
		g := kernRand(rng, a.Planes*a.Hout*a.Wout, -1, 1)
		y, dx := make([]float32, len(g)), make([]float32, len(x))
		name := fmt.Sprintf("B=64,C=%d,H=%d", c.channels, c.h)
		b.Run("forward/"+name, func(b *testing.B) {
			benchPairs(b, func() { be.interpolateTaps(a, y, x) }, func() { be.nearestUp(a, y, x) })
		})
		b.Run("backward/"+name, func(b *testing.B) {
			benchPairs(b, func() { be.interpolateTapsBackward(a, dx, g) }, func() { be.nearestUpBackward(a, dx, g) })
		})
	}
}
