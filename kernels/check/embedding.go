package check

import (
	"fmt"

	"sargo/tensor"
)

// Embedding cases: Gather of table rows and its backward ScatterAdd, with
// repeated ids (which ScatterAdd must sum deterministically).

func embeddingCases() []testCase {
	var cs []testCase
	for _, s := range [][3]int{{1, 1, 1}, {13, 7, 31}, {5, 65, 33}, {3, 33, 200}, {7, 3, 2100}} {
		v, dim, n := s[0], s[1], s[2]
		cs = append(cs,
			testCase{fmt.Sprintf("gather/v=%d,dim=%d,n=%d", v, dim, n), func(c *ctx) { gatherCase(c, v, dim, n) }},
			testCase{fmt.Sprintf("scatter_add/v=%d,dim=%d,n=%d", v, dim, n), func(c *ctx) { scatterAddCase(c, v, dim, n) }},
		)
	}
	return cs
}

// embeddingIDs is a deterministic id sequence over [0, v) with repeats.
func embeddingIDs(v, n int) []float32 {
	ids := make([]float32, n)
	for i := range ids {
		ids[i] = float32((i*5 + i/3) % v)
	}
	return ids
}

func gatherCase(c *ctx, v, dim, n int) {
	table := c.randn(51, v, dim)
	ids := embeddingIDs(v, n)
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		return []*tensor.Tensor{tensor.Gather(in[0], in[1])}
	}, table, c.values(ids, n))
	c.equal("rows", got[0], want[0])
	tab := c.read64(table.ref)
	ref := make([]float64, 0, n*dim)
	for _, id := range ids {
		ref = append(ref, tab[int(id)*dim:(int(id)+1)*dim]...)
	}
	c.near64("rows/vs_table", got[0], ref, 0)
}

func scatterAddCase(c *ctx, v, dim, n int) {
	src := c.randn(52, n, dim)
	ids := embeddingIDs(v, n)
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		return []*tensor.Tensor{tensor.ScatterAdd(in[0], in[1], v)}
	}, src, c.values(ids, n))
	c.near("table", got[0], want[0], tolFP32)
	s := c.read64(src.ref)
	ref := make([]float64, v*dim)
	for i, id := range ids {
		for j := range dim {
			ref[int(id)*dim+j] += s[i*dim+j]
		}
	}
	c.near64("table/vs_float64", got[0], ref, tolF64)
	again := tensor.ScatterAdd(src.dev, c.input(tensor.FromSlice(c.ref, ids, n)).dev, v)
	c.equal("table/repeat_is_identical", again, got[0])
}
