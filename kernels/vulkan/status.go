package vulkan

import (
	"cmp"
	"fmt"
	"unsafe"

	"sargo/kernels/gpu"
	"sargo/tensor"
)

// The status storage: a few words of host-visible, coherent memory that
// shaders write when they find bad input (kernels/gpu's id checks), read
// by the host whenever a batch completes. It lives in a small block of its
// own, outside the pools, so that reading it never needs a copy.

// newStatus allocates the status storage, zeroed.
func newStatus(dev *device, types []memoryType, accepted uint32) (*Buffer, error) {
	size := uint64(gpu.StatusWords * 4)
	var firstErr error
	for _, t := range candidateTypes(poolUpload, types, accepted) {
		mem, mapped, err := dev.createMemory(size, t, true)
		if err != nil {
			firstErr = cmp.Or(firstErr, err)
			continue
		}
		blk := &block{memory: mem, memType: t, mapped: mapped, size: size, used: size}
		buf, err := dev.createBuffer(mem, t, 0, size)
		if err != nil {
			dev.destroyMemory(mem, true)
			firstErr = cmp.Or(firstErr, err)
			continue
		}
		blk.buffers = []uint64{buf}
		s := &Buffer{n: gpu.StatusWords, block: blk, buffer: buf, size: size}
		clear(s.words())
		return s, nil
	}
	if firstErr == nil {
		firstErr = fmt.Errorf("no host-visible memory type")
	}
	return nil, fmt.Errorf("allocate the status storage: %w", firstErr)
}

// words is the mapped view of the status storage.
func (s *Buffer) words() []uint32 {
	return unsafe.Slice((*uint32)(unsafe.Add(s.block.mapped, s.offset)), s.n)
}

// statusStorage is the status storage (gpu.Device.Status).
func (b *Backend) statusStorage() tensor.Storage { return b.status }

// checkStatus turns what shaders recorded in the status storage into the
// sticky error. The caller holds b.mu and has waited for the batches that
// wrote it.
func (b *Backend) checkStatus() {
	if b.err != nil || b.status == nil {
		return
	}
	var w [gpu.StatusWords]uint32
	copy(w[:], b.status.words())
	if err := gpu.StatusError(w); err != nil {
		b.fail(fmt.Errorf("vulkan: %w", err))
	}
}

// destroyStatus frees the status storage's block.
func (b *Backend) destroyStatus() {
	if b.status != nil {
		b.dev.destroyBuffer(b.status.buffer)
		b.dev.destroyMemory(b.status.block.memory, true)
		b.status = nil
	}
}
