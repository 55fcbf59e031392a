package vulkan

import (
	"errors"
	"fmt"
	"os"

	vk "github.com/vulkan-go/vulkan"

	"sargo/tensor"
)

// Placement: which device memory storages live in, and the Backend's
// storage entry points (Alloc, Free, Write, Read and the counters). The
// sub-allocator under them is pool.go.

// MemoryMode is where storages live.
type MemoryMode int

const (
	// MemoryAuto chooses by device: MemoryMapped on unified-memory devices
	// (integrated GPUs, Apple GPUs, CPU drivers such as lavapipe),
	// MemoryDiscrete otherwise.
	MemoryAuto MemoryMode = iota
	// MemoryMapped keeps storages in device memory the host maps, so
	// Write and Read are memcpy. It is for devices whose memory is the
	// host's: on a discrete GPU the mapping would go through the PCIe BAR.
	MemoryMapped
	// MemoryDiscrete keeps storages in device-local memory the host does
	// not map; Write and Read go through host-visible staging buffers and
	// vkCmdCopyBuffer, read-backs into host-cached memory. It is the path
	// of discrete GPUs, and can be forced on any device
	// (SARGO_VULKAN_MEMORY=discrete) to test it.
	MemoryDiscrete
)

var memoryModeNames = [...]string{"auto", "mapped", "discrete"}

func (m MemoryMode) String() string { return memoryModeNames[m] }

// memoryModeFromEnv reads SARGO_VULKAN_MEMORY: unset, "auto", "mapped" or
// "discrete".
func memoryModeFromEnv() (MemoryMode, error) {
	v := os.Getenv("SARGO_VULKAN_MEMORY")
	if v == "" {
		return MemoryAuto, nil
	}
	for i, n := range memoryModeNames {
		if v == n {
			return MemoryMode(i), nil
		}
	}
	return 0, fmt.Errorf("SARGO_VULKAN_MEMORY=%q: want auto, mapped or discrete", v)
}

// unifiedMemory reports whether the device's memory is the host's: an
// integrated GPU (Apple GPUs under MoltenVK included) or a CPU driver.
func unifiedMemory(info DeviceInfo) bool { return info.Type == "integrated" || info.Type == "cpu" }

// chooseMemoryMode resolves want (MemoryAuto by the device) and refuses
// mapping a discrete GPU's memory.
func chooseMemoryMode(want MemoryMode, info DeviceInfo) (MemoryMode, error) {
	switch {
	case want == MemoryAuto && unifiedMemory(info):
		return MemoryMapped, nil
	case want == MemoryAuto:
		return MemoryDiscrete, nil
	case want == MemoryMapped && !unifiedMemory(info):
		return 0, fmt.Errorf("memory mode mapped is for unified-memory devices, and %s is a %s device (use auto or discrete)", info.Name, info.Type)
	}
	return want, nil
}

// poolKind selects the memory a pool allocates.
type poolKind int

const (
	// poolMapped: the storages of MemoryMapped, in host-mapped memory,
	// device-local first (on a unified-memory device all of it is the
	// host's).
	poolMapped poolKind = iota
	// poolDevice: the storages of MemoryDiscrete, in device-local memory
	// only: when it runs out, allocation fails rather than move storages
	// to system memory behind the bus.
	poolDevice
	// poolUpload: staging buffers for Write, host-visible and coherent,
	// system memory first.
	poolUpload
	// poolReadback: staging buffers for Read, host-cached first.
	poolReadback
)

var poolNames = [...]string{"mapped device memory", "device-local memory", "upload staging memory", "read-back staging memory"}

// candidateTypes lists the memory type indices a pool of the kind may
// allocate from, preferred first, among the types accepted (a bit mask)
// by storage buffers.
func candidateTypes(kind poolKind, types []memoryType, accepted uint32) []uint32 {
	const (
		local   = vk.MemoryPropertyDeviceLocalBit
		visible = vk.MemoryPropertyHostVisibleBit | vk.MemoryPropertyHostCoherentBit
		cached  = vk.MemoryPropertyHostCachedBit
	)
	type want struct{ has, lacks vk.MemoryPropertyFlagBits }
	var wants []want
	switch kind {
	case poolMapped:
		wants = []want{{local | visible, 0}, {visible, 0}}
	case poolDevice:
		wants = []want{{local, 0}}
	case poolUpload:
		wants = []want{{visible, local}, {visible, 0}}
	case poolReadback:
		wants = []want{{visible | cached, local}, {visible | cached, 0}, {visible, 0}}
	}
	var out []uint32
	for _, w := range wants {
		for i, t := range types {
			if accepted&(1<<i) != 0 && t.flags&w.has == w.has && t.flags&w.lacks == 0 && !contains(out, uint32(i)) {
				out = append(out, uint32(i))
			}
		}
	}
	return out
}

// placement lists the memory types the pools of mode allocate from, among
// the types accepted (a bit mask) by storage buffers.
func placement(mode MemoryMode, types []memoryType, accepted uint32) Placement {
	if mode == MemoryMapped {
		return Placement{Storages: candidateTypes(poolMapped, types, accepted)}
	}
	return Placement{
		Storages: candidateTypes(poolDevice, types, accepted),
		Upload:   candidateTypes(poolUpload, types, accepted),
		Readback: candidateTypes(poolReadback, types, accepted),
	}
}

// newKindPool makes a pool drawing from the memory of the kind.
func newKindPool(dev *device, info DeviceInfo, types []memoryType, kind poolKind, align uint64, accepted uint32) *pool {
	return newPool(dev, poolNames[kind], info, candidateTypes(kind, types, accepted), align, kind != poolDevice)
}

func contains(xs []uint32, x uint32) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

// heapOf returns the heap of the pool's preferred memory type, or -1.
func heapOf(p *pool, types []memoryType) int {
	if len(p.types) == 0 {
		return -1
	}
	return int(types[p.types[0]].heap)
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
		if errors.Is(err, errExhausted) {
			err = fmt.Errorf("alloc %d elements (%d bytes): %s: %w", n, int64(n)*4, b.budgetReport(), err)
		}
		b.fail(fmt.Errorf("vulkan: %w", err))
		return &Buffer{n: n}
	}
	return s
}

// Budget returns the size of the heap storages are allocated from, and,
// where the device has VK_EXT_memory_budget, how much of it this process
// may use and uses now (0 without the extension).
func (b *Backend) Budget() (heap, budget, usage uint64) {
	i := heapOf(b.pool, b.types)
	if i < 0 {
		return 0, 0, 0
	}
	size, bud, use := b.in.memoryBudget(b.pd, b.info.MemoryBudgetExt)
	if i >= len(size) {
		return 0, 0, 0
	}
	return size[i], bud[i], use[i]
}

// budgetReport describes the storage pool's memory for an allocation that
// failed: what sargo holds, and the heap's budget. The caller holds b.mu.
func (b *Backend) budgetReport() string {
	heap, budget, usage := b.Budget()
	msg := fmt.Sprintf("the pool holds %d MiB of %s", b.pool.stats.BytesReserved>>20, b.pool.name)
	if b.pool.limit > 0 {
		msg += fmt.Sprintf(" (limit %d MiB)", b.pool.limit>>20)
	}
	if budget > 0 {
		return msg + fmt.Sprintf("; the heap's budget is %d MiB of %d MiB, %d MiB in use (VK_EXT_memory_budget)", budget>>20, heap>>20, usage>>20)
	}
	return msg + fmt.Sprintf("; the heap has %d MiB (no VK_EXT_memory_budget)", heap>>20)
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
