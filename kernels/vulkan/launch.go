package vulkan

import (
	"fmt"
	"time"

	"sargo/kernels/gpu"
)

// launch records one dispatch of the embedded shader shaders/<d.Name>.spv
// (entry "main") with d's specialization constants, push constants (at
// most 128 bytes), workgroup count and bindings (set 0, bindings
// 0..NBuf-1, each the storage's own buffer over its elements; element
// offsets travel in push constants). A grid beyond the device's
// maxComputeWorkGroupCount is recorded as several dispatches (sg_dispatch).
//
// A pipeline barrier precedes the dispatch only when a buffer it reads or
// writes was written earlier in the batch, or one it writes was read
// earlier (every dispatch when profiling, so that timestamps time one
// dispatch each). The batch is submitted when it reaches the batch limit.
// Pipelines are created on first use and cached per (name, spec, binding
// count, required subgroup size); a pipeline is bound only when it
// differs from the one bound last in the batch. Bindings and push
// constants are pushed for every dispatch, the bindings through the
// layout's push descriptor update template where the device has one (one
// driver call, no write structures). Errors
// become the backend's sticky error, after which launch does nothing.
func (b *Backend) launch(d *gpu.Dispatch) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil || b.closed {
		return
	}
	start, waited := time.Now(), b.waitTime
	defer func() { b.count.LaunchTime += time.Since(start) - (b.waitTime - waited) }()
	groups, bufs := d.Groups, d.Bindings()
	if groups[0] == 0 || groups[1] == 0 || groups[2] == 0 {
		return
	}
	if d.PushSize > pushConstantBytes {
		panic(fmt.Sprintf("vulkan: launch %s: %d bytes of push constants exceed %d", d.Name, d.PushSize, pushConstantBytes))
	}
	var sts [maxBindings]*Buffer
	for i, a := range bufs {
		s := storage(a.Storage)
		if s.block == nil {
			return // a failed allocation; the sticky error is already set
		}
		sts[i] = s
	}
	pl, created, err := b.pipes.get(d.Name, d.SpecConstants(), len(bufs), d.Subgroup)
	if err != nil {
		b.fail(fmt.Errorf("vulkan: %s (groups %v): %w", d.Name, groups, err))
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
	x := &b.rec
	for i, s := range sts[:len(bufs)] {
		setBinding(x, i, s.buffer, 0, uint64(max(s.n, 1))*4)
	}
	var set uint64
	if b.sets != nil {
		// Before the batch is opened: emptying a full cache waits for the
		// device.
		if set, err = b.descriptorSet(pl.setLayout, len(bufs)); err != nil {
			b.fail(fmt.Errorf("vulkan: %s: %w", d.Name, err))
			return
		}
	} else {
		b.count.DescriptorWrites += uint64(len(bufs))
	}
	f, err := b.current()
	if err != nil {
		b.fail(err)
		return
	}
	var acc [maxBindings]access
	for i, a := range bufs {
		acc[i] = access{sts[i], a.Write}
	}
	timed := b.prof.active()
	if timed {
		b.stream.epoch++ // a barrier before every timed dispatch
	}
	barrier := b.track(acc[:len(bufs)]) || timed
	var query uint32
	var queryPool uint64
	if timed {
		query, queryPool = uint32(2*len(f.timed)), f.h.queryPool
		f.timed = append(f.timed, timedDispatch{name: d.Name, traced: b.prof.trace != nil})
	}
	bind := f.bound != pl.handle
	f.bound = pl.handle
	setDispatch(x, pl.handle, pl.layout, set, pl.tmpl, queryPool, query, barrier, bind, len(bufs), uintptr(d.PushSize), groups)
	setPush(x, d.Push[:d.PushSize])
	if err := b.stream.dev.record(f.h.cmd, x); err != nil {
		b.fail(fmt.Errorf("vulkan: record %s (groups %v): %w", d.Name, groups, err))
		return
	}
	f.shaders = append(f.shaders, d.Name)
	b.count.Dispatches++
	pl.dispatches++
	if t := b.prof.tracing(); t != nil {
		t.host(d.Name, start, map[string]any{"groups": groups, "bindings": len(bufs), "barrier": barrier})
	}
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
