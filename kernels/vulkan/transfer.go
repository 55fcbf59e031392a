package vulkan

import (
	"fmt"
	"math"

	"sargo/tensor"
)

// Transfers: fills, and, for storages the host cannot map
// (MemoryDiscrete), writes through upload staging buffers and reads
// through host-cached read-back buffers, recorded into the batch with the
// same hazard tracking as dispatches.

// Fill sets every element of dst to v: a vkCmdFillBuffer when dst is one
// contiguous range, else the fill shader. Fills with 0 count in MemStats.
func (b *Backend) Fill(dst tensor.View, v float32) {
	n := b.Kernels.FillRun(&b.mem, dst, v)
	if n == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.fill(storage(dst.Buf), dst.Offset, n, math.Float32bits(v))
}

// fill records setting n elements of s from element off to the 32-bit
// pattern bits (vkCmdFillBuffer). The caller holds b.mu.
func (b *Backend) fill(s *Buffer, off, n int, bits uint32) {
	if b.err != nil || b.closed || s.block == nil {
		return
	}
	f, err := b.current()
	if err != nil {
		b.fail(err)
		return
	}
	barrier := b.track([]access{{s, true}})
	b.stream.dev.fillBuffer(f.h.cmd, s.buffer, uint64(off)*4, uint64(n)*4, bits, barrier)
	b.count.Fills++
	b.countCopy(f)
}

// writeStaged copies src into a staging buffer and records a copy into
// buf at element off. The caller holds b.mu.
func (b *Backend) writeStaged(buf *Buffer, off int, src []float32) {
	if b.err != nil {
		return
	}
	st, err := b.upload.alloc(len(src), b.completed.Load(), b.waitIdle)
	if err != nil {
		b.fail(fmt.Errorf("vulkan: write %d elements: staging: %w", len(src), err))
		return
	}
	copy(st.floats(), src)
	b.recordCopy(st, 0, buf, off, len(src))
	b.upload.release(st) // reusable once the copy's batch completes
}

// readStaged records a copy of buf into a staging buffer, waits for it
// and copies the result into dst. The caller holds b.mu.
func (b *Backend) readStaged(buf *Buffer, off int, dst []float32) error {
	if b.err != nil {
		return b.err
	}
	if len(dst) == 0 {
		return nil
	}
	st, err := b.readback.alloc(len(dst), b.completed.Load(), b.waitIdle)
	if err != nil {
		err = fmt.Errorf("vulkan: read %d elements: staging: %w", len(dst), err)
		b.fail(err)
		return err
	}
	defer b.readback.release(st)
	b.recordCopy(buf, off, st, 0, len(dst))
	b.flushAndWait()
	b.pollMessages()
	if b.err != nil {
		return b.err
	}
	copy(dst, st.floats())
	return nil
}

// recordCopy records copying n elements from src at element so to dst at
// element do. The caller holds b.mu.
func (b *Backend) recordCopy(src *Buffer, so int, dst *Buffer, do int, n int) {
	f, err := b.current()
	if err != nil {
		b.fail(err)
		return
	}
	barrier := b.track([]access{{src, false}, {dst, true}})
	b.stream.dev.copyBuffer(f.h.cmd, src.buffer, uint64(so)*4, dst.buffer, uint64(do)*4, uint64(n)*4, barrier)
	b.count.Copies++
	b.countCopy(f)
}
