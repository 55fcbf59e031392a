package eval

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
)

// PrecisionRecall is the improved precision and recall of Kynkäänniemi et
// al. (2019) on feature vectors: each set's manifold is the union of balls
// around its vectors reaching their k-th nearest neighbour within the set.
// Precision is the fraction of fake vectors inside the real manifold,
// recall the fraction of real vectors inside the fake manifold. realX and
// fakeX hold nReal and nFake vectors of dimension d, row-major; each set
// needs more than k vectors.
func PrecisionRecall(realX []float32, nReal int, fakeX []float32, nFake int, d, k int) (precision, recall float64, err error) {
	switch {
	case k < 1:
		return 0, 0, fmt.Errorf("precision/recall: k %d, want >= 1", k)
	case d < 1 || len(realX) != nReal*d || len(fakeX) != nFake*d:
		return 0, 0, fmt.Errorf("precision/recall: %d real and %d fake values for %d and %d vectors of dimension %d",
			len(realX), len(fakeX), nReal, nFake, d)
	case nReal <= k || nFake <= k:
		return 0, 0, fmt.Errorf("precision/recall: %d real and %d fake vectors, want more than k = %d in each", nReal, nFake, k)
	}
	rr := kthRadii(realX, nReal, d, k)
	rf := kthRadii(fakeX, nFake, d, k)
	precision = coverage(fakeX, nFake, realX, nReal, rr, d)
	recall = coverage(realX, nReal, fakeX, nFake, rf, d)
	return precision, recall, nil
}

// sqDist is the squared Euclidean distance of two vectors.
func sqDist(a, b []float32) float64 {
	var s float64
	for i, v := range a {
		x := float64(v - b[i])
		s += x * x
	}
	return s
}

// parallelRows runs f(i) for i in [0, n) on all CPUs.
func parallelRows(n int, f func(i int)) {
	workers := max(1, min(runtime.GOMAXPROCS(0), n))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				f(i)
			}
		}()
	}
	wg.Wait()
}

// kthRadii gives, for every vector of x, the squared distance to its k-th
// nearest neighbour among the other vectors of x.
func kthRadii(x []float32, n, d, k int) []float64 {
	radii := make([]float64, n)
	parallelRows(n, func(i int) {
		best := make([]float64, 0, k+1) // the k smallest, ascending
		xi := x[i*d : (i+1)*d]
		for j := range n {
			if j == i {
				continue
			}
			v := sqDist(xi, x[j*d:(j+1)*d])
			if len(best) == k && v >= best[k-1] {
				continue
			}
			pos, _ := slices.BinarySearch(best, v)
			best = slices.Insert(best, pos, v)
			if len(best) > k {
				best = best[:k]
			}
		}
		radii[i] = best[k-1]
	})
	return radii
}

// coverage is the fraction of the q vectors that lie within the ball of
// radius² radii[j] around some vector j of ref.
func coverage(q []float32, nq int, ref []float32, nref int, radii []float64, d int) float64 {
	in := make([]bool, nq)
	parallelRows(nq, func(i int) {
		qi := q[i*d : (i+1)*d]
		for j := range nref {
			if sqDist(qi, ref[j*d:(j+1)*d]) <= radii[j] {
				in[i] = true
				return
			}
		}
	})
	c := 0
	for _, b := range in {
		if b {
			c++
		}
	}
	return float64(c) / float64(nq)
}
