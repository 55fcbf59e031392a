package check

import (
	"fmt"
	"math"

	"sargo/tensor"
)

// Reduction cases: sum, max, min and argmax over the first, middle and last
// axis of ragged shapes, including long axes that a GPU splits over
// several workgroups: a long row, a long middle axis with few columns, and
// a bias-gradient-like column sum of many rows over ragged 32-column tiles.

func reduceCases() []testCase {
	shapes := []struct {
		shape []int
		axis  int
	}{
		{[]int{1}, 0},
		{[]int{31}, 0},
		{[]int{33, 7}, 0},
		{[]int{7, 65}, 1},
		{[]int{3, 13, 5}, 1},
		{[]int{2, 1031, 3}, 1},
		{[]int{2, 4099}, 1},
		{[]int{3001, 70}, 0},
	}
	var cs []testCase
	for op := range tensor.NumReduceOps {
		for _, s := range shapes {
			name := fmt.Sprintf("%v/shape=%s,axis=%d", op, dims(s.shape), s.axis)
			cs = append(cs, testCase{name, func(c *ctx) { reduceCase(c, op, s.shape, s.axis) }})
		}
	}
	cs = append(cs, testCase{"mean/all,7x13", meanCase})
	return cs
}

// dims formats a shape as 2x3x5.
func dims(shape []int) string {
	s := ""
	for i, d := range shape {
		if i > 0 {
			s += "x"
		}
		s += fmt.Sprint(d)
	}
	return s
}

// reduceCase reduces quantised inputs (so max, min and argmax meet ties)
// and checks against a float64 host reduction; argmax must be exact and
// name the first maximum.
func reduceCase(c *ctx, op tensor.ReduceOp, shape []int, axis int) {
	x := quantised(c, 7, shape...)
	if op == tensor.ReduceSum {
		x = c.randn(7, shape...)
	}
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		return []*tensor.Tensor{tensor.Reduce(op, in[0], axis, false)}
	}, x)
	if op == tensor.ReduceSum {
		c.near("out", got[0], want[0], tolFP32)
	} else {
		c.equal("out", got[0], want[0])
	}
	outer, n, inner := 1, shape[axis], 1
	for _, d := range shape[:axis] {
		outer *= d
	}
	for _, d := range shape[axis+1:] {
		inner *= d
	}
	xs := c.read64(x.ref)
	ref := make([]float64, outer*inner)
	for o := range outer {
		for i := range inner {
			acc, arg := xs[o*n*inner+i], 0
			for k := 1; k < n; k++ {
				v := xs[(o*n+k)*inner+i]
				switch op {
				case tensor.ReduceSum:
					acc += v
				case tensor.ReduceMax:
					acc = math.Max(acc, v)
				case tensor.ReduceMin:
					acc = math.Min(acc, v)
				case tensor.ReduceArgmax:
					if v > xs[(o*n+arg)*inner+i] {
						arg = k
					}
				}
			}
			if op == tensor.ReduceArgmax {
				acc = float64(arg)
			}
			ref[o*inner+i] = acc
		}
	}
	tol := 0.0
	if op == tensor.ReduceSum {
		tol = tolF64
	}
	c.near64("out/vs_float64", got[0], ref, tol)
}

// meanCase averages over every axis of a ragged tensor.
func meanCase(c *ctx) {
	x := c.randn(3, 7, 13)
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		return []*tensor.Tensor{tensor.Mean(in[0], false), tensor.Sum(in[0], true, 1)}
	}, x)
	c.near("mean", got[0], want[0], tolFP32)
	c.near("sum_keep", got[1], want[1], tolFP32)
	var s float64
	for _, v := range c.read64(x.ref) {
		s += v
	}
	c.near64("mean/vs_float64", got[0], []float64{s / 91}, tolF64)
}
