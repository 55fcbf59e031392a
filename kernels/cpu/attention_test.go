package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"sargo/tensor"
)

// kernAttnCase is one attention configuration.
type kernAttnCase struct {
	name            string
	b, h, lq, lk, d int
	mask            tensor.MaskKind
	maskVals        []float32 // additive, [lq, lk]
	scaleQ, scaleK  []float32
	emptyRow        int // a query row with no visible key, or -1
	scale           float32
}

// kernAttnRef is the float64 attention of one configuration, returning the
// output and the log-sum-exp.
func kernAttnRef(c kernAttnCase, q, k, v []float64) (out, lse []float64) {
	D := c.d
	for bh := range c.b * c.h {
		for i := range c.lq {
			s := make([]float64, c.lk)
			m := math.Inf(-1)
			for j := range c.lk {
				var d float64
				for x := range D {
					d += q[(bh*c.lq+i)*D+x] * k[(bh*c.lk+j)*D+x]
				}
				s[j] = float64(c.scale) * d
				switch c.mask {
				case tensor.MaskAdditive:
					s[j] += float64(c.maskVals[i*c.lk+j])
				case tensor.MaskScale:
					if c.scaleK[j] > c.scaleQ[i] {
						s[j] = math.Inf(-1)
					}
				}
				m = math.Max(m, s[j])
			}
			o := make([]float64, D)
			if math.IsInf(m, -1) {
				out, lse = append(out, o...), append(lse, m)
				continue
			}
			var l float64
			for j := range c.lk {
				p := math.Exp(s[j] - m)
				l += p
				for x := range D {
					o[x] += p * v[(bh*c.lk+j)*D+x]
				}
			}
			for x := range o {
				o[x] /= l
			}
			out, lse = append(out, o...), append(lse, m+math.Log(l))
		}
	}
	return out, lse
}

func kernAttnCases() []kernAttnCase {
	rng := rand.New(rand.NewPCG(9, 9))
	add := kernRand(rng, 13*7, -1, 1)
	for j := range 7 {
		add[2*7+j] = float32(math.Inf(-1)) // query 2 sees nothing
	}
	add[5*7+3] = float32(math.Inf(-1))
	// Scales long enough for the GEMM path to split the queries into
	// blocks: scale 0 (64 queries) sees no key at all, scales 1 and 2 share
	// a block, and scale 3 is a block of its own.
	var blockQ, blockK []float32
	for s, n := range []int{64, 9, 60, 70} {
		for range n {
			blockQ = append(blockQ, float32(s))
			if s > 0 {
				blockK = append(blockK, float32(s))
			}
		}
	}
	return []kernAttnCase{
		{name: "none 1", b: 1, h: 1, lq: 1, lk: 1, d: 1, mask: tensor.MaskNone, emptyRow: -1, scale: 1},
		{name: "none", b: 2, h: 3, lq: 7, lk: 5, d: 3, mask: tensor.MaskNone, emptyRow: -1, scale: 0.4},
		{name: "none long", b: 1, h: 1, lq: 19, lk: 11, d: 4, mask: tensor.MaskNone, emptyRow: -1, scale: 0.35},
		{name: "additive", b: 1, h: 2, lq: 13, lk: 7, d: 3, mask: tensor.MaskAdditive, maskVals: add, emptyRow: 2, scale: 0.5},
		{name: "scale", b: 2, h: 1, lq: 6, lk: 7, d: 4, mask: tensor.MaskScale,
			scaleQ: []float32{0, 1, 1, 2, 2, 2}, scaleK: []float32{0, 0, 1, 1, 2, 2, 2}, emptyRow: -1, scale: 0.5},
		{name: "scale empty", b: 1, h: 2, lq: 5, lk: 6, d: 3, mask: tensor.MaskScale,
			scaleQ: []float32{0, 1, 1, 2, 2}, scaleK: []float32{1, 1, 1, 2, 2, 2}, emptyRow: 0, scale: 0.6},
		{name: "scale blocks", b: 1, h: 1, lq: len(blockQ), lk: len(blockK), d: 2, mask: tensor.MaskScale,
			scaleQ: blockQ, scaleK: blockK, emptyRow: 0, scale: 0.7},
		// Queries out of order over sorted keys: one block, each query
		// reading only its visible prefix of keys.
		{name: "scale queries unsorted", b: 1, h: 2, lq: 6, lk: 7, d: 4, mask: tensor.MaskScale,
			scaleQ: []float32{2, 0, 1, -1, 2, 1}, scaleK: []float32{0, 0, 1, 1, 2, 2, 2}, emptyRow: 3, scale: 0.5},
		// Keys out of order: masked key by key.
		{name: "scale keys unsorted", b: 2, h: 1, lq: 6, lk: 7, d: 4, mask: tensor.MaskScale,
			scaleQ: []float32{0, 1, 1, 2, 2, -1}, scaleK: []float32{2, 0, 1, 0, 2, 1, 2}, emptyRow: 5, scale: 0.5},
	}
}

// kernAttnPaths runs each case through both implementations.
var kernAttnPaths = []struct {
	name string
	fwd  func(*Backend, tensor.AttentionArgs)
	bwd  func(*Backend, tensor.AttentionArgs, tensor.AttentionGrads)
}{
	{"direct", (*Backend).attentionDirect, (*Backend).attentionBackwardDirect},
	// The GEMM path runs with a budget of four heads so that heads are
	// processed in ragged groups.
	{"gemm", func(b *Backend, a tensor.AttentionArgs) { b.attentionGemm(a, 4*a.Lq*a.Lk) },
		func(b *Backend, a tensor.AttentionArgs, g tensor.AttentionGrads) {
			b.attentionBackwardGemm(a, g, 4*a.Lq*a.Lk)
		}},
}

func TestAttention(t *testing.T) {
	be := kernBackend()
	for _, path := range kernAttnPaths {
		for _, c := range kernAttnCases() {
			t.Run(path.name+"/"+c.name, func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(c.lq), uint64(c.lk)))
				nh := c.b * c.h
				q := kernRand(rng, nh*c.lq*c.d, -1.5, 1.5)
				k := kernRand(rng, nh*c.lk*c.d, -1.5, 1.5)
				v := kernRand(rng, nh*c.lk*c.d, -1, 1)
				gout := kernRand(rng, nh*c.lq*c.d, -1, 1)
				q64, k64, v64 := kernF64(q), kernF64(k), kernF64(v)
				wantOut, wantLse := kernAttnRef(c, q64, k64, v64)

				out, lse := make([]float32, nh*c.lq*c.d), make([]float32, nh*c.lq)
				a := tensor.AttentionArgs{B: c.b, H: c.h, Lq: c.lq, Lk: c.lk, D: c.d, Scale: c.scale, Mask: c.mask,
					Q: kernSpan(q), K: kernSpan(k), V: kernSpan(v), Out: kernSpan(out), Lse: kernSpan(lse)}
				switch c.mask {
				case tensor.MaskAdditive:
					a.MaskValues = kernSpan(c.maskVals)
				case tensor.MaskScale:
					a.ScaleQ, a.ScaleK = kernSpan(c.scaleQ), kernSpan(c.scaleK)
				}
				path.fwd(be, a)
				kernClose(t, wantOut, out, 1e-5, 1e-6, "out")
				kernClose(t, wantLse, lse, 1e-5, 1e-6, "lse")

				loss := func(q, k, v []float64) float64 {
					o, _ := kernAttnRef(c, q, k, v)
					var l float64
					for i, x := range o {
						l += float64(gout[i]) * x
					}
					return l
				}
				wantDq := kernGrad(q64, func(z []float64) float64 { return loss(z, k64, v64) })
				wantDk := kernGrad(k64, func(z []float64) float64 { return loss(q64, z, v64) })
				wantDv := kernGrad(v64, func(z []float64) float64 { return loss(q64, k64, z) })
				// Gradients are overwritten: start them non-zero.
				dq := kernRand(rng, len(q), -1, 1)
				dk := kernRand(rng, len(k), -1, 1)
				dv := kernRand(rng, len(v), -1, 1)
				path.bwd(be, a, tensor.AttentionGrads{GradOut: kernSpan(gout), GradQ: kernSpan(dq), GradK: kernSpan(dk), GradV: kernSpan(dv)})
				kernClose(t, wantDq, dq, 1e-4, 1e-5, "dq")
				kernClose(t, wantDk, dk, 1e-4, 1e-5, "dk")
				kernClose(t, wantDv, dv, 1e-4, 1e-5, "dv")
				if c.emptyRow >= 0 {
					for bh := range nh {
						row := bh*c.lq + c.emptyRow
						require.True(t, math.IsInf(float64(lse[row]), -1))
						for x := range c.d {
							require.Zero(t, out[row*c.d+x])
							require.Zero(t, dq[row*c.d+x])
						}
					}
				}
			})
		}
	}
}

func TestAttnVisiblePrefix(t *testing.T) {
	for _, c := range []struct {
		name   string
		mask   tensor.MaskKind
		sq, sk []float32
		want   []int32
	}{
		{"sorted", tensor.MaskScale, []float32{0, 1, 1, 2}, []float32{0, 1, 1, 2, 2}, []int32{1, 3, 3, 5}},
		{"queries unsorted", tensor.MaskScale, []float32{2, -1, 0}, []float32{0, 0, 1, 2}, []int32{4, 0, 2}},
		{"keys unsorted", tensor.MaskScale, []float32{0, 1}, []float32{1, 0}, nil},
		{"NaN key", tensor.MaskScale, []float32{0, 1}, []float32{0, float32(math.NaN())}, nil},
		{"additive", tensor.MaskAdditive, []float32{0, 1}, []float32{0, 1}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := tensor.AttentionArgs{Lq: len(c.sq), Lk: len(c.sk), Mask: c.mask}
			b := New()
			vis, buf := b.attnVisiblePrefix(a, c.sq, c.sk)
			require.Equal(t, c.want, vis)
			b.attnVis.Put(buf)
			again, _ := b.attnVisiblePrefix(a, c.sq, c.sk)
			require.Equal(t, c.want, again, "from a recycled buffer")
		})
	}
}
