package vulkan

import (
	"fmt"
	"testing"

	"sargo/tensor"
)

func TestNorm(t *testing.T) {
	e := newNNEnv(t)
	cases := []tensor.NormArgs{
		{Rows: 1, N: 1},
		{Rows: 7, N: 13},
		{Rows: 13, N: 33},
		{Rows: 3, N: 700},
		{Batch: 1, C: 1, HW: 1, Groups: 1},
		{Batch: 2, C: 6, HW: 5, Groups: 3},
		{Batch: 3, C: 8, HW: 13, Groups: 2},
		{Batch: 2, C: 4, HW: 33, Groups: 4},
	}
	for _, c := range cases {
		for _, affine := range [][2]bool{{false, false}, {true, false}, {true, true}, {false, true}} {
			a := c
			a.Eps = 1e-5
			a.HasWeight, a.HasBias = affine[0], affine[1]
			rows, rowLen, params := a.Rows, a.N, a.N
			if a.Groups > 0 {
				rows, rowLen, params = a.Batch*a.Groups, a.C/a.Groups*a.HW, a.C
			}
			t.Run(fmt.Sprintf("%+v", a), func(t *testing.T) {
				x := e.input(e.normal(rows*rowLen, 2))
				var w, b pair
				if a.HasWeight {
					w = e.input(e.normal(params, 1))
				}
				if a.HasBias {
					b = e.input(e.normal(params, 1))
				}
				y, mean, rstd := e.output(rows*rowLen), e.output(rows), e.output(rows)
				e.vk.Norm(a, y.vk, mean.vk, rstd.vk, x.vk, w.vk, b.vk)
				e.cpu.Norm(a, y.cpu, mean.cpu, rstd.cpu, x.cpu, w.cpu, b.cpu)
				e.check(t, "y", y, nnTol)
				e.check(t, "mean", mean, nnTol)
				e.check(t, "rstd", rstd, nnTol)

				// backward from the CPU's statistics, accumulating into
				// non-zero parameter gradients
				_, m := e.read(t, mean)
				_, r := e.read(t, rstd)
				ms, rs := e.input(m), e.input(r)
				gy := e.input(e.normal(rows*rowLen, 1))
				dx := e.output(rows * rowLen)
				var dw, db pair
				if a.HasWeight {
					dw = e.input(e.normal(params, 1))
				}
				if a.HasBias {
					db = e.input(e.normal(params, 1))
				}
				e.vk.NormBackward(a, dx.vk, dw.vk, db.vk, x.vk, ms.vk, rs.vk, w.vk, gy.vk)
				e.cpu.NormBackward(a, dx.cpu, dw.cpu, db.cpu, x.cpu, ms.cpu, rs.cpu, w.cpu, gy.cpu)
				e.check(t, "dx", dx, nnTol)
				if a.HasWeight {
					e.check(t, "dw", dw, nnTol)
				}
				if a.HasBias {
					e.check(t, "db", db, nnTol)
				}
			})
		}
	}
}

// TestEmptyRows runs the row kernels on rows of no elements (storages of
// no elements): the per-row outputs still follow the CPU backend.
func TestEmptyRows(t *testing.T) {
	e := newNNEnv(t)
	const rows = 3
	loss, lse := e.output(rows), e.output(rows)
	mean, rstd := e.output(rows), e.output(rows)
	targets := e.input([]float32{-100, -100, -100}) // no class exists: every row is ignored
	a := tensor.NormArgs{Rows: rows, N: 0, Eps: 1e-5}
	for _, side := range []struct {
		b                              tensor.Backend
		loss, lse, mean, rstd, targets tensor.Span
	}{{e.vk, loss.vk, lse.vk, mean.vk, rstd.vk, targets.vk}, {e.cpu, loss.cpu, lse.cpu, mean.cpu, rstd.cpu, targets.cpu}} {
		empty := tensor.Span{Buf: side.b.Alloc(0)}
		side.b.CrossEntropy(side.loss, side.lse, empty, side.targets, rows, 0, -100, 0.1)
		side.b.Norm(a, empty, side.mean, side.rstd, empty, tensor.Span{}, tensor.Span{})
	}
	e.exact(t, "loss", loss)
	e.exact(t, "lse", lse)
	e.check(t, "mean", mean, nnTol)
	e.check(t, "rstd", rstd, nnTol)
}
