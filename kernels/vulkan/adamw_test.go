package vulkan

import (
	"fmt"
	"testing"

	"sargo/tensor"
)

func TestAdamW(t *testing.T) {
	e := newNNEnv(t)
	for _, n := range []int{1, 7, 1000} {
		for _, step := range []int{1, 7} {
			a := tensor.AdamWArgs{N: n, LR: 1e-3, Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, WeightDecay: 0.1, Step: step}
			t.Run(fmt.Sprintf("n=%d/step=%d", n, step), func(t *testing.T) {
				p, g := e.input(e.normal(n, 1)), e.input(e.normal(n, 1))
				m, v := e.input(e.normal(n, 0.1)), e.input(e.normal(n, 0.01))
				vv, _ := e.read(t, v)
				for i := range vv {
					vv[i] *= vv[i] // a second moment is non-negative
				}
				v = e.input(vv)
				e.vk.AdamW(a, p.vk, g.vk, m.vk, v.vk)
				e.cpu.AdamW(a, p.cpu, g.cpu, m.cpu, v.cpu)
				e.check(t, "param", p, nnTol)
				e.check(t, "m", m, nnTol)
				e.check(t, "v", v, nnTol)
			})
		}
	}
}
