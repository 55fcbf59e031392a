package cpu

import (
	"math"

	"sargo/tensor"
)

// rowGrain returns how many rows of length n make a goroutine worthwhile.
func rowGrain(n int) int { return max(1, elemGrain/max(1, n)) }

// rowLSE returns the maximum of x and its log-sum-exp, max + ln Σ e^(x-max),
// with the sum in float64.
func rowLSE(x []float32) (mx, lse float64) {
	m := float32(math.Inf(-1))
	for _, v := range x {
		m = max(m, v)
	}
	mx = float64(m)
	var s float64
	for _, v := range x {
		s += math.Exp(float64(v) - mx)
	}
	return mx, mx + math.Log(s)
}

// Softmax writes softmax (or log-softmax) of each row of [rows, n].
func (b *Backend) Softmax(dst, src tensor.Span, rows, n int, log bool) {
	d, s := span(dst, rows*n), span(src, rows*n)
	b.parallelFor(rows, rowGrain(n), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			x, y := s[r*n:(r+1)*n], d[r*n:(r+1)*n]
			_, lse := rowLSE(x)
			for i, v := range x {
				if log {
					y[i] = float32(float64(v) - lse)
				} else {
					y[i] = float32(math.Exp(float64(v) - lse))
				}
			}
		}
	})
}

// SoftmaxBackward computes dx = y·(gy − Σ gy·y) for softmax, or
// dx = gy − e^y·Σ gy for log-softmax, from the forward output y.
func (b *Backend) SoftmaxBackward(dx, y, gy tensor.Span, rows, n int, log bool) {
	d, ys, gs := span(dx, rows*n), span(y, rows*n), span(gy, rows*n)
	b.parallelFor(rows, rowGrain(n), func(lo, hi int) {
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
			for i, g := range gr {
				if log {
					dr[i] = float32(float64(g) - math.Exp(float64(yr[i]))*dot)
				} else {
					dr[i] = float32(float64(yr[i]) * (float64(g) - dot))
				}
			}
		}
	})
}

// CrossEntropy writes per-row losses lse − ((1−s)·x[t] + (s/n)·Σx) and the
// log-sum-exp of each row; rows whose target is ignore (or outside
// [0, n)) get loss 0.
func (b *Backend) CrossEntropy(loss, lse, logits, targets tensor.Span, rows, n, ignore int, smoothing float32) {
	ls, es := span(loss, rows), span(lse, rows)
	xs, ts := span(logits, rows*n), span(targets, rows)
	sm := float64(smoothing)
	b.parallelFor(rows, rowGrain(n), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			x := xs[r*n : (r+1)*n]
			_, l := rowLSE(x)
			es[r] = float32(l)
			t := int(ts[r])
			if t == ignore || t < 0 || t >= n {
				ls[r] = 0
				continue
			}
			target := (1 - sm) * float64(x[t])
			if sm != 0 {
				var sum float64
				for _, v := range x {
					sum += float64(v)
				}
				target += sm / float64(n) * sum
			}
			ls[r] = float32(l - target)
		}
	})
}

// CrossEntropyBackward writes dlogits = gloss[row]·(softmax − target
// distribution); ignored rows get zeros.
func (b *Backend) CrossEntropyBackward(dlogits, logits, lse, targets, gloss tensor.Span, rows, n, ignore int, smoothing float32) {
	d, xs := span(dlogits, rows*n), span(logits, rows*n)
	es, ts, gs := span(lse, rows), span(targets, rows), span(gloss, rows)
	sm := float64(smoothing)
	b.parallelFor(rows, rowGrain(n), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			x, dr := xs[r*n:(r+1)*n], d[r*n:(r+1)*n]
			t := int(ts[r])
			if t == ignore || t < 0 || t >= n {
				clear(dr)
				continue
			}
			g, l, u := float64(gs[r]), float64(es[r]), sm/float64(n)
			for i, v := range x {
				dr[i] = float32(g * (math.Exp(float64(v)-l) - u))
			}
			dr[t] = float32(g * (math.Exp(float64(x[t])-l) - u - (1 - sm)))
		}
	})
}
