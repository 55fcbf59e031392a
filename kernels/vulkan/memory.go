package vulkan

import (
	"fmt"

	vk "github.com/vulkan-go/vulkan"

	"sargo/tensor"
)

// Placement: which device memory storages live in, and the Backend's
// storage entry points (Alloc, Free, Write, Read and the counters). The
// sub-allocator under them is pool.go.

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

// candidateTypes lists the memory type indices a pool of the kind may
// allocate from, preferred first.
func candidateTypes(kind poolKind, types []memoryType) []uint32 {
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
	var out []uint32
	for _, w := range want {
		for i, t := range types {
			if t.flags&w == w && !contains(out, uint32(i)) {
				out = append(out, uint32(i))
			}
		}
	}
	return out
}

// newKindPool makes a pool drawing from the memory of the kind.
func newKindPool(dev *device, info DeviceInfo, types []memoryType, kind poolKind) *pool {
	return newPool(dev, info, candidateTypes(kind, types), kind != poolDevice)
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

// Stats returns the memory pool's counters.
func (b *Backend) Stats() PoolStats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.pool.stats
}

// MemStats returns the storage counters; ReservedBytes is the device
// memory the pool holds from the driver.
func (b *Backend) MemStats() tensor.MemStats {
	m := b.mem.Stats()
	b.mu.Lock()
	m.ReservedBytes = int64(b.pool.stats.BytesReserved)
	b.mu.Unlock()
	return m
}

// ResetPeak restarts MemStats' PeakBytes from the live bytes.
func (b *Backend) ResetPeak() { b.mem.ResetPeak() }

// storage returns s as a Buffer of this backend.
func storage(s tensor.Storage) *Buffer {
	buf, ok := s.(*Buffer)
	if !ok {
		panic(fmt.Sprintf("vulkan: storage of type %T is not from a Vulkan backend", s))
	}
	return buf
}

// Alloc returns a storage of n elements with undefined content. When the
// pool would need a new block while freed storages of the size wait for
// their batches, it waits for the device instead. A request the device
// cannot hold records a sticky error and returns a placeholder storage.
func (b *Backend) Alloc(n int) tensor.Storage {
	b.mem.Alloc(int64(n) * 4)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		b.fail(fmt.Errorf("vulkan: alloc %d elements: %s is closed", n, b.name))
		return &Buffer{n: n}
	}
	b.pollCompleted()
	s, err := b.pool.alloc(n, b.completed.Load(), b.waitIdle)
	if err != nil {
		b.fail(fmt.Errorf("vulkan: %w", err))
		return &Buffer{n: n}
	}
	return s
}

// waitIdle waits for every recorded batch and returns the highest
// completed serial. The caller holds b.mu.
func (b *Backend) waitIdle() uint64 {
	b.flushAndWait()
	return b.completed.Load()
}

// Free returns s to the pool; it becomes reusable once the work recorded
// so far has completed.
func (b *Backend) Free(s tensor.Storage) {
	buf := storage(s)
	b.mem.Free(int64(buf.n) * 4)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pool.release(buf)
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
