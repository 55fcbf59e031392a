package check

import (
	"fmt"
	"math"

	"sargo/tensor"
)

// Softmax, log-softmax and cross-entropy cases, forward and backward, over
// ragged row lengths, large logits (which overflow a naive exp), ignored
// targets and label smoothing.

func softmaxCases() []testCase {
	var cs []testCase
	shapes := [][]int{{1, 1}, {7, 13}, {3, 65}, {2, 3, 33}, {2, 1031}}
	for _, log := range []bool{false, true} {
		for _, s := range shapes {
			name := fmt.Sprintf("log=%v,shape=%s", log, dims(s))
			cs = append(cs, testCase{name, func(c *ctx) { softmaxCase(c, s, log, 0) }})
		}
		name := fmt.Sprintf("log=%v,shape=4x33,shift=1000", log)
		cs = append(cs, testCase{name, func(c *ctx) { softmaxCase(c, []int{4, 33}, log, 1000) }})
	}
	return cs
}

// logSumExp64 is the float64 log-sum-exp of a row.
func logSumExp64(row []float64) float64 {
	m := math.Inf(-1)
	for _, v := range row {
		m = math.Max(m, v)
	}
	var s float64
	for _, v := range row {
		s += math.Exp(v - m)
	}
	return m + math.Log(s)
}

// softmaxCase checks softmax (or log-softmax) of N(0, 3²)+shift logits and
// its backward, and that each row is a distribution, the backward rows sum
// to zero, and the output matches float64.
func softmaxCase(c *ctx, shape []int, log bool, shift float32) {
	x := c.input(tensor.Affine(tensor.Randn(c.ref, 11, 0, shape...), 3, shift))
	gy := c.randn(12, shape...)
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		y := tensor.Softmax(in[0], log)
		return []*tensor.Tensor{y, tensor.SoftmaxBackward(y, in[1], log)}
	}, x, gy)
	c.near("y", got[0], want[0], tolFP32)
	c.near("dx", got[1], want[1], tolFP32)

	n := shape[len(shape)-1]
	xs, ys, dxs := c.read64(x.ref), c.read(got[0]), c.read64(got[1])
	ref := make([]float64, len(xs))
	for r := 0; r < len(xs); r += n {
		lse := logSumExp64(xs[r : r+n])
		var sum, dsum, dscale float64
		for i := r; i < r+n; i++ {
			ref[i] = xs[i] - lse
			if !log {
				ref[i] = math.Exp(ref[i])
				sum += float64(ys[i])
			} else {
				sum += math.Exp(float64(ys[i]))
			}
			dsum += dxs[i]
			dscale += math.Abs(dxs[i])
		}
		if math.Abs(sum-1) > 1e-5 {
			c.t.Errorf("row %d: probabilities sum to %v, want 1", r/n, sum)
		}
		if math.Abs(dsum) > 1e-5*math.Max(dscale, 1) {
			c.t.Errorf("row %d: backward sums to %v, want 0", r/n, dsum)
		}
	}
	tol := tolF64
	if shift != 0 {
		// Logits near 1000 carry fp32 spacing 6e-5, which the log-sum-exp
		// passes on to every log-probability.
		tol = 1e-8
	}
	c.near64("y/vs_float64", got[0], ref, tol)
}

func crossEntropyCases() []testCase {
	var cs []testCase
	for _, s := range [][2]int{{1, 1}, {7, 13}, {5, 65}, {3, 1031}} {
		for _, smooth := range []float32{0, 0.1} {
			for _, ignore := range []bool{false, true} {
				name := fmt.Sprintf("rows=%d,n=%d,smoothing=%v,ignore=%v", s[0], s[1], smooth, ignore)
				cs = append(cs, testCase{name, func(c *ctx) { crossEntropyCase(c, s[0], s[1], smooth, ignore) }})
			}
		}
	}
	return cs
}

// ignoreIndex is the ignored target of the cross-entropy cases, PyTorch's default.
const ignoreIndex = -100

// crossEntropyCase checks per-row losses, log-sum-exps and logit gradients,
// and against float64: every third row is ignored when ignore is set.
func crossEntropyCase(c *ctx, rows, n int, smoothing float32, ignore bool) {
	logits := c.input(tensor.Scale(tensor.Randn(c.ref, 21, 0, rows, n), 2))
	tg := make([]float32, rows)
	for r := range tg {
		tg[r] = float32((r*7 + 3) % n)
		if ignore && r%3 == 1 {
			tg[r] = ignoreIndex
		}
	}
	targets := c.values(tg, rows)
	gloss := c.randn(22, rows)
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		loss, lse := tensor.CrossEntropy(in[0], in[1], ignoreIndex, smoothing)
		d := tensor.CrossEntropyBackward(in[0], lse, in[1], in[2], ignoreIndex, smoothing)
		return []*tensor.Tensor{loss, lse, d}
	}, logits, targets, gloss)
	c.near("loss", got[0], want[0], tolFP32)
	keep := make([]bool, rows)
	for r := range keep {
		keep[r] = tg[r] != ignoreIndex
	}
	// The log-sum-exp of an ignored row is not used, so it is not specified.
	c.nearMasked("lse", got[1], want[1], keep, tolFP32)
	c.near("dlogits", got[2], want[2], tolFP32)

	xs, gs := c.read64(logits.ref), c.read64(gloss.ref)
	loss, dx := make([]float64, rows), make([]float64, rows*n)
	s := float64(smoothing)
	for r := range rows {
		if !keep[r] {
			continue
		}
		row := xs[r*n : (r+1)*n]
		lse := logSumExp64(row)
		for j, v := range row {
			q := s / float64(n)
			if j == int(tg[r]) {
				q += 1 - s
			}
			loss[r] -= q * (v - lse)
			dx[r*n+j] = gs[r] * (math.Exp(v-lse) - q)
		}
	}
	c.near64("loss/vs_float64", got[0], loss, tolF64)
	c.near64("dlogits/vs_float64", got[2], dx, tolF64)
}
