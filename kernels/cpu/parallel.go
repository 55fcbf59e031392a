package cpu

import "sync"

// parallelFor runs body over [0, n) split into contiguous chunks across the
// backend's workers. grain is the smallest chunk worth a goroutine; small
// loops run inline.
func (b *Backend) parallelFor(n, grain int, body func(lo, hi int)) {
	if n <= 0 {
		return
	}
	chunks := b.chunks(n, grain)
	if chunks <= 1 {
		body(0, n)
		return
	}
	// The calling goroutine takes the first chunk itself: one goroutine
	// fewer to start and to wake.
	var wg sync.WaitGroup
	step := (n + chunks - 1) / chunks
	for lo := step; lo < n; lo += step {
		hi := min(lo+step, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			body(lo, hi)
		}()
	}
	body(0, min(step, n))
	wg.Wait()
}

// chunks is the number of pieces parallelFor splits [0, n) into; a caller
// that would allocate to hand its loop to the workers runs it inline when
// this is 1.
func (b *Backend) chunks(n, grain int) int {
	return min(b.workers, (n+grain-1)/max(grain, 1))
}
