package cpu

import (
	"sync"

	"sargo/kernels/internal/sizeclass"
	"sargo/tensor"
)

// Storage recycling. A storage's slice is cut from an allocation of its
// size class (package sizeclass); Free keeps the buffer on its class's
// free list and Alloc hands it out again, uninitialised, so that a steady
// training step takes nothing new from the Go heap. The pool holds, live
// and free together, at most as many bytes as the live storages did at
// their peak (plus poolSlack): a workload that repeats itself finds every
// buffer it needs again, and one whose sizes change as it goes (a sampler
// whose every scale has tensors of other sizes) does not keep a set of
// buffers for each size on top of its peak; a buffer freed beyond that is
// given back. A storage of mapMin bytes or more is memory mapped from the
// system (on Unix) rather than taken from the Go heap, so that giving it
// back returns it to the system at once, and the garbage collector, whose
// heap goal grows with the live heap, never counts it: the resident size
// stays the pool's bytes, not those plus the collector's headroom and the
// buffers freed since its last cycle.

// poolSlack is the budget beyond the live peak, in bytes.
const poolSlack = 64 << 20

// mapMin is the size from which a storage is memory mapped, in bytes.
const mapMin = 1 << 20

// pool is the CPU backend's storage allocator.
type pool struct {
	mu        sync.Mutex
	free      [][]*Buffer // by class
	freeBytes int64       // class bytes on the free lists
	liveBytes int64       // class bytes of live storages
	highLive  int64       // highest liveBytes
	counter   tensor.MemCounter
}

// alloc returns a buffer of n elements with undefined content.
func (p *pool) alloc(n int) *Buffer {
	p.counter.Alloc(int64(n) * 4)
	if n == 0 {
		return &Buffer{class: -1}
	}
	class, size := sizeclass.Of(uint64(n) * 4)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.liveBytes += int64(size)
	p.highLive = max(p.highLive, p.liveBytes)
	if c := class; c < len(p.free) && len(p.free[c]) > 0 {
		list := p.free[c]
		buf := list[len(list)-1]
		list[len(list)-1] = nil
		p.free[c] = list[:len(list)-1]
		p.freeBytes -= int64(size)
		buf.Data = buf.Data[:n]
		buf.freed = false
		return buf
	}
	return &Buffer{Data: newFloats(n, int(size/4)), class: class}
}

// newFloats returns n values with room for c, mapped from the system when
// that is mapMin bytes or more and the system allows it.
func newFloats(n, c int) []float32 {
	if 4*c >= mapMin {
		if d := mapFloats(c); d != nil {
			return d[:n]
		}
	}
	return make([]float32, n, c)
}

// dropFloats gives d's memory back: to the system when it was mapped, to
// the garbage collector otherwise.
func dropFloats(d []float32) {
	if 4*cap(d) >= mapMin {
		unmapFloats(d)
	}
}

// release puts buf on its free list, or leaves it to the collector when
// the lists are full.
func (p *pool) release(buf *Buffer) {
	if buf.freed {
		panic("cpu: storage freed twice")
	}
	buf.freed = true
	p.counter.Free(int64(len(buf.Data)) * 4)
	if buf.class < 0 {
		return
	}
	size := int64(cap(buf.Data)) * 4
	p.mu.Lock()
	defer p.mu.Unlock()
	p.liveBytes -= size
	if p.liveBytes+p.freeBytes+size > p.highLive+poolSlack {
		dropFloats(buf.Data)
		buf.Data = nil
		return
	}
	for len(p.free) <= buf.class {
		p.free = append(p.free, nil)
	}
	p.free[buf.class] = append(p.free[buf.class], buf)
	p.freeBytes += size
}

// stats returns the counters with the bytes held (live and free).
func (p *pool) stats() tensor.MemStats {
	s := p.counter.Stats()
	p.mu.Lock()
	s.ReservedBytes = p.liveBytes + p.freeBytes
	p.mu.Unlock()
	return s
}
