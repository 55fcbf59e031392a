package check

import (
	"fmt"
	"math"

	"sargo/tensor"
)

// Layer-norm and group-norm cases, forward and backward, with and without
// the affine parameters, each also checked against float64 on the host.

// normEps is the epsilon of every norm case.
const normEps = 1e-5

func normCases() []testCase {
	var cs []testCase
	for _, s := range [][2]int{{1, 1}, {7, 13}, {3, 300}, {600, 32}} {
		cs = append(cs, testCase{fmt.Sprintf("l2/rows=%d,n=%d", s[0], s[1]), func(c *ctx) { l2NormCase(c, c.randn(130, s[0], s[1])) }})
	}
	cs = append(cs,
		testCase{"l2/permuted,2x5x3x8", func(c *ctx) {
			l2NormCase(c, c.view(c.randn(131, 2, 3, 5, 8), func(x *tensor.Tensor) *tensor.Tensor { return x.Permute(0, 2, 1, 3) }))
		}},
		testCase{"l2/qkv_piece,2x2x7x8", func(c *ctx) { // rows over three strided axes
			l2NormCase(c, c.view(c.randn(132, 2, 7, 3, 2, 8), func(x *tensor.Tensor) *tensor.Tensor {
				return x.Permute(2, 0, 3, 1, 4).Narrow(0, 1, 1).Squeeze(0)
			}))
		}},
		testCase{"l2/four_strided_axes,3x2x3x2x4", func(c *ctx) { // copied first
			l2NormCase(c, c.view(c.randn(133, 2, 3, 2, 3, 4), func(x *tensor.Tensor) *tensor.Tensor { return x.Permute(1, 0, 3, 2, 4) }))
		}},
		testCase{"l2/merged_axes,4x3x6", func(c *ctx) { // two outer axes merge
			l2NormCase(c, c.view(c.randn(134, 4, 3, 9), func(x *tensor.Tensor) *tensor.Tensor { return x.Narrow(2, 2, 6) }))
		}},
		testCase{"l2/zero_and_tiny_rows", func(c *ctx) {
			x := []float32{0, 0, 0, 1e-7, -1e-7, 0, 3, 4, 0, 1e-13, 0, 0}
			l2NormCase(c, c.values(x, 4, 3))
		}},
	)
	affines := []struct {
		name string
		w, b bool
	}{{"plain", false, false}, {"affine", true, true}, {"weight_only", true, false}}
	for _, s := range [][2]int{{1, 1}, {7, 13}, {3, 65}, {2, 1031}, {1500, 40}} {
		for _, af := range affines {
			name := fmt.Sprintf("layer/rows=%d,n=%d,%s", s[0], s[1], af.name)
			cs = append(cs, testCase{name, func(c *ctx) { normCase(c, []int{s[0], s[1]}, 0, af.w, af.b) }})
		}
	}
	groups := []struct {
		shape  []int
		groups int
	}{
		{[]int{2, 6, 5, 7}, 3},
		{[]int{1, 4, 3, 3}, 4},
		{[]int{2, 8, 1, 1}, 2},
		{[]int{1, 6, 13}, 1},
	}
	for _, g := range groups {
		for _, af := range affines[:2] {
			name := fmt.Sprintf("group/shape=%s,groups=%d,%s", dims(g.shape), g.groups, af.name)
			cs = append(cs, testCase{name, func(c *ctx) { normCase(c, g.shape, g.groups, af.w, af.b) }})
		}
	}
	cs = append(cs, testCase{"layer/accumulate_dw_db", normAccumulateCase})
	return cs
}

// normLayout describes a norm on the host: rows of length n, each element
// scaled by the affine parameter of channel ch(row, i).
type normLayout struct {
	rows, n int
	ch      func(row, i int) int
}

func layoutOf(shape []int, groups int) normLayout {
	if groups == 0 {
		n := shape[len(shape)-1]
		rows := 1
		for _, d := range shape[:len(shape)-1] {
			rows *= d
		}
		return normLayout{rows, n, func(_, i int) int { return i }}
	}
	hw := 1
	for _, d := range shape[2:] {
		hw *= d
	}
	cpg := shape[1] / groups
	return normLayout{shape[0] * groups, cpg * hw, func(row, i int) int { return (row%groups)*cpg + i/hw }}
}

// norm64 is the float64 forward and backward of a norm: y, mean, rstd, dx,
// dw and db (w and b may be nil).
func norm64(l normLayout, x, w, b, gy []float64, nch int) (y, mean, rstd, dx, dw, db []float64) {
	y, dx = make([]float64, len(x)), make([]float64, len(x))
	mean, rstd = make([]float64, l.rows), make([]float64, l.rows)
	dw, db = make([]float64, nch), make([]float64, nch)
	for r := range l.rows {
		row := x[r*l.n : (r+1)*l.n]
		var m, v float64
		for _, e := range row {
			m += e
		}
		m /= float64(l.n)
		for _, e := range row {
			v += (e - m) * (e - m)
		}
		v /= float64(l.n)
		rs := 1 / math.Sqrt(v+normEps)
		mean[r], rstd[r] = m, rs
		var mg, mgx float64
		for i, e := range row {
			k, ch := r*l.n+i, l.ch(r, i)
			xh := (e - m) * rs
			wv, bv := 1.0, 0.0
			if w != nil {
				wv = w[ch]
			}
			if b != nil {
				bv = b[ch]
			}
			y[k] = xh*wv + bv
			g := gy[k] * wv
			mg += g
			mgx += g * xh
			dw[ch] += gy[k] * xh
			db[ch] += gy[k]
		}
		mg /= float64(l.n)
		mgx /= float64(l.n)
		for i, e := range row {
			k := r*l.n + i
			wv := 1.0
			if w != nil {
				wv = w[l.ch(r, i)]
			}
			dx[k] = rs * (gy[k]*wv - mg - (e-m)*rs*mgx)
		}
	}
	return
}

// normCase runs LayerNorm (groups 0) or GroupNorm and NormBackward on
// N(0.5, 2²) inputs.
func normCase(c *ctx, shape []int, groups int, hasW, hasB bool) {
	x := c.input(tensor.Affine(tensor.Randn(c.ref, 31, 0, shape...), 2, 0.5))
	gy := c.randn(32, shape...)
	nch := shape[len(shape)-1]
	if groups > 0 {
		nch = shape[1]
	}
	in := []pair{x, gy}
	if hasW {
		in = append(in, c.input(tensor.AddScalar(tensor.Randn(c.ref, 33, 0, nch), 1)))
	}
	if hasB {
		in = append(in, c.randn(34, nch))
	}
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		var w, b *tensor.Tensor
		if hasW {
			w = in[2]
		}
		if hasB {
			b = in[len(in)-1]
		}
		var y, mean, rstd *tensor.Tensor
		if groups == 0 {
			y, mean, rstd = tensor.LayerNorm(in[0], w, b, normEps)
		} else {
			y, mean, rstd = tensor.GroupNorm(in[0], w, b, groups, normEps)
		}
		dx, dw, db := tensor.NormBackward(in[0], w, b, mean, rstd, in[1], groups, normEps)
		return []*tensor.Tensor{y, mean, rstd, dx, dw, db}
	}, in...)
	names := []string{"y", "mean", "rstd", "dx", "dw", "db"}
	for i, name := range names {
		if (want[i] == nil) != (got[i] == nil) {
			c.t.Errorf("%s: present=%v, want present=%v", name, got[i] != nil, want[i] != nil)
			continue
		}
		if want[i] != nil {
			c.near(name, got[i], want[i], tolFP32)
		}
	}

	var w, b []float64
	if hasW {
		w = c.read64(in[2].ref)
	}
	if hasB {
		b = c.read64(in[len(in)-1].ref)
	}
	ref := make([][]float64, 6)
	ref[0], ref[1], ref[2], ref[3], ref[4], ref[5] = norm64(layoutOf(shape, groups), c.read64(x.ref), w, b, c.read64(gy.ref), nch)
	for i, name := range names {
		if got[i] != nil {
			c.near64(name+"/vs_float64", got[i], ref[i], tolF64)
		}
	}
}

// normAccumulateCase calls the kernel directly with dw and db already
// holding values: the backward must add to them, not overwrite.
func normAccumulateCase(c *ctx) {
	const rows, n = 7, 13
	x, gy := c.randn(41, rows, n), c.randn(42, rows, n)
	w, b := c.randn(43, n), c.randn(44, n)
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		_, mean, rstd := tensor.LayerNorm(in[0], in[2], in[3], normEps)
		be := in[0].Backend()
		dx, dw, db := tensor.Empty(be, rows, n), tensor.Ones(be, n), tensor.Full(be, -2, n)
		a := tensor.NormArgs{Rows: rows, N: n, Eps: normEps, HasWeight: true, HasBias: true}
		be.NormBackward(a, dx.Span(), dw.Span(), db.Span(), in[0].Span(), mean.Span(), rstd.Span(), in[2].Span(), in[1].Span())
		return []*tensor.Tensor{dx, dw, db}
	}, x, gy, w, b)
	c.near("dx", got[0], want[0], tolFP32)
	c.near("dw", got[1], want[1], tolFP32)
	c.near("db", got[2], want[2], tolFP32)
	_, _, _, _, dw, db := norm64(layoutOf([]int{rows, n}, 0), c.read64(x.ref), c.read64(w.ref), c.read64(b.ref), c.read64(gy.ref), n)
	for i := range dw {
		dw[i]++
		db[i] -= 2
	}
	c.near64("dw/vs_float64", got[1], dw, tolF64)
	c.near64("db/vs_float64", got[2], db, tolF64)
}

// l2Eps is the eps of the L2-normalisation cases (F.normalize's default).
const l2Eps = 1e-12

// l2NormCase checks L2NormalizeLast and its backward on x against the CPU
// backend and against float64 on the host (rows below eps included: the
// divisor is then eps and the projection term vanishes).
func l2NormCase(c *ctx, x pair) {
	shape := x.ref.Shape()
	gy := c.randn(132, shape...)
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		y, norm := tensor.L2NormalizeLast(in[0], l2Eps)
		return []*tensor.Tensor{y, norm, tensor.L2NormalizeLastBackward(y, norm, in[1], l2Eps)}
	}, x, gy)
	c.near("y", got[0], want[0], tolFP32)
	c.near("norm", got[1], want[1], tolFP32)
	c.near("dx", got[2], want[2], tolFP32)

	n := shape[len(shape)-1]
	xs, gs := c.read64(x.ref.Contiguous()), c.read64(gy.ref)
	ys, ns, dxs := make([]float64, len(xs)), make([]float64, len(xs)/n), make([]float64, len(xs))
	for r := range ns {
		xr, gr := xs[r*n:(r+1)*n], gs[r*n:(r+1)*n]
		var sum, dot float64
		for _, v := range xr {
			sum += v * v
		}
		ns[r] = math.Sqrt(sum)
		d := math.Max(ns[r], l2Eps)
		for i, v := range xr {
			ys[r*n+i] = v / d
			dot += gr[i] * v / d
		}
		if ns[r] <= l2Eps {
			dot = 0
		}
		for i := range xr {
			dxs[r*n+i] = (gr[i] - ys[r*n+i]*dot) / d
		}
	}
	c.near64("y/vs_float64", got[0], ys, tolF64)
	c.near64("norm/vs_float64", got[1], ns, tolF64)
	c.near64("dx/vs_float64", got[2], dxs, tolF64)
}
