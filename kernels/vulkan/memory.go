package vulkan

import (
	"fmt"
	"math/bits"
	"sync"
	"sync/atomic"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"

	"sargo/kernels/gpu"
	"sargo/tensor"
)

// Buffer is Vulkan storage: a range of one pooled block of host-mapped
// device memory, bound to shaders as a whole.
type Buffer struct {
	n      int    // elements
	block  *block // nil for the placeholder of a failed allocation
	offset uint64 // byte offset in the block, aligned for storage buffers
	size   uint64 // capacity in bytes (its size class)
	class  int

	lastUse atomic.Uint64 // serial of the last batch that used it
	wEpoch  uint64        // hazard epoch of its last write
	rEpoch  uint64        // hazard epoch of its last read
	freed   atomic.Bool
}

// Len is the number of float32 elements.
func (s *Buffer) Len() int { return s.n }

// bytes is the mapped host view of the storage's elements.
func (s *Buffer) floats() []float32 {
	return unsafe.Slice((*float32)(unsafe.Add(s.block.mapped, s.offset)), s.n)
}

// block is one VkDeviceMemory allocation with its VkBuffer, persistently
// mapped.
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
	PressureGCs       int    // garbage collections forced before growing the pool
}

// poolKind selects the memory a pool allocates.
type poolKind int

const (
	// poolDirect: device-local memory the host can map (integrated GPUs,
	// CPU drivers, resizable BAR); Write and Read are memcpy.
	poolDirect poolKind = iota
	// poolDevice: device-local memory the host cannot see; Write and Read
	// go through a staging pool and copy commands.
	poolDevice
	// poolStaging: host-visible memory for those copies.
	poolStaging
)

// pool sub-allocates storages from large blocks by power-of-two size
// class. A freed storage is reused only after the batch that last used it
// has completed.
type pool struct {
	dev       *device
	kind      poolKind
	mapped    bool
	blockSize uint64
	align     uint64
	maxRange  uint64
	maxAlloc  uint64
	types     []uint32 // candidate memory type indices, preferred first

	mu      sync.Mutex // guards the fields below; Free comes from finalizers
	blocks  []*block
	current *block // the block small classes are carved from
	free    map[int][]*Buffer
	pending []*Buffer
	stats   PoolStats
	sinceGC uint64 // bytes handed out since the last forced collection

	// relieve, when set, runs a garbage collection, waits for the
	// finalizers it queued and returns the highest completed batch serial;
	// alloc calls it without p.mu before asking the driver for a block.
	relieve  func() uint64
	released atomic.Uint64 // storages released so far (read while waiting for finalizers)
}

const (
	minClassBytes = 256
	maxBlockSize  = 64 << 20
)

func newPool(dev *device, info DeviceInfo, types []memoryType, kind poolKind) *pool {
	p := &pool{
		dev:      dev,
		kind:     kind,
		mapped:   kind != poolDevice,
		align:    max(info.MinStorageBufferOffsetAlignment, 16),
		maxRange: info.MaxStorageBufferRange,
		maxAlloc: info.MaxMemoryAllocationSize,
		free:     map[int][]*Buffer{},
	}
	if p.maxAlloc == 0 {
		p.maxAlloc = 1 << 30
	}
	p.blockSize = min(uint64(maxBlockSize), p.maxAlloc)
	const (
		local   = vk.MemoryPropertyDeviceLocalBit
		visible = vk.MemoryPropertyHostVisibleBit | vk.MemoryPropertyHostCoherentBit
		cached  = vk.MemoryPropertyHostCachedBit
	)
	var want []vk.MemoryPropertyFlagBits
	switch kind {
	case poolDirect:
		want = []vk.MemoryPropertyFlagBits{local | visible, visible}
	case poolDevice:
		want = []vk.MemoryPropertyFlagBits{local, 0}
	case poolStaging:
		want = []vk.MemoryPropertyFlagBits{visible | cached, visible}
	}
	for _, w := range want {
		for i, t := range types {
			if t.flags&w == w && !contains(p.types, uint32(i)) {
				p.types = append(p.types, uint32(i))
			}
		}
	}
	return p
}

// directMemory reports whether storages should live in host-mapped
// device-local memory: when a DEVICE_LOCAL|HOST_VISIBLE|HOST_COHERENT type
// exists on a heap at least half the size of the largest device-local heap
// (so not a 256 MiB BAR window of a discrete GPU).
func directMemory(info DeviceInfo, types []memoryType) bool {
	var largest uint64
	for _, h := range info.Heaps {
		if h.DeviceLocal {
			largest = max(largest, h.Size)
		}
	}
	want := vk.MemoryPropertyDeviceLocalBit | vk.MemoryPropertyHostVisibleBit | vk.MemoryPropertyHostCoherentBit
	for _, t := range types {
		if t.flags&want == want && int(t.heap) < len(info.Heaps) && info.Heaps[t.heap].Size >= largest/2 {
			return true
		}
	}
	return false
}

func contains(xs []uint32, x uint32) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

func sizeClass(bytes uint64) (int, uint64) {
	bytes = max(bytes, minClassBytes)
	c := bits.Len64(bytes - 1)
	return c, 1 << c
}

// newBlock allocates a block of size bytes from the first memory type that
// accepts it. The caller holds p.mu.
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

// reclaim moves freed storages whose last batch has completed to the free
// lists. The caller holds p.mu.
func (p *pool) reclaim(completed uint64) {
	keep := p.pending[:0]
	for _, s := range p.pending {
		if s.lastUse.Load() <= completed {
			p.free[s.class] = append(p.free[s.class], s)
			p.stats.Reusable++
		} else {
			keep = append(keep, s)
		}
	}
	for i := len(keep); i < len(p.pending); i++ {
		p.pending[i] = nil
	}
	p.pending = keep
	p.stats.Pending = len(keep)
}

// alloc returns a storage of n elements with undefined content.
func (p *pool) alloc(n int, completed uint64) (*Buffer, error) {
	bytes := uint64(max(n, 1)) * 4
	if bytes > p.maxRange {
		return nil, fmt.Errorf("alloc %d elements (%d bytes): exceeds the device's maxStorageBufferRange of %d bytes", n, bytes, p.maxRange)
	}
	if bytes > p.maxAlloc {
		return nil, fmt.Errorf("alloc %d elements (%d bytes): exceeds the device's maxMemoryAllocationSize of %d bytes", n, bytes, p.maxAlloc)
	}
	class, csize := sizeClass(bytes)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reclaim(completed)
	s := p.take(class, bytes)
	if s == nil && p.relieve != nil && p.grows(csize) && p.sinceGC >= p.blockSize/8 {
		// Device memory is invisible to Go's collector: tensors dropped
		// without Release may hold enough storage to serve this request.
		p.sinceGC = 0
		p.stats.PressureGCs++
		p.mu.Unlock()
		completed = p.relieve()
		p.mu.Lock()
		p.reclaim(completed)
		s = p.take(class, bytes)
	}
	if s == nil {
		var err error
		if s, err = p.carve(class, csize, bytes); err != nil {
			return nil, err
		}
	}
	s.n = n
	s.freed.Store(false)
	p.sinceGC += s.size
	p.stats.Live++
	p.stats.BytesInUse += s.size
	p.stats.HighWater = max(p.stats.HighWater, p.stats.BytesInUse)
	return s, nil
}

// take pops a reusable storage of the class. The caller holds p.mu.
func (p *pool) take(class int, bytes uint64) *Buffer {
	list := p.free[class]
	for i := len(list) - 1; i >= 0; i-- {
		if s := list[i]; s.size >= bytes {
			list[i] = list[len(list)-1]
			p.free[class] = list[:len(list)-1]
			p.stats.Reusable--
			s.wEpoch, s.rEpoch = 0, 0
			return s
		}
	}
	return nil
}

// grows reports whether carving a storage of class size csize needs a new
// block from the driver. The caller holds p.mu.
func (p *pool) grows(csize uint64) bool {
	return csize > p.blockSize/4 || p.current == nil || alignUp(p.current.used, p.align)+csize > p.current.size
}

// carve cuts a new storage of the class from the current block, or from a
// dedicated block when the class is large. The caller holds p.mu.
func (p *pool) carve(class int, csize, bytes uint64) (*Buffer, error) {
	if csize > p.blockSize/4 {
		size := csize
		if size > p.maxAlloc {
			size = alignUp(bytes, p.align) // a power of two would exceed the device limit
		}
		blk, err := p.newBlock(size)
		if err != nil {
			return nil, err
		}
		blk.used = size
		p.stats.BytesCarved += size
		return &Buffer{block: blk, size: size, class: class}, nil
	}
	if p.current == nil || alignUp(p.current.used, p.align)+csize > p.current.size {
		blk, err := p.newBlock(p.blockSize)
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

func alignUp(x, a uint64) uint64 { return (x + a - 1) / a * a }

// release queues s for reuse once its last batch completes.
func (p *pool) release(s *Buffer) {
	if s.block == nil || s.freed.Swap(true) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pending = append(p.pending, s)
	p.stats.Pending = len(p.pending)
	p.stats.Live--
	p.stats.BytesInUse -= s.size
	p.released.Add(1)
}

func (p *pool) snapshot() PoolStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// destroy frees every block. The device must be idle.
func (p *pool) destroy() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, blk := range p.blocks {
		p.dev.destroyBlock(blk.buffer, blk.memory, p.mapped)
	}
	p.blocks, p.current, p.pending = nil, nil, nil
	p.free = map[int][]*Buffer{}
}

// relievePressure is the pool's relieve function: it collects garbage so
// that the finalizers of unreachable tensors free their storage
// (gpu.CollectReleased), then waits for the batches that last used pending
// storages so that they become reusable. It returns the highest completed
// batch serial. It must be called without b.mu and without the pool's
// lock: finalizers take the latter.
func (b *Backend) relievePressure() uint64 {
	gpu.CollectReleased(b.pool.released.Load)
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed && b.pool.pendingLen() > 0 {
		b.flushAndWait()
	}
	return b.completed.Load()
}

// pendingLen is the number of freed storages waiting for their last batch.
func (p *pool) pendingLen() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.pending)
}

// Stats returns the memory pool's counters.
func (b *Backend) Stats() PoolStats {
	p := b.pool.snapshot()
	return p
}

// storage returns s as a Buffer of this backend.
func storage(s tensor.Storage) *Buffer {
	buf, ok := s.(*Buffer)
	if !ok {
		panic(fmt.Sprintf("vulkan: storage of type %T is not from a Vulkan backend", s))
	}
	return buf
}

// Alloc returns a zero-filled storage of n elements. A request the device
// cannot hold records a sticky error and returns a placeholder storage.
func (b *Backend) Alloc(n int) tensor.Storage {
	b.mu.Lock()
	if b.closed {
		b.fail(fmt.Errorf("vulkan: alloc %d elements: %s is closed", n, b.name))
		b.mu.Unlock()
		return &Buffer{n: n}
	}
	b.pollCompleted()
	b.mu.Unlock()
	s, err := b.pool.alloc(n, b.completed.Load())
	if err != nil {
		b.mu.Lock()
		b.fail(fmt.Errorf("vulkan: %w", err))
		b.mu.Unlock()
		return &Buffer{n: n}
	}
	if b.pool.mapped {
		clear(s.floats())
		return s
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.zeroFill(s)
	return s
}

// Free returns s to the pool; it becomes reusable once the work recorded
// so far has completed. Free is safe from any goroutine.
func (b *Backend) Free(s tensor.Storage) {
	b.pool.release(storage(s))
}

// Write copies src into s from element off. With mapped memory it waits
// for recorded work that still uses s, then copies; otherwise it records a
// copy from a staging buffer, ordered after that work.
func (b *Backend) Write(s tensor.Storage, off int, src []float32) {
	buf := storage(s)
	if off < 0 || off+len(src) > buf.n {
		panic(fmt.Sprintf("vulkan: Write of %d elements at %d into storage of %d", len(src), off, buf.n))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if buf.block == nil || b.closed || len(src) == 0 {
		return
	}
	if !b.pool.mapped {
		b.writeStaged(buf, off, src)
		return
	}
	if buf.lastUse.Load() > b.completed.Load() {
		b.flushAndWait()
	}
	copy(buf.floats()[off:], src)
}

// Read waits for the recorded work that touches s and copies len(dst)
// elements from element off into dst.
func (b *Backend) Read(s tensor.Storage, off int, dst []float32) error {
	buf := storage(s)
	if off < 0 || off+len(dst) > buf.n {
		return fmt.Errorf("vulkan: Read of %d elements at %d from storage of %d", len(dst), off, buf.n)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return b.closedErr()
	}
	if !b.pool.mapped {
		return b.readStaged(buf, off, dst)
	}
	if buf.lastUse.Load() > b.completed.Load() {
		b.flushAndWait()
	}
	b.pollMessages()
	if b.err != nil {
		return b.err
	}
	copy(dst, buf.floats()[off:])
	return nil
}
