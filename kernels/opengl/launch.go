//go:build opengl && cgo

package opengl

import (
	"fmt"
	"reflect"
	"slices"
	"unsafe"

	"sargo/kernels/gpu"
)

// launch records one dispatch (see gpu.Dispatch). The push-constant struct
// is laid out by std140 rules into the batch's uniform data; storages are
// bound at their binding index over exactly their elements.
//
// A glMemoryBarrier precedes the dispatch only when a storage it reads or
// writes was written by a shader since the last barrier, or one it writes
// was read since then. The batch goes to the GL thread when it reaches the
// batch limit. Programs are built on first use and cached per (name,
// spec). Errors become the backend's sticky error, after which launch
// does nothing.
func (b *Backend) launch(d *gpu.Dispatch) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed || b.stopped() {
		return
	}
	name, spec, groups, bufs := d.Name, d.SpecConstants(), d.Groups, d.Bindings()
	if groups[0] == 0 || groups[1] == 0 || groups[2] == 0 {
		return
	}
	var layout *pushLayout
	if d.PushType != nil && d.PushSize > 0 {
		layout = b.pushLayout(name, d.PushType)
	}
	if len(bufs) > maxBindings {
		panic(fmt.Sprintf("opengl: launch %s: %d buffers exceed %d", name, len(bufs), maxBindings))
	}
	if len(bufs) > int(b.info.MaxStorageBlocks) {
		b.fail(fmt.Errorf("opengl: %s binds %d storage buffers; the driver allows %d per compute shader (GL_MAX_COMPUTE_SHADER_STORAGE_BLOCKS)",
			name, len(bufs), b.info.MaxStorageBlocks))
		return
	}
	for i, g := range groups {
		if g > b.info.MaxWorkgroupCount[i] {
			b.fail(fmt.Errorf("opengl: %s (groups %v): exceeds the driver's GL_MAX_COMPUTE_WORK_GROUP_COUNT %v", name, groups, b.info.MaxWorkgroupCount))
			return
		}
	}
	var sts [maxBindings]*Buffer
	for i, a := range bufs {
		s := storage(a.Storage)
		if s.bytes == 0 {
			return // a failed allocation; the sticky error is already set
		}
		sts[i] = s
		if s == b.status {
			b.statusPending = true
		}
	}
	prog, err := b.program(name, spec, layout)
	if err != nil {
		b.fail(fmt.Errorf("opengl: %s (groups %v): %w", name, groups, err))
		return
	}
	barrier := b.track(sts[:len(bufs)], bufs)
	c := b.record(cmdDispatch)
	c.prog, c.groups, c.barrier, c.nbuf = prog, groups, barrier, uint8(len(bufs))
	for i, s := range sts[:len(bufs)] {
		c.bufs[i], c.sizes[i] = s, int32(s.rangeBytes())
	}
	if layout != nil {
		off := alignUp(len(b.cur.push), b.pushAlign)
		need := off + layout.size
		b.cur.push = slices.Grow(b.cur.push, need-len(b.cur.push))[:need]
		layout.pack(b.cur.push[off:], unsafe.Pointer(&d.Push[0]))
		c.push, c.pushLen = off, layout.size
	}
	b.counts.dispatches++
	b.submitIfFull()
}

// pushLayout returns the std140 layout of a push-constant struct type,
// cached per type. A type that cannot be laid out is a programming error.
func (b *Backend) pushLayout(name string, t reflect.Type) *pushLayout {
	if l, ok := b.layouts[t]; ok {
		return l
	}
	l, err := std140Layout(t)
	if err != nil {
		panic(fmt.Sprintf("opengl: launch %s: %v", name, err))
	}
	b.layouts[t] = l
	return l
}

// track decides whether a dispatch touching sts needs a barrier first: it
// does when it reads or writes a storage a shader wrote since the last
// barrier, or writes one a shader read since then. It then records the
// accesses in the current epoch. The caller holds b.mu.
func (b *Backend) track(sts []*Buffer, bufs []gpu.Binding) bool {
	barrier := false
	for i, s := range sts {
		if s.wEpoch == b.epoch || (bufs[i].Write && s.rEpoch == b.epoch) {
			barrier = true
		}
	}
	if barrier {
		b.newEpoch()
	}
	for i, s := range sts {
		if bufs[i].Write {
			s.wEpoch = b.epoch
		} else {
			s.rEpoch = b.epoch
		}
	}
	return barrier
}

// trackTransfer decides whether a transfer (clear, write, read) of s
// needs a barrier first: only when a shader wrote s since the last one.
// Shader accesses after a transfer, and transfers after shader reads, are
// ordered by OpenGL itself. The caller holds b.mu.
func (b *Backend) trackTransfer(s *Buffer) bool {
	if s.wEpoch != b.epoch {
		return false
	}
	b.newEpoch()
	return true
}

// newEpoch starts a hazard epoch: a barrier is recorded.
func (b *Backend) newEpoch() {
	b.epoch++
	b.counts.barriers++
}

// record appends a command to the open batch and returns it. The caller
// holds b.mu.
func (b *Backend) record(kind cmdKind) *command {
	bt := b.cur
	bt.cmds = append(bt.cmds, command{kind: kind})
	return &bt.cmds[len(bt.cmds)-1]
}

// submitIfFull sends the open batch when it reaches the batch limit.
func (b *Backend) submitIfFull() {
	if len(b.cur.cmds) >= b.batchLimit {
		b.submit()
	}
}

// submit sends the open batch, if it has commands, to the GL thread and
// opens the next one; it waits only when every batch is in flight. The
// caller holds b.mu.
func (b *Backend) submit() {
	if len(b.cur.cmds) == 0 {
		return
	}
	b.counts.batches++
	b.cur.serial = b.counts.batches
	b.th.reqs <- request{bt: b.cur}
	b.cur = <-b.free
}

// submitAndWait sends the open batch and waits until the GL thread has run
// everything sent so far. The caller holds b.mu.
func (b *Backend) submitAndWait() {
	b.submit()
	b.th.reqs <- request{done: b.wait}
	<-b.wait
}
