package vulkan

import (
	"fmt"
	"math"
	"testing"

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

func TestAttention(t *testing.T) {
	e := newNNEnv(t)
	shapes := [][2]int{{1, 1}, {7, 13}, {13, 13}, {1, 33}, {33, 7}, {40, 70}}
	for _, d := range []int{8, 16, 33, 64, 128} {
		for _, sh := range shapes {
			for _, kind := range []tensor.MaskKind{tensor.MaskNone, tensor.MaskAdditive, tensor.MaskScale} {
				if (d == 33 || d == 128) && sh[0] > 13 {
					continue // keep lavapipe time small
				}
				lq, lk := sh[0], sh[1]
				const B, H = 2, 3
				t.Run(fmt.Sprintf("D=%d/Lq=%d/Lk=%d/mask=%d", d, lq, lk, kind), func(t *testing.T) {
					nh := B * H
					q, k, v := e.input(e.normal(nh*lq*d, 1)), e.input(e.normal(nh*lk*d, 1)), e.input(e.normal(nh*lk*d, 1))
					mask, sq, sk := e.attnMaskInputs(kind, lq, lk)
					out, lse := e.output(nh*lq*d), e.output(nh*lq)
					args := func(vk bool) tensor.AttentionArgs {
						a := tensor.AttentionArgs{B: B, H: H, Lq: lq, Lk: lk, D: d, Scale: float32(1 / math.Sqrt(float64(d))), Mask: kind}
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
				})
			}
		}
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
