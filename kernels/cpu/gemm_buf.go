package cpu

import (
	"sync"
	"unsafe"
)

// gemmBuf is a reusable packing buffer whose data starts on a 64-byte
// boundary.
type gemmBuf struct {
	raw  []float32
	data []float32
}

// gemmBufPool recycles packing buffers of one role so that steady-state
// products do not allocate them again. A and B buffers have their own pools
// so that a request for one never receives the other's smaller buffer.
type gemmBufPool struct{ pool sync.Pool }

var (
	packAPool gemmBufPool // A blocks
	packBPool gemmBufPool // B blocks

	convColPool gemmBufPool // convolution patch matrices
	convOutPool gemmBufPool // convolution outputs and gradients in [C, g·hw]
)

// get returns a buffer of at least n elements; return it with put.
func (p *gemmBufPool) get(n int) *gemmBuf {
	buf, _ := p.pool.Get().(*gemmBuf)
	if buf == nil {
		buf = new(gemmBuf)
	}
	if len(buf.data) < n {
		const align = 64 / 4
		buf.raw = make([]float32, n+align)
		off := int(uintptr(unsafe.Pointer(&buf.raw[0])) % 64 / 4)
		if off != 0 {
			off = align - off
		}
		buf.data = buf.raw[off : off+n]
	}
	return buf
}

// put returns a buffer to the pool.
func (p *gemmBufPool) put(buf *gemmBuf) { p.pool.Put(buf) }
