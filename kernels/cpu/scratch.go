package cpu

import (
	"sync"
	"unsafe"
)

// Scratch buffers. Kernels take their temporary buffers (packed GEMM
// blocks, convolution patch matrices, gather buffers, …) from their
// backend's scratch store, never from package state, so that two backends
// share nothing. A buffer smaller than mapMin bytes is Go memory kept on
// its role's free list for the next call, so that a steady training step
// allocates none. A larger one is a storage of the backend's pool (see
// pool): memory mapped from the system, counted in MemStats, and given
// back to the pool when the call returns, where the pool's bound on what
// it keeps applies to it as to any storage.

// scratchRole is what a scratch buffer holds. Each role has a free list of
// its own so that a request for one never receives another's smaller
// buffer.
type scratchRole uint8

const (
	scratchPackA    scratchRole = iota // GEMM A blocks
	scratchPackB                       // GEMM B blocks
	scratchConvCol                     // convolution patch matrices
	scratchConvOut                     // convolution outputs and gradients in [C, g·hw]
	scratchConvPad                     // zero-padded input images
	scratchConvPack                    // packed convolution weights
	scratchConvFlip                    // flipped, transposed weights of the input gradient
	scratchConvGy                      // gy in the extended layout (weight gradient)
	scratchConvDw                      // transposed weight gradient
	scratchElem                        // gather buffers of strided elementwise kernels
	scratchNormSums                    // float64 sums of groupNormBackward
	scratchRows                        // rows of the fused attention and the interpolation kernels
	scratchRoles
)

// scratchAlign is the alignment of a scratch buffer's data, in elements
// (64 bytes).
const scratchAlign = 64 / 4

// gemmBuf is a scratch buffer whose data starts on a 64-byte boundary.
type gemmBuf struct {
	raw  []float32 // Go memory under data, kept for the next call
	data []float32
	st   *Buffer // the pool storage under data, for a large buffer
	role scratchRole
}

// scratchStore is a backend's scratch buffers: per role, those not in use.
// Large buffers are not kept: their headers are, with no data.
type scratchStore struct {
	mu   sync.Mutex
	free [scratchRoles][]*gemmBuf
}

// scratch returns a buffer of at least n elements for role; give it back
// with putScratch.
func (b *Backend) scratch(role scratchRole, n int) *gemmBuf {
	s := &b.scratchBufs
	s.mu.Lock()
	var buf *gemmBuf
	if list := s.free[role]; len(list) > 0 {
		buf = list[len(list)-1]
		list[len(list)-1] = nil
		s.free[role] = list[:len(list)-1]
	}
	s.mu.Unlock()
	if buf == nil {
		buf = &gemmBuf{role: role}
	}
	if 4*(n+scratchAlign) >= mapMin {
		buf.st = b.mem.alloc(n + scratchAlign)
		buf.data = alignFloats(buf.st.Data, n)
		return buf
	}
	if len(buf.raw) < n+scratchAlign {
		buf.raw = make([]float32, n+scratchAlign)
	}
	buf.data = alignFloats(buf.raw, n)
	return buf
}

// putScratch gives buf back: a large buffer's storage to the pool, a small
// buffer to its role's free list.
func (b *Backend) putScratch(buf *gemmBuf) {
	if buf.st != nil {
		b.mem.release(buf.st)
		buf.st, buf.data = nil, nil
	}
	s := &b.scratchBufs
	s.mu.Lock()
	s.free[buf.role] = append(s.free[buf.role], buf)
	s.mu.Unlock()
}

// scratchRef is one role of a backend's scratch store, as the loop bodies
// of parallel kernels hold it.
type scratchRef struct {
	be   *Backend
	role scratchRole
}

func (r scratchRef) get(n int) *gemmBuf { return r.be.scratch(r.role, n) }
func (r scratchRef) put(buf *gemmBuf)   { r.be.putScratch(buf) }

// alignFloats returns the n elements of raw (of at least n+scratchAlign)
// that start on a 64-byte boundary.
func alignFloats(raw []float32, n int) []float32 {
	off := int(uintptr(unsafe.Pointer(unsafe.SliceData(raw))) % 64 / 4)
	if off != 0 {
		off = scratchAlign - off
	}
	return raw[off : off+n]
}

// float64s returns the first n float64 values of buf's data (of at least
// 2n elements).
func (buf *gemmBuf) float64s(n int) []float64 {
	d := buf.data[:2*n]
	return unsafe.Slice((*float64)(unsafe.Pointer(unsafe.SliceData(d))), n)
}
