package check

import (
	"fmt"
	"math"

	"sargo/tensor"
)

// Attention cases: the fused forward and backward with every mask kind,
// Lq different from Lk, and queries that see no key at all. Each is also
// checked against an explicit float64 softmax(scale·QKᵀ + mask)·V and its
// gradients.

// attnShape is the size of one attention case.
type attnShape struct{ b, h, lq, lk, d int }

func (s attnShape) String() string {
	return fmt.Sprintf("b=%d,h=%d,lq=%d,lk=%d,d=%d", s.b, s.h, s.lq, s.lk, s.d)
}

// scaleIDs lists the scale id of every token of a multi-scale sequence:
// scale k (0-based) of side sides[k] contributes sides[k]² tokens of id k.
func scaleIDs(sides ...int) []float32 {
	var ids []float32
	for k, s := range sides {
		for range s * s {
			ids = append(ids, float32(k))
		}
	}
	return ids
}

func attentionCases() []testCase {
	var cs []testCase
	// Kernels may tile queries and keys (by 32 on Vulkan) and the head dim:
	// lengths of 1, below, past and between whole tiles, head dims at and
	// between chunks, and many heads.
	for _, s := range []attnShape{{1, 1, 1, 1, 1}, {1, 2, 7, 7, 8}, {1, 2, 7, 13, 8}, {1, 1, 13, 7, 4}, {2, 2, 13, 13, 16},
		{1, 2, 33, 65, 32}, {1, 1, 45, 77, 64}, {1, 1, 40, 37, 128}, {1, 1, 64, 31, 96}, {8, 12, 9, 11, 32}} {
		cs = append(cs, testCase{"none/" + s.String(), func(c *ctx) { attentionCase(c, s, tensor.MaskNone, nil, nil) }})
	}
	// KV-cached sampling: the queries of one scale against every cached key
	for _, s := range []attnShape{{2, 2, 1, 50, 64}, {1, 2, 4, 14, 32}, {1, 1, 9, 70, 128}} {
		cs = append(cs, testCase{"cached/" + s.String(), func(c *ctx) { attentionCase(c, s, tensor.MaskNone, nil, nil) }})
	}
	for _, s := range []attnShape{{1, 2, 7, 13, 8}, {2, 1, 13, 13, 16}, {1, 1, 35, 66, 64}} {
		cs = append(cs, testCase{"additive/" + s.String(), func(c *ctx) { attentionCase(c, s, tensor.MaskAdditive, nil, nil) }})
	}
	all3, all4, all6 := scaleIDs(1, 2, 3), scaleIDs(1, 2, 3, 4), scaleIDs(1, 2, 3, 4, 5, 6)
	scaleCases := []struct {
		name   string
		b, h   int
		d      int
		sq, sk []float32
	}{
		{"self,scales=1,2,3", 1, 2, 8, all3, all3},
		{"self,scales=1,2,3,4", 2, 2, 16, all4, all4},
		{"last_scale_queries", 1, 2, 8, all3[5:], all3},
		{"queries_seeing_nothing", 1, 1, 4, []float32{0, 0, 1, 1, 2}, []float32{1, 1, 1, 2, 2, 2, 3}},
		{"self,scales=1..6", 1, 2, 64, all6, all6},
		{"self,scales=1..5", 1, 1, 128, all6[:55], all6[:55]},
		{"last_scale_queries,scales=1..6", 1, 2, 32, all6[55:], all6},
		{"many_heads,scales=1,2,3", 4, 16, 32, all3, all3},
	}
	for _, sc := range scaleCases {
		s := attnShape{sc.b, sc.h, len(sc.sq), len(sc.sk), sc.d}
		cs = append(cs, testCase{"scale/" + sc.name + "," + s.String(), func(c *ctx) {
			attentionCase(c, s, tensor.MaskScale, sc.sq, sc.sk)
		}})
	}
	return cs
}

// additiveMask is a [lq, lk] mask of N(0, 0.5²) values with -Inf at a
// regular pattern of positions, never a whole row.
func additiveMask(c *ctx, lq, lk int) []float32 {
	m := c.read(tensor.Scale(tensor.Randn(c.ref, 64, 0, lq, lk), 0.5))
	for i := range lq {
		for j := range lk {
			if (i*3+j)%4 == 0 && j != i%lk {
				m[i*lk+j] = float32(math.Inf(-1))
			}
		}
	}
	return m
}

// attention64 is the float64 forward and backward on the host: out, lse
// (-Inf for a query that sees nothing), dq, dk, dv.
func attention64(s attnShape, scale float64, q, k, v, gout []float64, visible func(i, j int) (bool, float64)) (out, lse, dq, dk, dv []float64) {
	out, dq = make([]float64, len(q)), make([]float64, len(q))
	dk, dv = make([]float64, len(k)), make([]float64, len(v))
	lse = make([]float64, s.b*s.h*s.lq)
	p := make([]float64, s.lk)
	for bh := range s.b * s.h {
		qo, ko := bh*s.lq*s.d, bh*s.lk*s.d
		for i := range s.lq {
			qi := q[qo+i*s.d : qo+(i+1)*s.d]
			m := math.Inf(-1)
			for j := range s.lk {
				p[j] = math.Inf(-1)
				if ok, add := visible(i, j); ok {
					p[j] = scale*dot(qi, k[ko+j*s.d:ko+(j+1)*s.d]) + add
				}
				m = math.Max(m, p[j])
			}
			lse[bh*s.lq+i] = m
			if math.IsInf(m, -1) {
				continue // no visible key: zero output and gradients
			}
			var z float64
			for j := range p {
				p[j] = math.Exp(p[j] - m)
				z += p[j]
			}
			lse[bh*s.lq+i] = m + math.Log(z)
			oi, gi := out[qo+i*s.d:qo+(i+1)*s.d], gout[qo+i*s.d:qo+(i+1)*s.d]
			for j := range p {
				p[j] /= z
				for t := range s.d {
					oi[t] += p[j] * v[ko+j*s.d+t]
				}
			}
			di := dot(gi, oi)
			for j := range p {
				if p[j] == 0 {
					continue
				}
				ds := p[j] * (dot(gi, v[ko+j*s.d:ko+(j+1)*s.d]) - di) * scale
				for t := range s.d {
					dv[ko+j*s.d+t] += p[j] * gi[t]
					dq[qo+i*s.d+t] += ds * k[ko+j*s.d+t]
					dk[ko+j*s.d+t] += ds * qi[t]
				}
			}
		}
	}
	return
}

// attentionCase runs Attention and AttentionBackward with the given mask.
func attentionCase(c *ctx, s attnShape, kind tensor.MaskKind, sq, sk []float32) {
	q, k, v := c.randn(61, s.b, s.h, s.lq, s.d), c.randn(62, s.b, s.h, s.lk, s.d), c.randn(63, s.b, s.h, s.lk, s.d)
	gout := c.randn(65, s.b, s.h, s.lq, s.d)
	scale := float32(1 / math.Sqrt(float64(s.d)))
	in := []pair{q, k, v, gout}
	var maskVals []float32
	switch kind {
	case tensor.MaskAdditive:
		maskVals = additiveMask(c, s.lq, s.lk)
		in = append(in, c.values(maskVals, s.lq, s.lk))
	case tensor.MaskScale:
		in = append(in, c.values(sq, s.lq), c.values(sk, s.lk))
	}
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		mask := tensor.AttentionMask{Kind: kind}
		switch kind {
		case tensor.MaskAdditive:
			mask.Values = in[4]
		case tensor.MaskScale:
			mask.ScaleQ, mask.ScaleK = in[4], in[5]
		}
		out, lse := tensor.Attention(in[0], in[1], in[2], scale, mask)
		dq, dk, dv := tensor.AttentionBackward(in[0], in[1], in[2], out, lse, in[3], scale, mask)
		return []*tensor.Tensor{out, lse, dq, dk, dv}
	}, in...)

	visible := func(i, j int) (bool, float64) {
		switch kind {
		case tensor.MaskAdditive:
			m := float64(maskVals[i*s.lk+j])
			return !math.IsInf(m, -1), m
		case tensor.MaskScale:
			return sk[j] <= sq[i], 0
		}
		return true, 0
	}
	out, lse, dq, dk, dv := attention64(s, float64(scale), c.read64(q.ref), c.read64(k.ref), c.read64(v.ref), c.read64(gout.ref), visible)
	// The log-sum-exp of a query that sees no key is not specified.
	seen := make([]bool, len(lse))
	for i, l := range lse {
		seen[i] = !math.IsInf(l, -1)
	}
	names := []string{"out", "lse", "dq", "dk", "dv"}
	refs := [][]float64{out, lse, dq, dk, dv}
	for i, name := range names {
		if name == "lse" {
			c.nearMasked(name, got[i], want[i], seen, tolFP32)
			g := c.read(got[i])
			for r, ok := range seen {
				if ok && !relClose(float64(g[r]), lse[r], math.Abs(lse[r])+1, 1e-5) {
					c.t.Errorf("lse/vs_float64: row %d is %v, want %v", r, g[r], lse[r])
					break
				}
			}
			continue
		}
		c.near(name, got[i], want[i], tolFP32)
		c.near64(name+"/vs_float64", got[i], refs[i], tolF64)
	}
}
