package cpu

import (
	"math"

	"sargo/tensor"
)

// rowGrain returns how many rows of length n make a goroutine worthwhile.
func rowGrain(n int) int { return max(1, elemGrain/max(1, n)) }

// rowLSE returns the maximum of x and its log-sum-exp, max + ln Σ e^(x-max),
// with the float32 exponentials of expSumRow summed in float64 (see
// rows.go for their accuracy: a few parts in 10⁸ of the sum, so about
// 1e-7 absolute on the log-sum-exp).
func rowLSE(x []float32) (mx, lse float64) {
	mx, logSum := rowLogSum(x)
	return mx, mx + logSum
}

// rowLogSum returns the maximum of x and ln Σ e^(x-max), kept apart so that
// x − max − ln Σ keeps its precision when the logits are large (max + ln Σ
// would round ln Σ away). A row of −Inf has maximum −Inf and ln Σ 0, so its
// log-sum-exp is −Inf.
func rowLogSum(x []float32) (mx, logSum float64) {
	m := rowMax(x)
	if math.IsInf(float64(m), -1) {
		return float64(m), 0
	}
	return float64(m), math.Log(expSumRow(x, m))
}

// Softmax writes softmax (or log-softmax) of each row of [rows, n]. The
// softmax of a row is e^(x−max)/Σ e^(x−max): the float32 exponentials of
// expShiftRow, each multiplied by the float32 reciprocal of their float64
// sum, so within a few ulp of the largest probability (rows.go bounds the
// error of the smaller ones).
func (b *Backend) Softmax(dst, src tensor.Span, rows, n int, log bool) {
	d, s := span(dst, rows*n), span(src, rows*n)
	b.parallelFor(rows, rowGrain(n), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			x, y := s[r*n:(r+1)*n], d[r*n:(r+1)*n]
			if !log {
				sum := expShiftRow(y, x, rowMax(x))
				scaleShiftRow(y, y, float32(1/sum), 0)
				continue
			}
			mx, logSum := rowLogSum(x)
			for i, v := range x {
				y[i] = float32(float64(v) - mx - logSum)
			}
		}
	})
}

// SoftmaxBackward computes dx = y·(gy − Σ gy·y) for softmax, or
// dx = gy − e^y·Σ gy for log-softmax, from the forward output y. The e^y
// of log-softmax are float32 (expShiftRow into per-worker scratch, so dx
// may alias y or gy), combined with gy and Σ gy in float64.
func (b *Backend) SoftmaxBackward(dx, y, gy tensor.Span, rows, n int, log bool) {
	d, ys, gs := span(dx, rows*n), span(y, rows*n), span(gy, rows*n)
	b.parallelFor(rows, rowGrain(n), func(lo, hi int) {
		var ey []float32
		if log {
			ey = make([]float32, n)
		}
		for r := lo; r < hi; r++ {
			yr, gr, dr := ys[r*n:(r+1)*n], gs[r*n:(r+1)*n], d[r*n:(r+1)*n]
			var dot float64
			for i, g := range gr {
				if log {
					dot += float64(g)
				} else {
					dot += float64(g) * float64(yr[i])
				}
			}
			if log {
				expShiftRow(ey, yr, 0)
				for i, g := range gr {
					dr[i] = float32(float64(g) - float64(ey[i])*dot)
				}
				continue
			}
			for i, g := range gr {
				dr[i] = float32(float64(yr[i]) * (float64(g) - dot))
			}
		}
	})
}

// CrossEntropy writes per-row losses lse − ((1−s)·x[t] + (s/n)·Σx) and the
// log-sum-exp of each row; rows whose target is ignore get loss 0. Targets
// are checked first (tensor.CheckIDs): one outside [0, n) that is not
// ignore is the sticky error, and nothing is computed.
func (b *Backend) CrossEntropy(loss, lse, logits, targets tensor.Span, rows, n, ignore int, smoothing float32) {
	ts := span(targets, rows)
	if err := tensor.CheckIDs("CrossEntropy", ts, n, ignore, true); err != nil {
		b.fail(err)
		return
	}
	ls, es := span(loss, rows), span(lse, rows)
	xs := span(logits, rows*n)
	sm := float64(smoothing)
	l := crossEntropyLoop{n: n, ignore: ignore, sm: sm, ts: ts, ls: ls, es: es, xs: xs}
	if b.chunks(rows, rowGrain(n)) <= 1 {
		l.run(0, rows)
	} else {
		launch(b, &b.frames.crossEntropy, rows, rowGrain(n), &l)
	}
}

// CrossEntropyBackward writes dlogits = gloss[row]·(softmax − target
// distribution); ignored rows get zeros. The softmax is recomputed from
// the saved log-sum-exp as float32 exponentials (expShiftRow), and
// gloss·(p − s/n) is formed in float32 except at the target, which takes
// the float64 gloss·(p − s/n − (1−s)). Targets are checked first, as in
// CrossEntropy.
func (b *Backend) CrossEntropyBackward(dlogits, logits, lse, targets, gloss tensor.Span, rows, n, ignore int, smoothing float32) {
	ts := span(targets, rows)
	if err := tensor.CheckIDs("CrossEntropy", ts, n, ignore, true); err != nil {
		b.fail(err)
		return
	}
	d, xs := span(dlogits, rows*n), span(logits, rows*n)
	es, gs := span(lse, rows), span(gloss, rows)
	sm := float64(smoothing)
	l := crossEntropyBackLoop{n: n, ignore: ignore, sm: sm, ts: ts, d: d, xs: xs, es: es, gs: gs}
	if b.chunks(rows, rowGrain(n)) <= 1 {
		l.run(0, rows)
	} else {
		launch(b, &b.frames.crossEntropyBack, rows, rowGrain(n), &l)
	}
}

// crossEntropyLoop is the parallel loop body of CrossEntropy.
type crossEntropyLoop struct {
	n      int
	ignore int
	sm     float64
	ts     []float32
	ls     []float32
	es     []float32
	xs     []float32
}

func (l *crossEntropyLoop) run(lo, hi int) {
	n, ignore, sm, ts, ls, es, xs := l.n, l.ignore, l.sm, l.ts, l.ls, l.es, l.xs
	for r := lo; r < hi; r++ {
		x := xs[r*n : (r+1)*n]
		mx, logSum := rowLogSum(x)
		es[r] = float32(mx + logSum)
		t := int(ts[r])
		if t == ignore || t < 0 || t >= n {
			ls[r] = 0
			continue
		}
		// lse − ((1−s)·x[t] + (s/n)·Σx), relative to the maximum so that
		// large logits keep their precision.
		l := logSum + (1-sm)*(mx-float64(x[t]))
		if sm != 0 {
			var sum float64
			for _, v := range x {
				sum += float64(v) - mx
			}
			l -= sm / float64(n) * sum
		}
		ls[r] = float32(l)
	}
}

// crossEntropyBackLoop is the parallel loop body of CrossEntropyBackward.
type crossEntropyBackLoop struct {
	n      int
	ignore int
	sm     float64
	ts     []float32
	d      []float32
	xs     []float32
	es     []float32
	gs     []float32
}

func (l *crossEntropyBackLoop) run(lo, hi int) {
	n, ignore, sm, ts, d, xs, es, gs := l.n, l.ignore, l.sm, l.ts, l.d, l.xs, l.es, l.gs
	for r := lo; r < hi; r++ {
		x, dr := xs[r*n:(r+1)*n], d[r*n:(r+1)*n]
		t := int(ts[r])
		if t == ignore || t < 0 || t >= n {
			clear(dr)
			continue
		}
		g, u := gs[r], sm/float64(n)
		expShiftRow(dr, x, es[r])
		pt := float64(dr[t])
		scaleShiftRow(dr, dr, g, float32(u))
		dr[t] = float32(float64(g) * (pt - u - (1 - sm)))
	}
}
