package check

import (
	"fmt"

	"sargo/tensor"
)

// Row sums of op(A) computed by a product's launch (tensor.MatMulRowSums,
// MatMulArgs.RowSums): Linear's weight and bias gradients together. Both
// transposes of A, a new product and one added into C, sums written and
// added, a K long enough for a split-K product, tiles that the output's
// rows do not fill, an empty K, and special values in A. The product must
// equal MatMul's (MatMulAddInto's), and the sums Sum's over op(A)'s
// columns, on the CPU exactly (the product added into C within rounding).

func matmulRowSumsCases() []testCase {
	shapes := []struct{ m, k, n int }{
		{33, 17, 65},   // ragged tiles
		{64, 2100, 48}, // a long K: split
		{5, 0, 7},      // an empty K: zero sums
		{130, 30, 1},   // one column tile, rows over three tiles
	}
	var cs []testCase
	for _, s := range shapes {
		for _, ta := range []bool{true, false} {
			for _, acc := range []bool{false, true} {
				name := fmt.Sprintf("rowsums,m=%d,k=%d,n=%d,ta=%v,add=%v", s.m, s.k, s.n, ta, acc)
				cs = append(cs, testCase{name, func(c *ctx) { matmulRowSumsCase(c, s.m, s.k, s.n, ta, acc) }})
			}
		}
	}
	return append(cs, testCase{"rowsums,special", matmulRowSumsSpecialCase})
}

// opShape is the stored shape of an operand whose op is rows x cols.
func opShape(rows, cols int, trans bool) []int {
	if trans {
		return []int{cols, rows}
	}
	return []int{rows, cols}
}

// rowSumsAxis is the axis of the stored A that op(A)'s rows sum over.
func rowSumsAxis(trans bool) int {
	if trans {
		return 0
	}
	return 1
}

// matmulRowSumsCase runs op(A)·B (or C + op(A)·B when acc) with the row
// sums of op(A) (added to held values when acc).
func matmulRowSumsCase(c *ctx, m, k, n int, ta, acc bool) {
	a, b := c.randn(101, opShape(m, k, ta)...), c.randn(102, k, n)
	c0, s0 := c.randn(103, m, n), c.randn(104, m)
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		var cc *tensor.Tensor
		sums := tensor.Empty(in[0].Backend(), m)
		if acc {
			cc, sums = in[2].Clone(), in[3].Clone()
		}
		p := tensor.MatMulRowSums(cc, in[0], in[1], ta, false, sums, acc)
		return []*tensor.Tensor{p, sums}
	}, a, b, c0, s0)
	c.near("product", got[0], want[0], tolFP32)
	c.near("sums", got[1], want[1], tolFP32)
	prod := tensor.MatMul(a.ref, b.ref, ta, false)
	sums := tensor.Sum(a.ref, false, rowSumsAxis(ta))
	if acc {
		prod, sums = tensor.Add(c0.ref, prod), tensor.Add(s0.ref, sums)
	}
	if acc { // the GEMM adds into C as it goes: not the rounding of an add after it
		c.near("product/vs_matmul", want[0], prod, tolFP32)
	} else {
		c.equal("product/vs_matmul", want[0], prod)
	}
	c.equal("sums/vs_sum", want[1], sums)
}

// matmulRowSumsSpecialCase sums rows of A holding NaN, ±Inf, subnormals
// and near-maximal values (op(A) = Aᵀ, as Linear's gradient has it).
func matmulRowSumsSpecialCase(c *ctx) {
	for _, n := range []int{3, 300} {
		rows := specialRows(n)
		a := c.values(flat(rows), len(rows), n) // A is K x M: op(A)'s rows are its columns
		b := c.randn(105, len(rows), 5)
		got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
			sums := tensor.Empty(in[0].Backend(), n)
			p := tensor.MatMulRowSums(nil, in[0], in[1], true, false, sums, false)
			return []*tensor.Tensor{p, sums}
		}, a, b)
		c.near(fmt.Sprintf("n=%d/product", n), got[0], want[0], tolFP32)
		c.near(fmt.Sprintf("n=%d/sums", n), got[1], want[1], tolFP32)
		if nan := c.nanAt(got[1]); !nan[0] || !nan[n-1] {
			c.t.Errorf("n=%d: the sum of a column holding NaN is not NaN", n)
		}
	}
}
