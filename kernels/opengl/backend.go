//go:build opengl && cgo

package opengl

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sync"

	"sargo/kernels/gpu"
	"sargo/tensor"
)

// Built reports whether this binary has the OpenGL backend.
const Built = true

func init() {
	tensor.Register("opengl", func(index int) (tensor.Backend, error) {
		return Open(index, Options{})
	})
}

// Options configure a backend beyond what the environment says.
type Options struct {
	// Debug turns on KHR_debug output, synchronous, and makes any message
	// the sticky error; also enabled by SARGO_OPENGL_DEBUG=1.
	Debug bool
	// BatchLimit is the number of commands after which a batch goes to
	// the GL thread without waiting (default 256).
	BatchLimit int
	// NoSubgroups and NoVec4 force kernel variants (see gpu.Options).
	NoSubgroups bool
	NoVec4      bool
	// NoBinaryCache builds every program from source, neither reading nor
	// writing the program-binary cache.
	NoBinaryCache bool
}

// batchesInFlight is how many batches exist: one recorded, the rest sent.
const batchesInFlight = 3

// Backend is one OpenGL context. Its kernels may be called from one
// goroutine at a time; Free is safe from any goroutine.
type Backend struct {
	*gpu.Kernels // the compute methods, dispatched through launch

	name       string
	info       DeviceInfo
	debug      bool
	batchLimit int
	pushAlign  int
	cacheDir   string // program binaries; "" disables the cache
	th         *glThread
	gs         *glState // used on the GL thread; its error is shared
	pool       *pool
	mem        tensor.MemCounter

	mu      sync.Mutex // guards the fields below
	cur     *batch     // the batch being recorded
	free    chan *batch
	wait    chan struct{}
	epoch   uint64 // hazard epoch: bumped at every barrier
	progs   map[programKey]*program
	layouts map[reflect.Type]*pushLayout
	counts  struct{ dispatches, barriers, batches uint64 }
	err     error
	closed  bool
}

var _ tensor.Backend = (*Backend)(nil)

// Open opens the index-th device in Devices order.
func Open(index int, opt Options) (*Backend, error) {
	debug := opt.Debug || os.Getenv("SARGO_OPENGL_DEBUG") == "1"
	devs, platform, err := orderedDevices()
	if err != nil {
		return nil, err
	}
	if len(devs) == 0 {
		return nil, ErrNoDevice
	}
	if index < 0 || index >= len(devs) {
		return nil, fmt.Errorf("opengl: no device opengl:%d (%d devices: opengl:0..opengl:%d)", index, len(devs), len(devs)-1)
	}
	b := &Backend{
		name:       fmt.Sprintf("opengl:%d", index),
		debug:      debug,
		batchLimit: opt.BatchLimit,
		pool:       newPool(),
		free:       make(chan *batch, batchesInFlight),
		wait:       make(chan struct{}, 1),
		epoch:      1,
		progs:      map[programKey]*program{},
		layouts:    map[reflect.Type]*pushLayout{},
	}
	if b.batchLimit <= 0 {
		b.batchLimit = 256
	}
	th, info, err := startThread(devs[index], contextRequest{debug: debug}, b.serve)
	if err != nil {
		return nil, fmt.Errorf("opengl: open opengl:%d: %w", index, err)
	}
	info.Index, info.Platform, info.Default = index, platform, index == 0
	b.th, b.info = th, info
	th.do(func() { b.gs = newGLState(debug) })
	b.pushAlign = max(int(info.UniformAlignment), 16)
	if !opt.NoBinaryCache && info.BinaryFormats > 0 {
		if dir, err := os.UserCacheDir(); err == nil {
			b.cacheDir = filepath.Join(dir, "sargo", "opengl-programs")
		}
	}
	for range batchesInFlight - 1 {
		b.free <- &batch{}
	}
	b.cur = &batch{}
	b.Kernels = gpu.New(gpu.Device{Launch: b.launch, Alloc: b.Alloc, Free: b.Free, Fail: b.failKernel}, gpu.Features{
		SubgroupArithmetic:      info.SubgroupArithmetic,
		MaxWorkgroupInvocations: info.MaxWorkgroupInvocations,
		MaxWorkgroupSize:        info.MaxWorkgroupSize,
		MaxSharedMemory:         info.MaxSharedMemory,
	}, gpu.Options{NoSubgroups: opt.NoSubgroups, NoVec4: opt.NoVec4})
	return b, nil
}

// serve runs one request on the GL thread.
func (b *Backend) serve(_ *glThread, r request) {
	if r.bt != nil {
		b.gs.run(r.bt)
		r.bt.reset()
		b.free <- r.bt
	}
	if r.fn != nil {
		r.fn()
	}
}

// failKernel records a kernel's error as the sticky error.
func (b *Backend) failKernel(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.fail(fmt.Errorf("opengl: %w", err))
}

// Name is the registry name, opengl:N.
func (b *Backend) Name() string { return b.name }

// Describe names the renderer, its driver and the platform.
func (b *Backend) Describe() string { return "OpenGL " + b.info.String() }

// Info returns what the backend knows about its device.
func (b *Backend) Info() DeviceInfo { return b.info }

// fail records err as the sticky error if there is none yet. The caller
// holds b.mu.
func (b *Backend) fail(err error) {
	if b.err == nil {
		b.err = err
	}
}

// stickyErr returns the first error, taking the GL thread's into account.
// The caller holds b.mu.
func (b *Backend) stickyErr() error {
	if b.err == nil {
		b.err = b.gs.firstErr()
	}
	return b.err
}

// stopped reports whether an error has stopped the backend. The caller
// holds b.mu.
func (b *Backend) stopped() bool { return b.err != nil || b.gs.failed.Load() }

// Sync sends the recorded work, waits for it (glFinish) and returns the
// first device error.
func (b *Backend) Sync() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return b.closedErr()
	}
	b.submit()
	b.th.do(b.gs.finish)
	return b.stickyErr()
}

// Err returns the first device error without waiting.
func (b *Backend) Err() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stickyErr()
}

// DebugMessages returns every KHR_debug message (other than
// notifications) collected since the backend was opened; none without
// debug output.
func (b *Backend) DebugMessages() []string { return b.gs.debugMessages() }

func (b *Backend) closedErr() error {
	if err := b.stickyErr(); err != nil {
		return err
	}
	return fmt.Errorf("opengl: %s is closed", b.name)
}

// Close waits for the recorded work, deletes every GL object and destroys
// the context; its thread ends. The backend is unusable afterwards.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return b.err
	}
	b.submit()
	b.th.do(func() {
		b.gs.finish()
		b.gs.destroy()
		if b.debug {
			b.gs.pollDebug(func() string { return "deleting the context's objects" })
		}
	})
	b.th.stop()
	b.closed = true
	return b.stickyErr()
}
