package cpu

import (
	"runtime"
	"sync"
)

// rangeBody is the body of a parallel loop: run processes [lo, hi). A
// kernel that launches often keeps its body in a frames free list, so that
// handing it to the workers allocates nothing.
type rangeBody interface{ run(lo, hi int) }

// rangeFunc is a closure as a loop body, for kernels that launch rarely
// (the closure is allocated at each launch).
type rangeFunc func(lo, hi int)

func (f rangeFunc) run(lo, hi int) { f(lo, hi) }

// parallelFor runs body over [0, n) split into contiguous chunks across
// the backend's workers. grain is the smallest chunk worth handing to a
// worker; small loops run inline. body is a closure; kernels on the
// training path use parallelRun with a body from a frames free list.
func (b *Backend) parallelFor(n, grain int, body func(lo, hi int)) {
	if b.chunks(n, grain) <= 1 {
		if n > 0 {
			body(0, n)
		}
		return
	}
	b.parallelRun(n, grain, rangeFunc(body))
}

// parallelRun runs body over [0, n) split into contiguous chunks across the
// backend's workers (see workerPool); the calling goroutine takes chunks
// too. It allocates nothing once the pool is warm.
func (b *Backend) parallelRun(n, grain int, body rangeBody) {
	if n <= 0 {
		return
	}
	chunks := b.chunks(n, grain)
	if chunks <= 1 {
		body.run(0, n)
		return
	}
	step := (n + chunks - 1) / chunks
	b.workerPool().run(body, n, step, (n+step-1)/step)
}

// workerPool returns the backend's worker pool, started at the first
// call. The workers hold only the pool, not the backend; they stop once
// the backend is unreachable.
func (b *Backend) workerPool() *workerPool {
	if p := b.pool.Load(); p != nil {
		return p
	}
	p := &workerPool{workers: b.workers}
	p.work.L, p.done.L = &p.mu, &p.mu
	if !b.pool.CompareAndSwap(nil, p) {
		return b.pool.Load()
	}
	for range b.workers - 1 {
		go p.worker()
	}
	runtime.AddCleanup(b, (*workerPool).stop, p)
	return p
}

// chunks is the number of pieces parallelFor splits [0, n) into; a caller
// that would allocate to hand its loop to the workers runs it inline when
// this is 1.
func (b *Backend) chunks(n, grain int) int {
	return min(b.workers, (n+grain-1)/max(grain, 1))
}

// workerPool is a backend's long-lived worker goroutines (one fewer than
// its workers, started at the first parallel loop and parked while there is
// no work) and the queue of loops with chunks no one has taken yet. A chunk
// is taken under the mutex; the caller of a loop takes chunks as well and
// then waits only for the chunks workers took, so a loop never waits for a
// busy worker, and a loop run from inside another's chunk cannot deadlock.
// A loop leaves the queue, under the mutex, once its last chunk is taken,
// and its record is reused only after every taken chunk is done, so no
// worker holds a stale one.
type workerPool struct {
	workers int
	mu      sync.Mutex
	work    sync.Cond // signalled when a loop is queued
	done    sync.Cond // broadcast when a worker finishes a chunk
	queue   []*loop   // loops with chunks not yet taken, oldest first
	free    []*loop   // records of finished loops, for reuse
	stopped bool      // the backend is gone: workers return
}

// loop is one parallelRun call: body over [0, n) in chunks of step.
type loop struct {
	body    rangeBody
	n, step int
	chunks  int
	next    int // first chunk not yet taken
	running int // chunks taken by workers and not yet done
}

// run runs body over [0, n) in chunks of step (chunks of them, at least
// two) with the help of the pool's goroutines.
func (p *workerPool) run(body rangeBody, n, step, chunks int) {
	p.mu.Lock()
	var l *loop
	if k := len(p.free); k > 0 {
		l, p.free = p.free[k-1], p.free[:k-1]
	} else {
		l = new(loop)
	}
	*l = loop{body: body, n: n, step: step, chunks: chunks, next: 1}
	p.queue = append(p.queue, l)
	p.mu.Unlock()
	for range min(chunks, p.workers) - 1 {
		p.work.Signal()
	}
	body.run(0, step)
	p.mu.Lock()
	for l.next < l.chunks {
		lo := l.take(p)
		p.mu.Unlock()
		body.run(lo, min(lo+step, n))
		p.mu.Lock()
	}
	for l.running > 0 {
		p.done.Wait()
	}
	*l = loop{}
	p.free = append(p.free, l)
	p.mu.Unlock()
}

// take claims l's next chunk and returns its start; the last chunk taken
// removes l from the queue. p.mu is held.
func (l *loop) take(p *workerPool) int {
	lo := l.next * l.step
	l.next++
	if l.next == l.chunks {
		for i, q := range p.queue {
			if q == l {
				last := len(p.queue) - 1
				copy(p.queue[i:], p.queue[i+1:])
				p.queue[last] = nil
				p.queue = p.queue[:last]
				break
			}
		}
	}
	return lo
}

// stop makes the workers return.
func (p *workerPool) stop() {
	p.mu.Lock()
	p.stopped = true
	p.mu.Unlock()
	p.work.Broadcast()
}

// worker takes chunks of queued loops until the pool stops.
func (p *workerPool) worker() {
	p.mu.Lock()
	for {
		for len(p.queue) == 0 && !p.stopped {
			p.work.Wait()
		}
		if p.stopped {
			p.mu.Unlock()
			return
		}
		l := p.queue[0]
		lo := l.take(p)
		l.running++
		body, hi := l.body, min(lo+l.step, l.n)
		p.mu.Unlock()
		body.run(lo, hi)
		p.mu.Lock()
		l.running--
		if l.running == 0 {
			p.done.Broadcast()
		}
	}
}

// frames is a free list of loop bodies of one kind, so that a kernel
// hands its arguments to the workers without allocating them: get a
// frame, fill it, run it with parallelRun, put it back.
type frames[T any] struct {
	mu   sync.Mutex
	free []*T
}

// get returns a frame, reused when one is free.
func (f *frames[T]) get() *T {
	f.mu.Lock()
	defer f.mu.Unlock()
	if k := len(f.free); k > 0 {
		t := f.free[k-1]
		f.free = f.free[:k-1]
		return t
	}
	return new(T)
}

// put clears a frame and keeps it for reuse.
func (f *frames[T]) put(t *T) {
	var zero T
	*t = zero
	f.mu.Lock()
	f.free = append(f.free, t)
	f.mu.Unlock()
}

// kernelFrames are the free lists of a backend's parallel loop bodies.
type kernelFrames struct {
	gemv             frames[gemvLoop]
	perMatrix        frames[perMatrixLoop]
	attnDS           frames[attnDSLoop]
	attnBackProb     frames[attnBackProbLoop]
	attnProb         frames[attnProbLoop]
	attnNorm         frames[attnNormLoop]
	sample           frames[sampleLoop]
	crossEntropyBack frames[crossEntropyBackLoop]
	crossEntropy     frames[crossEntropyLoop]
	scatter          frames[scatterLoop]
	gather           frames[gatherLoop]
	interpBack       frames[interpBackLoop]
	areaPool         frames[areaPoolLoop]
	interp           frames[interpLoop]
	elem             frames[elemRun]
	reduce           frames[reduceRun]
	attnBack         frames[attnBackLoop]
	attn             frames[attnLoop]
	matRows          frames[matRowsLoop]
	l2NormBack       frames[l2NormBackLoop]
	l2Norm           frames[l2NormLoop]
	rowNormBack      frames[rowNormBackLoop]
	rowNorm          frames[rowNormLoop]
	adamW            frames[adamWLoop]
}

// launch runs a copy of the loop body *v over [0, n) across the workers,
// from a frame of f. Callers run v inline themselves when b.chunks(n,
// grain) is 1 (a method call through a type parameter would move v to the
// heap).
func launch[T any, P interface {
	*T
	rangeBody
}](b *Backend, f *frames[T], n, grain int, v *T) {
	j := f.get()
	*j = *v
	b.parallelRun(n, grain, P(j))
	f.put(j)
}
