package check

import (
	"fmt"
	"math"
	"sort"

	"sargo/tensor"
)

// Random-stream and selection cases: the Philox uniform and normal streams
// (which every backend must reproduce), TopK and Sample.

// philoxTol is the largest difference allowed between two backends'
// random streams: the uniforms are exact, the normals pass through log,
// sqrt and cos, which GPUs evaluate to a few ulp.
const philoxTol = 1e-6

func randomCases() []testCase {
	var cs []testCase
	streams := []struct {
		n      int
		offset uint64
	}{{1, 0}, {33, 0}, {1031, 12345}, {65, 1<<32 - 7}}
	for _, s := range streams {
		cs = append(cs,
			testCase{fmt.Sprintf("rand/n=%d,offset=%d", s.n, s.offset), func(c *ctx) { streamCase(c, false, s.n, s.offset) }},
			testCase{fmt.Sprintf("randn/n=%d,offset=%d", s.n, s.offset), func(c *ctx) { streamCase(c, true, s.n, s.offset) }},
		)
	}
	for _, s := range [][3]int{{1, 1, 1}, {7, 13, 5}, {3, 65, 65}, {2, 1031, 7}} {
		cs = append(cs, testCase{fmt.Sprintf("topk/rows=%d,n=%d,k=%d", s[0], s[1], s[2]), func(c *ctx) { topKCase(c, s[0], s[1], s[2]) }})
	}
	samples := []tensor.SampleArgs{
		{Rows: 7, N: 13},
		{Rows: 7, N: 13, Temperature: 0.7},
		{Rows: 7, N: 13, TopK: 5},
		{Rows: 7, N: 13, TopP: 0.9},
		{Rows: 5, N: 65, TopK: 10, TopP: 0.8, Temperature: 1.3},
		{Rows: 3, N: 1031, TopK: 1},
		{Rows: 1, N: 1},
	}
	for _, a := range samples {
		name := fmt.Sprintf("sample/rows=%d,n=%d,topk=%d,topp=%v,temp=%v", a.Rows, a.N, a.TopK, a.TopP, a.Temperature)
		cs = append(cs, testCase{name, func(c *ctx) { sampleCase(c, a) }})
	}
	return cs
}

// streamCase draws n uniforms or normals directly on each backend and
// compares them with each other and with the host's Philox.
func streamCase(c *ctx, normal bool, n int, offset uint64) {
	const seed = 0x5A6A60
	draw := func(b tensor.Backend) *tensor.Tensor {
		if normal {
			return tensor.Randn(b, seed, offset, n)
		}
		return tensor.Rand(b, seed, offset, n)
	}
	want := draw(c.ref)
	c.poison([]*tensor.Tensor{want})
	got := draw(c.dev)
	c.maxAbsDiff("stream", got, want, philoxTol)
	host := make([]float32, n)
	for i := range host {
		if normal {
			host[i] = tensor.PhiloxNormal(seed, offset+uint64(i))
		} else {
			host[i] = tensor.PhiloxUniform(seed, offset+uint64(i))
		}
	}
	h := tensor.FromSlice(c.ref, host, n)
	c.maxAbsDiff("stream/vs_host", got, h, philoxTol)
}

// topKCase selects from quantised values, so ties must resolve to the
// lower index, and checks the order, the values at the indices and that
// nothing left out exceeds what was kept.
func topKCase(c *ctx, rows, n, k int) {
	x := quantised(c, 91, rows, n)
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		v, i := tensor.TopK(in[0], k)
		return []*tensor.Tensor{v, i}
	}, x)
	c.equal("values", got[0], want[0])
	c.equal("indices", got[1], want[1])
	xs, vs, is := c.read(x.ref), c.read(got[0]), c.read(got[1])
	for r := range rows {
		order := make([]int, n)
		for i := range order {
			order[i] = i
		}
		row := xs[r*n : (r+1)*n]
		sort.SliceStable(order, func(a, b int) bool { return row[order[a]] > row[order[b]] })
		for j := range k {
			if int(is[r*k+j]) != order[j] || vs[r*k+j] != row[order[j]] {
				c.t.Errorf("row %d, rank %d: got (%v at %v), want (%v at %d)", r, j, vs[r*k+j], is[r*k+j], row[order[j]], order[j])
				return
			}
		}
	}
}

// sampleCase draws from N(0, 2²) logits with one dominant row and checks
// the indices are exact across backends, in range, within the top-k, and
// that the dominant row picks its dominant logit.
func sampleCase(c *ctx, a tensor.SampleArgs) {
	lg := c.read(tensor.Scale(tensor.Randn(c.ref, 92, 0, a.Rows, a.N), 2))
	dominant := a.N / 2
	lg[dominant] = 60 // row 0
	logits := c.values(lg, a.Rows, a.N)
	for _, seed := range []uint64{1, 77} {
		got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
			return []*tensor.Tensor{tensor.Sample(in[0], a.TopK, a.TopP, a.Temperature, seed, 1000)}
		}, logits)
		c.equal(fmt.Sprintf("seed=%d/indices", seed), got[0], want[0])
		idx := c.read(got[0])
		if int(idx[0]) != dominant {
			c.t.Errorf("seed=%d: dominant row sampled %v, want %d", seed, idx[0], dominant)
		}
		for r, v := range idx {
			i := int(v)
			if float32(i) != v || i < 0 || i >= a.N {
				c.t.Errorf("seed=%d: row %d sampled %v, not an index below %d", seed, r, v, a.N)
				continue
			}
			if a.TopK > 0 {
				row := lg[r*a.N : (r+1)*a.N]
				above := 0
				for _, l := range row {
					if l > row[i] {
						above++
					}
				}
				if above >= a.TopK {
					c.t.Errorf("seed=%d: row %d sampled index %d with %d larger logits, top-k is %d", seed, r, i, above, a.TopK)
				}
			}
			if a.TopK == 1 && lg[r*a.N+i] != maxOf(lg[r*a.N:(r+1)*a.N]) {
				c.t.Errorf("seed=%d: row %d with top-k 1 sampled %d, not the maximum", seed, r, i)
			}
		}
	}
}

func maxOf(x []float32) float32 {
	m := float32(math.Inf(-1))
	for _, v := range x {
		m = max(m, v)
	}
	return m
}
