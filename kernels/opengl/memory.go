//go:build opengl && cgo

package opengl

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"

	"sargo/kernels/internal/sizeclass"
	"sargo/tensor"
)

// Buffer is OpenGL storage: a buffer object of its own, bound to shaders
// as a shader storage buffer over exactly its elements.
type Buffer struct {
	n     int // elements
	bytes int // the buffer object's size (its size class); 0 for the placeholder of a failed allocation
	id    uint32

	// Hazard epochs of the last shader write and read (see track). They
	// survive reuse: a storage freed and allocated again is still ordered
	// against the dispatches that used it before.
	wEpoch, rEpoch uint64
	freed          atomic.Bool
}

// Len is the number of float32 elements.
func (s *Buffer) Len() int { return s.n }

// rangeBytes is the size of the storage's binding: its elements, at least
// one (a zero-size range cannot be bound).
func (s *Buffer) rangeBytes() int { return 4 * max(s.n, 1) }

// Stats are the memory pool's and the command stream's counters.
type Stats struct {
	BuffersCreated int    // buffer objects created so far (driver allocations)
	BytesReserved  uint64 // bytes of all buffer objects
	BytesInUse     uint64 // bytes of live storages (by size class)
	HighWater      uint64 // the most BytesInUse ever reached
	Live           int    // live storages
	Reusable       int    // freed storages ready for reuse
	Dispatches     uint64 // glDispatchCompute calls recorded
	Barriers       uint64 // glMemoryBarrier calls recorded
	Batches        uint64 // batches sent to the GL thread
	Programs       int    // programs built (compiled or loaded from the cache)
}

// pool recycles buffer objects by size class (package sizeclass). A freed
// storage can be reused at once: the GL thread runs commands in order, and
// the hazard epochs it keeps order a new write after the old reads.
type pool struct {
	mu    sync.Mutex        // guards the fields below
	free  map[int][]*Buffer // by the buffer object's size
	stats Stats
}

func newPool() *pool { return &pool{free: map[int][]*Buffer{}} }

// take pops a reusable storage of the class size, or returns nil.
func (p *pool) take(size int) *Buffer {
	p.mu.Lock()
	defer p.mu.Unlock()
	list := p.free[size]
	if len(list) == 0 {
		return nil
	}
	s := list[len(list)-1]
	list[len(list)-1] = nil
	p.free[size] = list[:len(list)-1]
	p.stats.Reusable--
	return s
}

// used counts s as live.
func (p *pool) used(s *Buffer, created bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if created {
		p.stats.BuffersCreated++
		p.stats.BytesReserved += uint64(s.bytes)
	}
	p.stats.Live++
	p.stats.BytesInUse += uint64(s.bytes)
	p.stats.HighWater = max(p.stats.HighWater, p.stats.BytesInUse)
}

// release puts s on its class's free list.
func (p *pool) release(s *Buffer) {
	if s.bytes == 0 || s.freed.Swap(true) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.free[s.bytes] = append(p.free[s.bytes], s)
	p.stats.Reusable++
	p.stats.Live--
	p.stats.BytesInUse -= uint64(s.bytes)
}

func (p *pool) snapshot() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// storage returns s as a Buffer of this backend.
func storage(s tensor.Storage) *Buffer {
	buf, ok := s.(*Buffer)
	if !ok {
		panic(fmt.Sprintf("opengl: storage of type %T is not from an OpenGL backend", s))
	}
	return buf
}

// Alloc returns a storage of n elements with undefined content: a reused
// buffer object of its size class, or a new one. A request the driver
// cannot hold records a sticky error and returns a placeholder storage on
// which every kernel is a no-op.
func (b *Backend) Alloc(n int) tensor.Storage {
	b.mem.Alloc(int64(n) * 4)
	b.mu.Lock()
	defer b.mu.Unlock()
	bytes := 4 * max(n, 1)
	switch {
	case b.closed:
		b.fail(fmt.Errorf("opengl: alloc %d elements: %s is closed", n, b.name))
		return &Buffer{n: n}
	case uint64(bytes) > b.info.MaxStorageBlockSize:
		b.fail(fmt.Errorf("opengl: alloc %d elements (%d bytes): exceeds the driver's GL_MAX_SHADER_STORAGE_BLOCK_SIZE of %d bytes", n, bytes, b.info.MaxStorageBlockSize))
		return &Buffer{n: n}
	}
	_, size := sizeclass.Of(uint64(bytes))
	if size > b.info.MaxStorageBlockSize {
		size = uint64(bytes) // the class would exceed the driver's limit
	}
	s := b.pool.take(int(size))
	created := s == nil
	if created {
		s = &Buffer{bytes: int(size)}
	}
	s.n = n
	s.freed.Store(false)
	b.pool.used(s, created)
	if created && !b.stopped() {
		c := b.record(cmdCreate)
		c.buf = s
		b.submitIfFull()
	}
	return s
}

// Free returns s to the pool. Free is safe from any goroutine.
func (b *Backend) Free(s tensor.Storage) {
	buf := storage(s)
	b.mem.Free(int64(buf.n) * 4)
	b.pool.release(buf)
}

// MemStats returns the storage counters; ReservedBytes is the size of the
// buffer objects the pool holds.
func (b *Backend) MemStats() tensor.MemStats {
	m := b.mem.Stats()
	m.ReservedBytes = int64(b.pool.snapshot().BytesReserved)
	return m
}

// ResetPeak restarts MemStats' PeakBytes from the live bytes.
func (b *Backend) ResetPeak() { b.mem.ResetPeak() }

// Fill sets every element of dst to v: one glClearBufferSubData when dst
// is one contiguous range of its storage, the fill kernel otherwise.
func (b *Backend) Fill(dst tensor.View, v float32) {
	n := b.Kernels.FillRun(&b.mem, dst, v)
	if n == 0 {
		return
	}
	buf := storage(dst.Buf)
	b.mu.Lock()
	defer b.mu.Unlock()
	if buf.bytes == 0 || b.closed || b.stopped() {
		return
	}
	c := b.record(cmdFill)
	c.buf, c.off, c.n, c.bits = buf, dst.Offset, n, math.Float32bits(v)
	c.barrier = b.trackTransfer(buf)
	b.submitIfFull()
}

// smallUpload is the largest Write copied into the batch; larger ones run
// at once from the caller's slice, which Write waits for.
const smallUpload = 1 << 16

// Write copies src into s from element off. A small write is copied into
// the batch and runs in order with the kernels around it; a large one is
// sent with the batch and waited for.
func (b *Backend) Write(s tensor.Storage, off int, src []float32) {
	buf := storage(s)
	if off < 0 || off+len(src) > buf.n {
		panic(fmt.Sprintf("opengl: Write of %d elements at %d into storage of %d", len(src), off, buf.n))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if buf.bytes == 0 || b.closed || len(src) == 0 || b.stopped() {
		return
	}
	barrier := b.trackTransfer(buf)
	c := b.record(cmdUpload)
	c.buf, c.off, c.n, c.barrier = buf, off, len(src), barrier
	if len(src) <= smallUpload {
		c.arena = len(b.cur.floats)
		b.cur.floats = append(b.cur.floats, src...)
		b.submitIfFull()
		return
	}
	c.arena, c.data = -1, src
	b.submitAndWait()
}

// Read waits for the recorded work and copies len(dst) elements of s from
// element off into dst.
func (b *Backend) Read(s tensor.Storage, off int, dst []float32) error {
	buf := storage(s)
	if off < 0 || off+len(dst) > buf.n {
		return fmt.Errorf("opengl: Read of %d elements at %d from storage of %d", len(dst), off, buf.n)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return b.closedErr()
	}
	if err := b.stickyErr(); err != nil {
		return err
	}
	if buf.bytes == 0 {
		return fmt.Errorf("opengl: Read from a storage whose allocation failed")
	}
	if len(dst) == 0 {
		return nil
	}
	read := b.readStatus()
	barrier := b.trackTransfer(buf)
	c := b.record(cmdDownload)
	c.buf, c.off, c.n, c.data, c.barrier = buf, off, len(dst), dst, barrier
	b.submitAndWait()
	if read {
		b.checkStatus()
	}
	return b.stickyErr()
}

// Stats returns the pool's and the stream's counters.
func (b *Backend) Stats() Stats {
	st := b.pool.snapshot()
	b.mu.Lock()
	defer b.mu.Unlock()
	st.Dispatches, st.Barriers, st.Batches, st.Programs = b.counts.dispatches, b.counts.barriers, b.counts.batches, len(b.progs)
	return st
}
