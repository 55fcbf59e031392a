package vulkan

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"sargo/nn"
	"sargo/tensor"
)

// attnMaskInputs returns the mask inputs for kind: an additive mask with
// one query fully masked and some -Inf entries, or scale ids under which
// the first queries see no key.
func (e *nnEnv) attnMaskInputs(kind tensor.MaskKind, lq, lk int) (mask, sq, sk pair) {
	switch kind {
	case tensor.MaskAdditive:
		m := e.normal(lq*lk, 1)
		for j := range lk {
			m[j] = float32(math.Inf(-1)) // query 0 sees nothing
		}
		for i := 1; i < lq; i++ {
			if lk > 1 {
				m[i*lk+(i*7)%lk] = float32(math.Inf(-1))
			}
		}
		mask = e.input(m)
	case tensor.MaskScale:
		q, k := make([]float32, lq), make([]float32, lk)
		for i := range q {
			q[i] = float32(i * 4 / lq) // 0..3: scale 0 sees no key
		}
		for j := range k {
			k[j] = float32(1 + j*3/lk) // 1..3
		}
		sq, sk = e.input(q), e.input(k)
	}
	return mask, sq, sk
}

// attnCase is one attention test: sizes and mask kind.
type attnCase struct {
	b, h, lq, lk, d int
	kind            tensor.MaskKind
}

func (c attnCase) String() string {
	return fmt.Sprintf("B=%d/H=%d/D=%d/Lq=%d/Lk=%d/mask=%d", c.b, c.h, c.d, c.lq, c.lk, c.kind)
}

// attnCases are the shapes of TestAttention: every mask kind on tiles cut
// by every edge (lengths 1, below, at and past the 32-row tile), head dims
// below, at and between the 32-column chunks (each padded size is its own
// pipeline, slow to compile on lavapipe, so few sizes), Lq ≠ Lk both ways,
// and many heads.
func attnCases() []attnCase {
	var cs []attnCase
	shapes := [][2]int{{1, 1}, {7, 13}, {13, 13}, {1, 33}, {33, 7}, {40, 70}}
	for _, d := range []int{8, 33, 64, 128} {
		for _, sh := range shapes {
			for _, kind := range []tensor.MaskKind{tensor.MaskNone, tensor.MaskAdditive, tensor.MaskScale} {
				if (d == 33 || d == 128) && sh[0] > 13 {
					continue // keep lavapipe time small
				}
				cs = append(cs, attnCase{2, 3, sh[0], sh[1], d, kind})
			}
		}
	}
	return append(cs, attnCase{3, 40, 5, 9, 32, tensor.MaskScale}, attnCase{1, 2, 64, 96, 65, tensor.MaskNone}, attnCase{1, 1, 45, 77, 128, tensor.MaskScale})
}

func TestAttention(t *testing.T) {
	e := newNNEnv(t)
	for _, c := range attnCases() {
		t.Run(c.String(), func(t *testing.T) { e.attention(t, c) })
	}
}

// TestAttentionSharedMemory runs the forward whose row reductions go
// through shared memory (the variant for devices without subgroup
// shuffles) on part of TestAttention's cases.
func TestAttentionSharedMemory(t *testing.T) {
	b, err := Open(0, Options{Validation: true, NoSubgroups: true})
	skipOrFail(t, err)
	e := &nnEnv{vk: b, cpu: cpuBackend(), rng: rand.New(rand.NewPCG(2, 3))}
	for i, c := range attnCases() {
		if (c.d == 33 || c.d == 128) && i%2 == 0 {
			t.Run(c.String(), func(t *testing.T) { e.attention(t, c) })
		}
	}
	require.NoError(t, b.Close())
	require.Empty(t, b.ValidationMessages())
}

// attention runs the forward and backward of c on both backends and
// compares out, lse, dq, dk and dv.
func (e *nnEnv) attention(t *testing.T, c attnCase) {
	nh := c.b * c.h
	lq, lk, d := c.lq, c.lk, c.d
	q, k, v := e.input(e.normal(nh*lq*d, 1)), e.input(e.normal(nh*lk*d, 1)), e.input(e.normal(nh*lk*d, 1))
	mask, sq, sk := e.attnMaskInputs(c.kind, lq, lk)
	out, lse := e.output(nh*lq*d), e.output(nh*lq)
	args := func(vk bool) tensor.AttentionArgs {
		a := tensor.AttentionArgs{B: c.b, H: c.h, Lq: lq, Lk: lk, D: d, Scale: float32(1 / math.Sqrt(float64(d))), Mask: c.kind}
		side := func(p pair) tensor.Span {
			if vk {
				return p.vk
			}
			return p.cpu
		}
		a.Q, a.K, a.V, a.Out, a.Lse = side(q), side(k), side(v), side(out), side(lse)
		a.MaskValues, a.ScaleQ, a.ScaleK = side(mask), side(sq), side(sk)
		return a
	}
	e.vk.Attention(args(true))
	e.cpu.Attention(args(false))
	e.check(t, "out", out, nnTol)
	e.check(t, "lse", lse, nnTol)

	// the backward from the CPU's output and lse on both sides
	_, o := e.read(t, out)
	_, l := e.read(t, lse)
	out2, lse2 := e.input(o), e.input(l)
	gout := e.input(e.normal(nh*lq*d, 1))
	dq, dk, dv := e.output(nh*lq*d), e.output(nh*lk*d), e.output(nh*lk*d)
	av, ac := args(true), args(false)
	av.Out, av.Lse, ac.Out, ac.Lse = out2.vk, lse2.vk, out2.cpu, lse2.cpu
	e.vk.AttentionBackward(av, tensor.AttentionGrads{GradOut: gout.vk, GradQ: dq.vk, GradK: dk.vk, GradV: dv.vk})
	e.cpu.AttentionBackward(ac, tensor.AttentionGrads{GradOut: gout.cpu, GradQ: dq.cpu, GradK: dk.cpu, GradV: dv.cpu})
	e.check(t, "dq", dq, nnTol)
	e.check(t, "dk", dk, nnTol)
	e.check(t, "dv", dv, nnTol)
}

// attnRun is the outputs of one forward and backward on the device.
type attnRun struct{ out, lse, dq, dk, dv []float32 }

// attnOnce runs the forward and backward of c on b with inputs drawn from
// seed and reads every output back.
func attnOnce(t *testing.T, b *Backend, c attnCase, seed uint64) attnRun {
	t.Helper()
	e := &nnEnv{vk: b, cpu: cpuBackend(), rng: rand.New(rand.NewPCG(seed, 1))}
	nh := c.b * c.h
	n, nk := nh*c.lq*c.d, nh*c.lk*c.d
	q, k, v, gout := e.input(e.normal(n, 1)), e.input(e.normal(nk, 1)), e.input(e.normal(nk, 1)), e.input(e.normal(n, 1))
	mask, sq, sk := e.attnMaskInputs(c.kind, c.lq, c.lk)
	out, lse, dq, dk, dv := e.output(n), e.output(nh*c.lq), e.output(n), e.output(nk), e.output(nk)
	a := tensor.AttentionArgs{B: c.b, H: c.h, Lq: c.lq, Lk: c.lk, D: c.d, Scale: 0.3, Mask: c.kind,
		Q: q.vk, K: k.vk, V: v.vk, Out: out.vk, Lse: lse.vk, MaskValues: mask.vk, ScaleQ: sq.vk, ScaleK: sk.vk}
	b.Attention(a)
	b.AttentionBackward(a, tensor.AttentionGrads{GradOut: gout.vk, GradQ: dq.vk, GradK: dk.vk, GradV: dv.vk})
	var r attnRun
	for _, o := range []struct {
		dst *[]float32
		p   pair
	}{{&r.out, out}, {&r.lse, lse}, {&r.dq, dq}, {&r.dk, dk}, {&r.dv, dv}} {
		*o.dst = make([]float32, o.p.n)
		require.NoError(t, b.Read(o.p.vk.Buf, o.p.vk.Offset, *o.dst))
	}
	return r
}

// TestAttentionDeterministic checks that the attention kernels give the
// same bits on every run (no atomics, fixed reduction orders), and that
// the forward's two row-reduction variants give the same bits as each
// other.
func TestAttentionDeterministic(t *testing.T) {
	sub := sharedBackend(t)
	plain, err := Open(0, Options{Validation: true, NoSubgroups: true})
	skipOrFail(t, err)
	defer func() {
		require.NoError(t, plain.Close())
		require.Empty(t, plain.ValidationMessages())
	}()
	for _, c := range []attnCase{{2, 3, 45, 77, 64, tensor.MaskScale}, {1, 2, 33, 40, 128, tensor.MaskAdditive}} {
		t.Run(c.String(), func(t *testing.T) {
			first := attnOnce(t, sub, c, 9)
			require.Equal(t, first, attnOnce(t, sub, c, 9), "a second run")
			if !sub.info.SubgroupShuffle {
				t.Log("the device has no subgroup shuffles: one forward variant")
				return
			}
			require.Equal(t, first, attnOnce(t, plain, c, 9), "the shared-memory variant")
		})
	}
}

// TestAttentionKVCacheMatchesMask checks, on the device, that KV-cached
// sampling computes what the block-causal mask does: the queries of each
// scale attending, without a mask, to the keys of that scale and every
// earlier one give the rows of one masked pass over all scales. The
// schedule's 50 tokens cross a 32-token tile.
func TestAttentionKVCacheMatchesMask(t *testing.T) {
	b := sharedBackend(t)
	sizes := []int{1, 2, 3, 6}
	const B, H, L = 2, 3, 50
	for _, d := range []int{64, 128} {
		t.Run(fmt.Sprintf("D=%d", d), func(t *testing.T) {
			q, k, v := tensor.Randn(b, 1, 0, B, H, L, d), tensor.Randn(b, 2, 0, B, H, L, d), tensor.Randn(b, 3, 0, B, H, L, d)
			scale := float32(1 / math.Sqrt(float64(d)))
			full, _ := tensor.Attention(q, k, v, scale, nn.ScaleMask(b, sizes...))
			start := 0
			for _, s := range sizes {
				n := s * s
				out, _ := tensor.Attention(q.Narrow(2, start, n), k.Narrow(2, 0, start+n), v.Narrow(2, 0, start+n), scale, tensor.AttentionMask{})
				want := full.Narrow(2, start, n).Contiguous().Data()
				for i, g := range out.Data() {
					require.InDelta(t, want[i], g, 1e-6, "scale of side %d, element %d", s, i)
				}
				start += n
			}
		})
	}
}

// TestAttentionNoKeys runs attention against zero keys (storages of no
// elements): every query outputs zeros with lse -Inf, and dQ is zero.
func TestAttentionNoKeys(t *testing.T) {
	e := newNNEnv(t)
	const B, H, Lq, D = 1, 2, 5, 8
	nh := B * H
	q := e.input(e.normal(nh*Lq*D, 1))
	out, lse := e.output(nh*Lq*D), e.output(nh*Lq)
	gout := e.input(e.normal(nh*Lq*D, 1))
	dq := e.output(nh * Lq * D)
	for _, side := range []struct {
		b                     tensor.Backend
		q, out, lse, gout, dq tensor.Span
	}{{e.vk, q.vk, out.vk, lse.vk, gout.vk, dq.vk}, {e.cpu, q.cpu, out.cpu, lse.cpu, gout.cpu, dq.cpu}} {
		empty := tensor.Span{Buf: side.b.Alloc(0)}
		a := tensor.AttentionArgs{B: B, H: H, Lq: Lq, Lk: 0, D: D, Scale: 0.5, Q: side.q, K: empty, V: empty, Out: side.out, Lse: side.lse}
		side.b.Attention(a)
		side.b.AttentionBackward(a, tensor.AttentionGrads{GradOut: side.gout, GradQ: side.dq, GradK: empty, GradV: empty})
	}
	e.exact(t, "out", out)
	e.exact(t, "lse", lse)
	e.exact(t, "dq", dq)
	vk, _ := e.read(t, lse)
	for _, v := range vk {
		if !math.IsInf(float64(v), -1) {
			t.Fatalf("lse %v, want -Inf", v)
		}
	}
}

func BenchmarkAttention(b *testing.B) {
	const B, H, L, D = 1, 4, 256, 64
	benchBackends(b, func(b *testing.B, be tensor.Backend) {
		n := B * H * L * D
		a := tensor.AttentionArgs{B: B, H: H, Lq: L, Lk: L, D: D, Scale: 0.125,
			Q: benchInput(be, n), K: benchInput(be, n), V: benchInput(be, n), Out: benchInput(be, n), Lse: benchInput(be, B*H*L)}
		g := tensor.AttentionGrads{GradOut: benchInput(be, n), GradQ: benchInput(be, n), GradK: benchInput(be, n), GradV: benchInput(be, n)}
		for b.Loop() {
			be.Attention(a)
			be.AttentionBackward(a, g)
			_ = be.Sync()
		}
	})
}
