package check

import (
	"fmt"

	"sargo/tensor"
)

// Multi-part sums (Backend.SumInto through tensor.SumToEach and
// SumToAddInto): several terms of one shape summed back to a broadcast
// shape in one launch, products included, written or added into a
// destination that already holds values, over the geometries of Reduce's
// passes (short axes, rows, columns, long axes split into chunks, an
// empty axis), non-contiguous operands, axes that are not one run (the
// unfused fallback) and parts whose storages exceed one dispatch's
// bindings. Each result is compared with the CPU's and, on the reference,
// with the unfused ops (Mul, SumTo, Add), which it must equal exactly.

// sumShapes are the (input, summed-to) shapes of the multi-part cases.
var sumShapes = []struct{ from, to []int }{
	{[]int{33, 7}, []int{7}},               // leading axis, short: serial
	{[]int{3, 13, 5}, []int{3, 1, 5}},      // middle axis, short
	{[]int{7, 65}, []int{7, 1}},            // rows
	{[]int{2, 4099}, []int{2, 1}},          // a long row, split
	{[]int{2, 1031, 3}, []int{2, 1, 3}},    // long middle axis, few columns: split columns
	{[]int{3001, 70}, []int{70}},           // a bias gradient: columns over ragged tiles, split
	{[]int{2, 0, 3}, []int{2, 1, 3}},       // an empty axis: sums of nothing
	{[]int{3, 13, 5}, []int{1, 13, 1}},     // two runs: the unfused fallback
	{[]int{2, 3, 4, 5}, []int{1, 3, 4, 1}}, // two runs of a rank-4 tensor
}

func sumMultiCases() []testCase {
	var cs []testCase
	for _, s := range sumShapes {
		name := fmt.Sprintf("%s_to_%s", dims(s.from), dims(s.to))
		cs = append(cs,
			testCase{"each/" + name, func(c *ctx) { sumEachCase(c, s.from, s.to) }},
			testCase{"add_into/" + name, func(c *ctx) { sumAddIntoCase(c, s.from, s.to) }})
	}
	return append(cs,
		testCase{"each/transposed", sumTransposedCase},
		testCase{"each/broadcast_factor", sumBroadcastFactorCase},
		testCase{"each/12_storages", sumManyStoragesCase},
		testCase{"special", sumSpecialCase})
}

// sumUnfused is SumTo(t, shape) by the separate ops.
func sumUnfused(t tensor.SumTerm, shape []int) *tensor.Tensor {
	if t.M == nil {
		return tensor.SumTo(t.G, shape)
	}
	return tensor.SumTo(tensor.Mul(t.G, t.M), shape)
}

// sumEachCase sums four terms (two plain, two products, the same tensor in
// several) of shape from to shape to in one SumToEach.
func sumEachCase(c *ctx, from, to []int) {
	x, y, z := c.randn(81, from...), c.randn(82, from...), c.randn(83, from...)
	terms := func(in []*tensor.Tensor) []tensor.SumTerm {
		return []tensor.SumTerm{{G: in[0]}, {G: in[0], M: in[1]}, {G: in[2]}, {G: in[2], M: in[0]}}
	}
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		return tensor.SumToEach(to, terms(in)...)
	}, x, y, z)
	for i := range got {
		c.near(fmt.Sprintf("term%d", i), got[i], want[i], tolFP32)
	}
	for i, t := range terms([]*tensor.Tensor{x.ref, y.ref, z.ref}) {
		c.equal(fmt.Sprintf("term%d/vs_unfused", i), want[i], sumUnfused(t, to))
	}
}

// sumAddIntoCase adds a plain and a product term into destinations that
// hold values.
func sumAddIntoCase(c *ctx, from, to []int) {
	x, y := c.randn(84, from...), c.randn(85, from...)
	d0, d1 := c.randn(86, to...), c.randn(87, to...)
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		a, b := in[2].Clone(), in[3].Clone()
		tensor.SumToAddInto(a, tensor.SumTerm{G: in[0]})
		tensor.SumToAddInto(b, tensor.SumTerm{G: in[0], M: in[1]})
		return []*tensor.Tensor{a, b}
	}, x, y, d0, d1)
	c.near("plain", got[0], want[0], tolFP32)
	c.near("product", got[1], want[1], tolFP32)
	for i, t := range []tensor.SumTerm{{G: x.ref}, {G: x.ref, M: y.ref}} {
		unfused := tensor.Add([]pair{d0, d1}[i].ref, sumUnfused(t, to))
		c.equal(fmt.Sprintf("term%d/vs_unfused", i), want[i], unfused)
	}
}

// sumTransposedCase sums non-contiguous (transposed) terms, which are
// made contiguous first.
func sumTransposedCase(c *ctx) {
	x := c.view(c.randn(88, 70, 40), func(t *tensor.Tensor) *tensor.Tensor { return t.Transpose(0, 1) })
	y := c.view(c.randn(89, 70, 40), func(t *tensor.Tensor) *tensor.Tensor { return t.Transpose(0, 1) })
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		out := tensor.SumToEach([]int{70}, tensor.SumTerm{G: in[0]}, tensor.SumTerm{G: in[0], M: in[1]})
		d := tensor.Zeros(in[0].Backend(), 40, 1)
		tensor.SumToAddInto(d, tensor.SumTerm{G: in[1], M: in[0]})
		return append(out, d)
	}, x, y)
	for i := range got {
		c.near(fmt.Sprintf("out%d", i), got[i], want[i], tolFP32)
	}
}

// sumManyStoragesCase sums four products of eight distinct tensors into
// four new ones: twelve storages, more than one dispatch binds, so the
// parts go to two dispatches.
func sumManyStoragesCase(c *ctx) {
	var in []pair
	for i := range 8 {
		in = append(in, c.randn(90+uint64(i), 300, 33))
	}
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		var ts []tensor.SumTerm
		for i := 0; i < 8; i += 2 {
			ts = append(ts, tensor.SumTerm{G: in[i], M: in[i+1]})
		}
		return tensor.SumToEach([]int{33}, ts...)
	}, in...)
	for i := range got {
		c.near(fmt.Sprintf("term%d", i), got[i], want[i], tolFP32)
	}
}

// sumSpecialCase sums special rows (NaN, ±Inf, subnormals, near-maximal
// values) and their products with other special rows along each axis, by
// rows of 3 and of 300, written and added into destinations holding Inf
// and NaN.
func sumSpecialCase(c *ctx) {
	for _, n := range []int{3, 300} {
		rows := specialRows(n)
		r := len(rows)
		x := c.values(flat(rows), r, n)
		rev := make([][]float32, r) // the rows in reverse order: other specials meet
		for i := range rows {
			rev[i] = rows[r-1-i]
		}
		y := c.values(flat(rev), r, n)
		for _, axis := range []int{1, 0} {
			to := []int{r, 1}
			if axis == 0 {
				to = []int{1, n}
			}
			dst := make([]float32, to[0]*to[1])
			for i := range dst {
				dst[i] = specialValues[i%len(specialValues)]
			}
			d := c.values(dst, to...)
			got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
				out := tensor.SumToEach(to, tensor.SumTerm{G: in[0]}, tensor.SumTerm{G: in[0], M: in[1]})
				a := in[2].Clone()
				tensor.SumToAddInto(a, tensor.SumTerm{G: in[1], M: in[0]})
				return append(out, a)
			}, x, y, d)
			for i := range got {
				c.near(fmt.Sprintf("n=%d,axis=%d/out%d", n, axis, i), got[i], want[i], tolFP32)
			}
			if axis == 1 {
				nan := c.nanAt(got[0])
				if !nan[0] || !nan[1] {
					c.t.Errorf("n=%d: the sum of a row holding NaN is not NaN", n)
				}
			}
		}
	}
}

// sumBroadcastFactorCase mixes terms summed in one launch with products
// whose factor is broadcast (formed by a Mul first), that one last and in
// the middle.
func sumBroadcastFactorCase(c *ctx) {
	x, z, m := c.randn(98, 33, 7), c.randn(99, 33, 7), c.randn(100, 1, 7)
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		a := tensor.SumToEach([]int{7}, tensor.SumTerm{G: in[0]}, tensor.SumTerm{G: in[0], M: in[2]})
		b := tensor.SumToEach([]int{7}, tensor.SumTerm{G: in[0], M: in[2]}, tensor.SumTerm{G: in[1], M: in[0]})
		return append(a, b...)
	}, x, z, m)
	for i := range got {
		c.near(fmt.Sprintf("out%d", i), got[i], want[i], tolFP32)
	}
	c.equal("out0/vs_unfused", want[0], tensor.SumTo(x.ref, []int{7}))
	c.equal("out3/vs_unfused", want[3], tensor.SumTo(tensor.Mul(z.ref, x.ref), []int{7}))
}
