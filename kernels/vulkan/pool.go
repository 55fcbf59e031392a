package vulkan

import (
	"fmt"
	"slices"
	"sync/atomic"
	"unsafe"

	"sargo/kernels/internal/sizeclass"
)

// The pool: sub-allocation of storages from large VkDeviceMemory blocks by
// size class (package sizeclass: at most an eighth wasted). It knows
// nothing of which memory it draws from; memory.go chooses that
// (placement) and gives the pool its candidate memory types.

// Buffer is Vulkan storage: a range of one pooled block of device memory,
// bound to shaders as a whole.
type Buffer struct {
	n         int    // elements
	block     *block // nil for the placeholder of a failed allocation
	offset    uint64 // byte offset in the block, aligned for storage buffers
	size      uint64 // capacity in bytes (its size class)
	class     int
	dedicated bool // the only storage of its block

	lastUse atomic.Uint64 // serial of the last batch that used it
	wEpoch  uint64        // hazard epoch of its last write
	rEpoch  uint64        // hazard epoch of its last read
	freed   atomic.Bool
}

// Len is the number of float32 elements.
func (s *Buffer) Len() int { return s.n }

// floats is the mapped host view of the storage's elements.
func (s *Buffer) floats() []float32 {
	return unsafe.Slice((*float32)(unsafe.Add(s.block.mapped, s.offset)), s.n)
}

// block is one VkDeviceMemory allocation with its VkBuffer, persistently
// mapped when the pool's memory is host-visible.
type block struct {
	buffer, memory uint64
	mapped         unsafe.Pointer
	size           uint64
	used           uint64 // bump pointer for sub-allocation
}

// PoolStats are the memory pool's counters.
type PoolStats struct {
	DriverAllocations int    // VkDeviceMemory allocations made so far
	Blocks            int    // live VkDeviceMemory allocations
	BytesReserved     uint64 // bytes held from the driver
	BytesCarved       uint64 // bytes of blocks handed out to storages so far
	BytesInUse        uint64 // bytes of live storages (by size class)
	HighWater         uint64 // the most BytesInUse ever reached
	Live              int    // live storages
	Pending           int    // freed storages waiting for their last batch
	Reusable          int    // freed storages ready for reuse
	Waits             int    // times a request waited for pending storages instead of a new block
}

// pool sub-allocates storages from large blocks by size class. Classes up
// to a quarter of a block are carved from a shared block with a bump
// pointer; larger ones get a block of their own. A freed storage waits on
// the pending list until the batch that last used it has completed, then
// joins its class's free list; nothing is split or merged. The backend
// calls every method with its lock held.
type pool struct {
	dev       *device
	mapped    bool
	blockSize uint64
	align     uint64
	maxRange  uint64
	maxAlloc  uint64
	types     []uint32 // candidate memory type indices, preferred first

	blocks  []*block
	current *block      // the block small classes are carved from
	free    [][]*Buffer // reusable storages by class
	pending []*Buffer
	stats   PoolStats
}

const maxBlockSize = 64 << 20

func newPool(dev *device, info DeviceInfo, types []uint32, mapped bool) *pool {
	p := &pool{
		dev:      dev,
		mapped:   mapped,
		align:    max(info.MinStorageBufferOffsetAlignment, 16),
		maxRange: info.MaxStorageBufferRange,
		maxAlloc: info.MaxMemoryAllocationSize,
		types:    types,
	}
	if p.maxAlloc == 0 {
		p.maxAlloc = 1 << 30
	}
	p.blockSize = min(uint64(maxBlockSize), p.maxAlloc)
	return p
}

// newBlock allocates a block of size bytes from the first memory type that
// accepts it.
func (p *pool) newBlock(size uint64) (*block, error) {
	if len(p.types) == 0 {
		return nil, fmt.Errorf("device has no suitable memory type")
	}
	var firstErr error
	for _, t := range p.types {
		buf, mem, mapped, err := p.dev.createBlock(size, t, p.mapped)
		if err == nil {
			blk := &block{buffer: buf, memory: mem, mapped: mapped, size: size}
			p.blocks = append(p.blocks, blk)
			p.stats.DriverAllocations++
			p.stats.Blocks++
			p.stats.BytesReserved += size
			return blk, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, fmt.Errorf("allocate %d bytes of device memory: %w", size, firstErr)
}

// destroyBlock gives blk back to the driver.
func (p *pool) destroyBlock(blk *block) {
	p.dev.destroyBlock(blk.buffer, blk.memory, p.mapped)
	p.blocks = slices.DeleteFunc(p.blocks, func(b *block) bool { return b == blk })
	p.stats.Blocks--
	p.stats.BytesReserved -= blk.size
}

// reclaim moves freed storages whose last batch has completed to the free
// lists.
func (p *pool) reclaim(completed uint64) {
	keep := p.pending[:0]
	for _, s := range p.pending {
		if s.lastUse.Load() <= completed {
			for len(p.free) <= s.class {
				p.free = append(p.free, nil)
			}
			p.free[s.class] = append(p.free[s.class], s)
			p.stats.Reusable++
		} else {
			keep = append(keep, s)
		}
	}
	clear(p.pending[len(keep):])
	p.pending = keep
	p.stats.Pending = len(keep)
}

// alloc returns a storage of n elements with undefined content. When no
// freed storage of the class is reusable, some are pending and a new
// storage would need a new block from the driver, it first calls wait,
// which waits for the recorded work and returns the highest completed
// batch serial.
func (p *pool) alloc(n int, completed uint64, wait func() uint64) (*Buffer, error) {
	bytes := uint64(max(n, 1)) * 4
	if bytes > p.maxRange {
		return nil, fmt.Errorf("alloc %d elements (%d bytes): exceeds the device's maxStorageBufferRange of %d bytes", n, bytes, p.maxRange)
	}
	if bytes > p.maxAlloc {
		return nil, fmt.Errorf("alloc %d elements (%d bytes): exceeds the device's maxMemoryAllocationSize of %d bytes", n, bytes, p.maxAlloc)
	}
	class, csize := sizeclass.Of(bytes)
	p.reclaim(completed)
	s := p.take(class)
	if s == nil && !p.fits(csize) && p.pendingOf(class) {
		p.stats.Waits++
		p.reclaim(wait())
		s = p.take(class)
	}
	if s == nil {
		var err error
		if s, err = p.carve(class, csize, bytes); err != nil {
			return nil, err
		}
	}
	s.n = n
	s.freed.Store(false)
	p.stats.Live++
	p.stats.BytesInUse += s.size
	p.stats.HighWater = max(p.stats.HighWater, p.stats.BytesInUse)
	return s, nil
}

// fits reports whether a new storage of class size csize can be carved
// from the current block, without asking the driver.
func (p *pool) fits(csize uint64) bool {
	return csize <= p.blockSize/4 && p.current != nil && alignUp(p.current.used, p.align)+csize <= p.current.size
}

// pendingOf reports whether a freed storage of the class waits for its
// batch.
func (p *pool) pendingOf(class int) bool {
	for _, s := range p.pending {
		if s.class == class {
			return true
		}
	}
	return false
}

// take pops a reusable storage of the class.
func (p *pool) take(class int) *Buffer {
	if class >= len(p.free) || len(p.free[class]) == 0 {
		return nil
	}
	list := p.free[class]
	s := list[len(list)-1]
	list[len(list)-1] = nil
	p.free[class] = list[:len(list)-1]
	p.stats.Reusable--
	s.wEpoch, s.rEpoch = 0, 0
	return s
}

// carve cuts a new storage of the class from the current block, or from a
// dedicated block when the class is large. When the driver refuses a
// block, the reusable dedicated blocks are given back and it asks again.
func (p *pool) carve(class int, csize, bytes uint64) (*Buffer, error) {
	if csize > p.blockSize/4 {
		size := csize
		if size > p.maxAlloc {
			size = alignUp(bytes, p.align) // the class would exceed the device limit
		}
		blk, err := p.newBlock(size)
		if err != nil && p.trim() {
			blk, err = p.newBlock(size)
		}
		if err != nil {
			return nil, err
		}
		blk.used = size
		p.stats.BytesCarved += size
		return &Buffer{block: blk, size: size, class: class, dedicated: true}, nil
	}
	if !p.fits(csize) {
		blk, err := p.newBlock(p.blockSize)
		if err != nil && p.trim() {
			blk, err = p.newBlock(p.blockSize)
		}
		if err != nil {
			return nil, err
		}
		p.current = blk
	}
	off := alignUp(p.current.used, p.align)
	p.current.used = off + csize
	p.stats.BytesCarved += csize
	return &Buffer{block: p.current, offset: off, size: csize, class: class}, nil
}

// trim gives the blocks of reusable dedicated storages back to the driver
// and reports whether there were any.
func (p *pool) trim() bool {
	trimmed := false
	for c, list := range p.free {
		kept := list[:0]
		for _, s := range list {
			if !s.dedicated {
				kept = append(kept, s)
				continue
			}
			p.destroyBlock(s.block)
			p.stats.Reusable--
			trimmed = true
		}
		clear(list[len(kept):])
		p.free[c] = kept
	}
	return trimmed
}

func alignUp(x, a uint64) uint64 { return (x + a - 1) / a * a }

// release queues s for reuse once its last batch completes.
func (p *pool) release(s *Buffer) {
	if s.block == nil || s.freed.Swap(true) {
		return
	}
	p.pending = append(p.pending, s)
	p.stats.Pending = len(p.pending)
	p.stats.Live--
	p.stats.BytesInUse -= s.size
}

// destroy frees every block. The device must be idle.
func (p *pool) destroy() {
	for _, blk := range p.blocks {
		p.dev.destroyBlock(blk.buffer, blk.memory, p.mapped)
	}
	p.blocks, p.current, p.pending, p.free = nil, nil, nil, nil
}
