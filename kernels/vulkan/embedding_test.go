package vulkan

import (
	"fmt"
	"testing"
)

func TestGatherScatterAdd(t *testing.T) {
	e := newNNEnv(t)
	for _, c := range [][3]int{{1, 1, 1}, {13, 7, 33}, {5, 33, 13}, {3, 300, 7}, {40, 5, 600}, {50, 3, 5000}} {
		v, dim, n := c[0], c[1], c[2]
		t.Run(fmt.Sprintf("V=%d/dim=%d/n=%d", v, dim, n), func(t *testing.T) {
			table := e.input(e.normal(v*dim, 1))
			id := make([]float32, n)
			for i := range id {
				id[i] = float32(e.rng.IntN(v)) // duplicates whenever n > V
			}
			ids := e.input(id)
			dst := e.output(n * dim)
			e.vk.Gather(dst.vk, table.vk, ids.vk, n, v, dim)
			e.cpu.Gather(dst.cpu, table.cpu, ids.cpu, n, v, dim)
			e.exact(t, "gather", dst)

			// accumulate into a non-zero destination; the order of the
			// additions is the CPU's, so the sums agree bit for bit
			src := e.input(e.normal(n*dim, 1))
			acc := e.input(e.normal(v*dim, 1))
			e.vk.ScatterAdd(acc.vk, src.vk, ids.vk, n, v, dim)
			e.cpu.ScatterAdd(acc.cpu, src.cpu, ids.cpu, n, v, dim)
			e.exact(t, "scatter-add", acc)
		})
	}
}
