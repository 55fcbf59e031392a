//go:build opengl && cgo

package opengl

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/go-gl/gl/v4.3-core/gl"

	"sargo/kernels/internal/gltranslate"
)

// maxBindings is the most storage buffers one dispatch may bind.
const maxBindings = 16

// cmdKind is what a recorded command does.
type cmdKind uint8

const (
	cmdDispatch cmdKind = iota // glDispatchCompute
	cmdCreate                  // a buffer object for a new storage
	cmdFill                    // set a range of a storage to one value (glClearBufferSubData)
	cmdUpload                  // host data into a storage (glBufferSubData)
	cmdDownload                // a storage into host memory (glGetBufferSubData)
)

// command is one recorded GL operation.
type command struct {
	kind    cmdKind
	barrier bool // glMemoryBarrier first
	nbuf    uint8
	groups  [3]uint32
	prog    *program
	bufs    [maxBindings]*Buffer
	sizes   [maxBindings]int32 // bytes bound of each, fixed when recorded
	push    int                // byte offset of the std140 push constants in batch.push
	pushLen int                // their length; 0 for none

	buf   *Buffer   // the transfer's storage
	off   int       // its first element
	n     int       // its element count
	bits  uint32    // fill: the value's bit pattern
	arena int       // upload: first element in batch.floats, or -1 for data
	data  []float32 // upload source or download destination owned by a waiting caller
}

// batch is a run of commands recorded on the caller's goroutine and
// executed, in order, on the GL thread.
type batch struct {
	serial uint64
	cmds   []command
	push   []byte    // push constants of the dispatches, std140
	floats []float32 // host data of small uploads
}

// reset empties the batch for reuse, dropping its references.
func (bt *batch) reset() {
	clear(bt.cmds)
	bt.cmds = bt.cmds[:0]
	bt.push = bt.push[:0]
	bt.floats = bt.floats[:0]
}

// describe names the programs of a batch for an error message.
func (bt *batch) describe() string {
	seen := map[string]bool{}
	var names []string
	dispatches, other := 0, 0
	for i := range bt.cmds {
		c := &bt.cmds[i]
		if c.kind != cmdDispatch {
			other++
			continue
		}
		dispatches++
		if !seen[c.prog.name] {
			seen[c.prog.name] = true
			names = append(names, c.prog.name)
		}
	}
	return fmt.Sprintf("%d dispatches: %s; %d transfers", dispatches, strings.Join(names, ", "), other)
}

// binding is the range bound at one storage-buffer index.
type binding struct {
	id    uint32
	bytes int
}

// glState is what the GL thread owns: the context's objects and the
// current bindings. Only err and messages are shared, behind mu.
type glState struct {
	debug    bool
	pushBuf  uint32
	prog     uint32
	bound    [maxBindings]binding
	logBuf   []uint8
	buffers  map[*Buffer]bool // every buffer object created, for Close
	programs []uint32

	failed   atomic.Bool
	mu       sync.Mutex
	err      error
	messages []string
}

func newGLState(debug bool) *glState {
	s := &glState{debug: debug, buffers: map[*Buffer]bool{}}
	if debug {
		gl.Enable(gl.DEBUG_OUTPUT)
		gl.Enable(gl.DEBUG_OUTPUT_SYNCHRONOUS)
		gl.DebugMessageControl(gl.DONT_CARE, gl.DONT_CARE, gl.DONT_CARE, 0, nil, true)
		s.logBuf = make([]uint8, 16<<10)
	}
	gl.GenBuffers(1, &s.pushBuf)
	return s
}

// fail records err as the first error; later batches do nothing.
func (s *glState) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
	s.failed.Store(true)
}

// takeErr returns the first error.
func (s *glState) firstErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// debugMessages returns every KHR_debug message collected so far.
func (s *glState) debugMessages() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.messages...)
}

// pollDebug drains the context's debug message log; each message is kept,
// and the first becomes the error, attributed to what ran before it.
func (s *glState) pollDebug(after func() string) {
	if !s.debug {
		return
	}
	for {
		var source, typ, id, severity uint32
		var length int32
		n := gl.GetDebugMessageLog(1, int32(len(s.logBuf)), &source, &typ, &id, &severity, &length, &s.logBuf[0])
		if n == 0 {
			return
		}
		if severity == gl.DEBUG_SEVERITY_NOTIFICATION {
			continue
		}
		msg := fmt.Sprintf("%s (%s, %s): %s", enumName(debugTypes, typ, "other"), enumName(debugSeverities, severity, "notification"),
			enumName(debugSources, source, "other"),
			strings.TrimRight(string(s.logBuf[:max(length-1, 0)]), "\x00\n"))
		s.mu.Lock()
		s.messages = append(s.messages, msg)
		s.mu.Unlock()
		s.fail(fmt.Errorf("opengl: KHR_debug after %s: %s", after(), msg))
	}
}

// checkError turns a pending glGetError into the error (used when debug
// output is off; with it on, errors arrive as debug messages).
func (s *glState) checkError(after func() string) {
	if e := gl.GetError(); e != gl.NO_ERROR {
		s.fail(fmt.Errorf("opengl: %s after %s", glErrorName(e), after()))
	}
}

// run executes a batch.
func (s *glState) run(bt *batch) {
	if s.failed.Load() {
		return
	}
	if len(bt.push) > 0 {
		// One upload per batch; the data store is orphaned each time, so
		// the driver never waits for dispatches still reading the last one.
		gl.BindBuffer(gl.UNIFORM_BUFFER, s.pushBuf)
		gl.BufferData(gl.UNIFORM_BUFFER, len(bt.push), unsafe.Pointer(&bt.push[0]), gl.STREAM_DRAW)
	}
	for i := range bt.cmds {
		c := &bt.cmds[i]
		s.exec(bt, c)
		if s.debug {
			s.pollDebug(func() string { return fmt.Sprintf("%s in batch %d", c.describe(), bt.serial) })
		}
		if s.failed.Load() {
			return
		}
	}
	if !s.debug {
		s.checkError(func() string { return fmt.Sprintf("batch %d (%s)", bt.serial, bt.describe()) })
	}
}

// describe names a command for an error message.
func (c *command) describe() string {
	switch c.kind {
	case cmdDispatch:
		return fmt.Sprintf("dispatch %s (groups %v)", c.prog.describe(), c.groups)
	case cmdCreate:
		return fmt.Sprintf("creating a buffer of %d bytes", c.buf.bytes)
	case cmdFill:
		return fmt.Sprintf("filling %d elements at %d", c.n, c.off)
	case cmdUpload:
		return fmt.Sprintf("writing %d elements at %d", c.n, c.off)
	}
	return fmt.Sprintf("reading %d elements at %d", c.n, c.off)
}

// exec runs one command.
func (s *glState) exec(bt *batch, c *command) {
	if c.barrier {
		gl.MemoryBarrier(gl.SHADER_STORAGE_BARRIER_BIT | gl.BUFFER_UPDATE_BARRIER_BIT)
	}
	switch c.kind {
	case cmdDispatch:
		if s.prog != c.prog.id {
			gl.UseProgram(c.prog.id)
			s.prog = c.prog.id
		}
		for i, b := range c.bufs[:c.nbuf] {
			bb := binding{b.id, int(c.sizes[i])}
			if s.bound[i] != bb {
				gl.BindBufferRange(gl.SHADER_STORAGE_BUFFER, uint32(i), bb.id, 0, bb.bytes)
				s.bound[i] = bb
			}
		}
		if c.pushLen > 0 {
			gl.BindBufferRange(gl.UNIFORM_BUFFER, gltranslate.PushBinding, s.pushBuf, c.push, c.pushLen)
		}
		gl.DispatchCompute(c.groups[0], c.groups[1], c.groups[2])
	case cmdCreate:
		gl.GenBuffers(1, &c.buf.id)
		gl.BindBuffer(gl.COPY_WRITE_BUFFER, c.buf.id)
		gl.BufferData(gl.COPY_WRITE_BUFFER, c.buf.bytes, nil, gl.DYNAMIC_COPY)
		s.buffers[c.buf] = true
		if e := gl.GetError(); e != gl.NO_ERROR {
			s.fail(fmt.Errorf("opengl: allocate a buffer of %d bytes: %s", c.buf.bytes, glErrorName(e)))
		}
	case cmdFill:
		bits := c.bits // cgo takes no pointer into the command slice, which holds Go pointers
		gl.BindBuffer(gl.COPY_WRITE_BUFFER, c.buf.id)
		gl.ClearBufferSubData(gl.COPY_WRITE_BUFFER, gl.R32UI, 4*c.off, 4*c.n, gl.RED_INTEGER, gl.UNSIGNED_INT, unsafe.Pointer(&bits))
	case cmdUpload:
		src := c.data
		if c.arena >= 0 {
			src = bt.floats[c.arena : c.arena+c.n]
		}
		gl.BindBuffer(gl.COPY_WRITE_BUFFER, c.buf.id)
		gl.BufferSubData(gl.COPY_WRITE_BUFFER, 4*c.off, 4*c.n, unsafe.Pointer(&src[0]))
	case cmdDownload:
		gl.BindBuffer(gl.COPY_READ_BUFFER, c.buf.id)
		gl.GetBufferSubData(gl.COPY_READ_BUFFER, 4*c.off, 4*c.n, unsafe.Pointer(&c.data[0]))
	}
}

// finish waits for the context's work (glFinish) and checks for errors.
func (s *glState) finish() {
	gl.Finish()
	if s.debug {
		s.pollDebug(func() string { return "glFinish" })
	} else {
		s.checkError(func() string { return "glFinish" })
	}
}

// destroy deletes every object the state created. The thread's context
// is released afterwards.
func (s *glState) destroy() {
	for b := range s.buffers {
		gl.DeleteBuffers(1, &b.id)
	}
	s.buffers = nil
	for _, p := range s.programs {
		gl.DeleteProgram(p)
	}
	s.programs = nil
	gl.DeleteBuffers(1, &s.pushBuf)
	gl.Finish()
}

// Names of the KHR_debug enums, for messages.
var (
	debugTypes = map[uint32]string{gl.DEBUG_TYPE_ERROR: "error", gl.DEBUG_TYPE_DEPRECATED_BEHAVIOR: "deprecated behavior",
		gl.DEBUG_TYPE_UNDEFINED_BEHAVIOR: "undefined behavior", gl.DEBUG_TYPE_PORTABILITY: "portability",
		gl.DEBUG_TYPE_PERFORMANCE: "performance", gl.DEBUG_TYPE_MARKER: "marker"}
	debugSeverities = map[uint32]string{gl.DEBUG_SEVERITY_HIGH: "high", gl.DEBUG_SEVERITY_MEDIUM: "medium",
		gl.DEBUG_SEVERITY_LOW: "low"}
	debugSources = map[uint32]string{gl.DEBUG_SOURCE_API: "API", gl.DEBUG_SOURCE_SHADER_COMPILER: "shader compiler",
		gl.DEBUG_SOURCE_WINDOW_SYSTEM: "window system", gl.DEBUG_SOURCE_THIRD_PARTY: "third party",
		gl.DEBUG_SOURCE_APPLICATION: "application"}
)

// enumName is names[v], or other when v has no name there.
func enumName(names map[uint32]string, v uint32, other string) string {
	if n, ok := names[v]; ok {
		return n
	}
	return other
}
