package vulkan

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"sargo/tensor"
)

func TestRandom(t *testing.T) {
	e := newNNEnv(t)
	// offsets straddling a 2^32 boundary exercise the carry into the
	// counter's high word
	for _, c := range []struct{ seed, offset uint64 }{{0, 0}, {42, 7}, {0xDEADBEEFCAFEF00D, 1<<32 - 300}, {1 << 40, 5<<32 + 11}} {
		t.Run(fmt.Sprintf("seed=%#x/offset=%#x", c.seed, c.offset), func(t *testing.T) {
			const n = 1000
			u, z := e.output(n), e.output(n)
			e.vk.RandUniform(u.vk, n, c.seed, c.offset)
			e.vk.RandNormal(z.vk, n, c.seed, c.offset)
			uv, _ := e.read(t, u)
			zv, _ := e.read(t, z)
			for i := range n {
				e := c.offset + uint64(i)
				require.Equal(t, tensor.PhiloxUniform(c.seed, e), uv[i], "uniform %d", i)
				// float32 Box-Muller against the float64 reference: a few
				// float32 ulps, so the bound is relative
				want := tensor.PhiloxNormal(c.seed, e)
				require.InDelta(t, want, zv[i], 1e-6*math.Max(1, math.Abs(float64(want))), "normal %d", i)
			}
		})
	}
}

func TestTopK(t *testing.T) {
	e := newNNEnv(t)
	for _, c := range [][3]int{{1, 1, 1}, {7, 13, 1}, {7, 13, 5}, {3, 33, 33}, {13, 33, 7}, {2, 700, 10}} {
		rows, n, k := c[0], c[1], c[2]
		t.Run(fmt.Sprintf("%dx%d/k=%d", rows, n, k), func(t *testing.T) {
			x := e.normal(rows*n, 2)
			for i := range x {
				if i%3 == 0 {
					x[i] = float32(math.Round(float64(x[i]))) // ties
				}
			}
			src := e.input(x)
			vals, idx := e.output(rows*k), e.output(rows*k)
			e.vk.TopK(vals.vk, idx.vk, src.vk, rows, n, k)
			e.cpu.TopK(vals.cpu, idx.cpu, src.cpu, rows, n, k)
			e.exact(t, "vals", vals)
			e.exact(t, "idx", idx)
		})
	}
}

func TestSample(t *testing.T) {
	e := newNNEnv(t)
	cases := []tensor.SampleArgs{
		{Rows: 64, N: 33},
		{Rows: 64, N: 33, Temperature: 0.7},
		{Rows: 64, N: 33, TopK: 5},
		{Rows: 64, N: 33, TopP: 0.9},
		{Rows: 64, N: 13, TopK: 7, TopP: 0.5, Temperature: 1.3},
		{Rows: 7, N: 1},
		{Rows: 7, N: 500, TopK: 50, TopP: 0.95, Temperature: 0.9},
		{Rows: 33, N: 7, TopK: 1},
	}
	for i, a := range cases {
		a.Seed, a.Offset = 1234+uint64(i), 1<<32-20
		t.Run(fmt.Sprintf("%+v", a), func(t *testing.T) {
			x := e.normal(a.Rows*a.N, 2)
			for j := range x {
				switch {
				case j%4 == 0:
					x[j] = float32(math.Round(float64(x[j]))) // ties
				case j%7 == 3:
					x[j] = float32(math.Inf(-1)) // masked
				}
			}
			logits := e.input(x)
			dst := e.output(a.Rows)
			e.vk.Sample(a, dst.vk, logits.vk)
			e.cpu.Sample(a, dst.cpu, logits.cpu)
			e.exact(t, "index", dst)
		})
	}
}
