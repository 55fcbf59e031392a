package vulkan

import (
	"fmt"
	"strings"
	"time"
)

// frame is one command buffer in the ring: recorded, submitted, then
// waited for before it is recorded again.
type frame struct {
	h         frameHandles
	serial    uint64 // batch serial recorded into it
	inFlight  bool
	shaders   []string        // per dispatch, for the error message
	timed     []timedDispatch // dispatches with timestamps, in query order
	copies    int             // fills and copies recorded besides the dispatches
	bound     uint64          // the pipeline bound last in the batch, 0 at its start
	submitted time.Time
}

// stream records dispatches into a ring of frames.
type stream struct {
	dev       *device
	frames    []*frame
	cur       int  // the frame being recorded
	recording bool // frames[cur] has begun
	serial    uint64
	epoch     uint64 // hazard epoch: bumped at every barrier
	queries   uint32 // timestamp queries per frame, 0 without timestamps
}

const framesInFlight = 3

func newStream(dev *device, batchLimit int, profile bool) (*stream, error) {
	st := &stream{dev: dev, epoch: 1}
	if profile {
		st.queries = uint32(2 * batchLimit)
	}
	for range framesInFlight {
		h, err := dev.createFrame(st.queries)
		if err != nil {
			st.destroy()
			return nil, fmt.Errorf("create command buffers: %w", err)
		}
		st.frames = append(st.frames, &frame{h: h})
	}
	return st, nil
}

func (st *stream) destroy() {
	for _, f := range st.frames {
		st.dev.destroyFrame(f.h)
	}
	st.frames = nil
}

// current returns the frame being recorded, beginning a batch when none
// is open. The caller holds b.mu.
func (b *Backend) current() (*frame, error) {
	st := b.stream
	f := st.frames[st.cur]
	if st.recording {
		return f, nil
	}
	if f.inFlight {
		if err := b.waitFrame(f); err != nil {
			return nil, err
		}
	}
	if err := st.dev.begin(f.h, st.queries); err != nil {
		return nil, fmt.Errorf("vulkan: begin command buffer: %w", err)
	}
	st.serial++
	f.serial = st.serial
	f.shaders = f.shaders[:0]
	f.timed = f.timed[:0]
	f.copies = 0
	f.bound = 0
	st.recording = true
	st.epoch++ // sg_begin starts every batch with a full barrier
	return f, nil
}

// flush submits the open batch, if any, without waiting. The caller holds
// b.mu.
func (b *Backend) flush() {
	st := b.stream
	if !st.recording {
		return
	}
	f := st.frames[st.cur]
	st.recording = false
	st.cur = (st.cur + 1) % len(st.frames)
	var err error
	if b.faultLeft > 0 {
		b.faultLeft--
		if b.faultLeft == 0 {
			err = errDeviceLost
			st.dev.endUnsubmitted(f.h)
		}
	}
	if err == nil {
		f.submitted = time.Now()
		err = st.dev.submit(f.h)
		b.count.Submits++
		if b.prof != nil && b.prof.trace != nil {
			b.prof.trace.host("submit", f.submitted, map[string]any{"batch": f.serial, "dispatches": len(f.shaders)})
		}
	}
	if err != nil {
		b.fail(fmt.Errorf("vulkan: submit batch %d (%s): %w", f.serial, describeBatch(f.shaders), err))
		// The batch never runs: its storages are as good as complete.
		b.markCompleted(f.serial)
		return
	}
	f.inFlight = true
}

// describeBatch names the dispatches of a batch for an error message.
func describeBatch(shaders []string) string {
	if len(shaders) == 0 {
		return "no dispatches"
	}
	seen := map[string]bool{}
	var names []string
	for _, s := range shaders {
		if !seen[s] {
			seen[s] = true
			names = append(names, s)
		}
	}
	return fmt.Sprintf("%d dispatches: %s", len(shaders), strings.Join(names, ", "))
}

// waitFrame waits for an in-flight frame. The caller holds b.mu.
func (b *Backend) waitFrame(f *frame) error {
	if !f.inFlight {
		return nil
	}
	f.inFlight = false
	start := time.Now()
	err := b.stream.dev.wait(f.h)
	b.waitTime += time.Since(start)
	b.count.HostWaits++
	if err != nil {
		err = fmt.Errorf("vulkan: wait for batch %d (%s): %w", f.serial, describeBatch(f.shaders), err)
		b.fail(err)
		b.markCompleted(f.serial)
		return err
	}
	if b.prof != nil {
		b.collectTimes(f)
	}
	b.markCompleted(f.serial)
	b.checkStatus()
	return nil
}

func (b *Backend) markCompleted(serial uint64) {
	if serial > b.completed.Load() {
		b.completed.Store(serial)
	}
}

// flushAndWait submits the open batch and waits for every batch in
// flight. The caller holds b.mu.
func (b *Backend) flushAndWait() {
	b.flush()
	st := b.stream
	// Wait in submission order, oldest first.
	for i := range st.frames {
		f := st.frames[(st.cur+i)%len(st.frames)]
		b.waitFrame(f) //nolint:errcheck // recorded as the sticky error
	}
}

// pollCompleted retires, without blocking, every in-flight frame whose
// fence has signaled, so that freed storages become reusable sooner. The
// caller holds b.mu.
func (b *Backend) pollCompleted() {
	st := b.stream
	for i := range st.frames {
		f := st.frames[(st.cur+i)%len(st.frames)]
		if !f.inFlight {
			continue
		}
		if !st.dev.signaled(f.h) {
			return // later frames cannot have finished first
		}
		b.waitFrame(f) //nolint:errcheck // recorded as the sticky error
	}
}

// countCopy counts a recorded fill or copy toward the batch limit. The
// caller holds b.mu.
func (b *Backend) countCopy(f *frame) {
	f.copies++
	if len(f.shaders)+f.copies >= b.batchLimit {
		b.flush()
	}
}
