package vulkan

import (
	"fmt"
	"reflect"
	"time"
	"unsafe"

	"sargo/kernels/gpu"
)

// launch records one dispatch of the embedded shader shaders/<name>.spv
// (entry "main"). spec are specialization constants (constant_id i =
// spec[i], uint32 bit patterns); push points to a struct whose fields are
// all 4-byte (uint32, int32, float32), at most 128 bytes, sent as push
// constants in field order; groups is the workgroup count; bufs are bound
// as set 0, bindings 0..len(bufs)-1, each the whole storage (element
// offsets travel in push constants).
//
// A pipeline barrier precedes the dispatch only when a buffer it reads or
// writes was written earlier in the batch, or one it writes was read
// earlier. The batch is submitted when it reaches the batch limit.
// Pipelines are created on first use and cached per (name, spec). Errors
// become the backend's sticky error, after which launch does nothing.
func (b *Backend) launch(name string, spec []uint32, push any, groups [3]uint32, bufs ...gpu.Binding) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil || b.closed {
		return
	}
	start, waited := time.Now(), b.waitTime
	defer func() { b.count.LaunchTime += time.Since(start) - (b.waitTime - waited) }()
	if groups[0] == 0 || groups[1] == 0 || groups[2] == 0 {
		return
	}
	var pushPtr unsafe.Pointer
	var pushSize uintptr
	if push != nil {
		v := reflect.ValueOf(push)
		if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
			panic(fmt.Sprintf("vulkan: launch %s: push constants must be a pointer to a struct, got %T", name, push))
		}
		pushPtr, pushSize = v.UnsafePointer(), v.Elem().Type().Size()
		if pushSize > pushConstantBytes {
			panic(fmt.Sprintf("vulkan: launch %s: %d bytes of push constants exceed %d", name, pushSize, pushConstantBytes))
		}
	}
	if len(bufs) > maxBindings {
		panic(fmt.Sprintf("vulkan: launch %s: %d buffers exceed %d", name, len(bufs), maxBindings))
	}
	for i, g := range groups {
		if g > b.info.MaxWorkgroupCount[i] {
			b.fail(fmt.Errorf("vulkan: %s (groups %v): exceeds the device's maxComputeWorkGroupCount %v", name, groups, b.info.MaxWorkgroupCount))
			return
		}
	}
	var sts [maxBindings]*Buffer
	for i, a := range bufs {
		s := storage(a.Storage)
		if s.block == nil {
			return // a failed allocation; the sticky error is already set
		}
		sts[i] = s
	}
	f, err := b.current()
	if err != nil {
		b.fail(err)
		return
	}
	pl, created, err := b.pipes.get(name, spec, len(bufs))
	if err != nil {
		b.fail(fmt.Errorf("vulkan: %s (groups %v): %w", name, groups, err))
		return
	}
	if created {
		// A pipeline the validation layer rejects (for example, one whose
		// shader declares more bindings than were passed) must never run.
		b.pollMessages()
		if b.err != nil {
			return
		}
	}

	var acc [maxBindings]access
	for i, a := range bufs {
		acc[i] = access{sts[i], a.Write}
	}
	barrier := b.track(acc[:len(bufs)])
	st := b.stream
	x := &b.rec
	for i, s := range sts[:len(bufs)] {
		setBinding(x, i, s.block.buffer, s.offset, uint64(max(s.n, 1))*4)
	}
	var query uint32
	var queryPool uint64
	if b.prof != nil {
		query, queryPool = uint32(2*len(f.shaders)), f.h.queryPool
	}
	setDispatch(x, pl.handle, pl.layout, pl.setLayout, f.h.descPool, queryPool, query, barrier, len(bufs), pushSize, groups)
	if err := st.dev.record(f.h.cmd, x, pushPtr); err != nil {
		b.fail(fmt.Errorf("vulkan: record %s (groups %v): %w", name, groups, err))
		return
	}
	f.shaders = append(f.shaders, name)
	b.count.Dispatches++
	b.count.DescriptorSets++
	b.count.DescriptorWrites += uint64(len(bufs))
	if b.count.ByShader == nil {
		b.count.ByShader = map[string]uint64{}
	}
	b.count.ByShader[name]++
	if len(f.shaders)+f.copies >= b.batchLimit {
		b.flush()
	}
}

// access is one storage a recorded command reads or writes.
type access struct {
	s     *Buffer
	write bool
}

// track decides whether a command touching acc needs a barrier first: it
// does when it reads or writes a storage written since the last barrier,
// or writes one read since then. It then records the accesses in the
// current epoch and the current batch. The caller holds b.mu and has
// opened the batch.
func (b *Backend) track(acc []access) bool {
	st := b.stream
	barrier := false
	for _, a := range acc {
		if a.s.wEpoch == st.epoch || (a.write && a.s.rEpoch == st.epoch) {
			barrier = true
		}
	}
	if barrier {
		st.epoch++
		b.count.Barriers++
	}
	for _, a := range acc {
		if a.write {
			a.s.wEpoch = st.epoch
		} else {
			a.s.rEpoch = st.epoch
		}
		a.s.lastUse.Store(st.serial)
	}
	return barrier
}
