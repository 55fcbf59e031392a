package vulkan

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"unsafe"

	"sargo/kernels/gpu"
	"sargo/tensor"
)

func init() {
	tensor.Register("vulkan", func(index int) (tensor.Backend, error) {
		return Open(index, Options{})
	})
}

// Options configure a backend beyond what the environment says.
type Options struct {
	// Validation enables the Khronos validation layer; it is also enabled
	// by SARGO_VULKAN_VALIDATION=1.
	Validation bool
	// Profile times every dispatch; also enabled by SARGO_PROFILE=1.
	Profile bool
	// ProfileOutput receives the profile table at Close (default
	// os.Stderr).
	ProfileOutput io.Writer
	// BatchLimit is the number of dispatches after which a batch is
	// submitted without waiting (default 256).
	BatchLimit int
	// ForceStaging keeps storage in device-local memory that the host does
	// not map, moving data through a staging pool with copy commands, as
	// on discrete GPUs without resizable BAR (for testing that path).
	ForceStaging bool
	// NoSubgroups selects the shared-memory variants of kernels that
	// otherwise use subgroup operations (for testing both paths).
	NoSubgroups bool
	// NoVec4 makes matmul load its operands one float at a time even when
	// they are aligned for vec4 loads (for testing both paths).
	NoVec4 bool
}

// Backend is one Vulkan device. Its methods may be called from one
// goroutine at a time (each call takes the backend's lock).
type Backend struct {
	*gpu.Kernels // the compute methods, dispatched through launch

	name       string
	info       DeviceInfo
	in         *instance
	dev        *device
	validation bool
	batchLimit int

	mu        sync.Mutex // guards the fields below
	pool      *pool      // storages
	staging   *pool      // host-visible buffers for Write and Read; nil when pool is mapped
	pipes     *pipelines
	stream    *stream
	prof      *profiler
	profOut   io.Writer
	err       error
	messages  []string
	closed    bool
	faultLeft int // test hook: submits left before a simulated device loss; 0 is off

	rec dispatchRecord // reused by launch
	mem tensor.MemCounter

	completed atomic.Uint64 // the highest batch serial known complete
}

var _ tensor.Backend = (*Backend)(nil)

// Open opens the index-th device in Devices order.
func Open(index int, opt Options) (*Backend, error) {
	validation := opt.Validation || validationRequested()
	in, err := loadVulkan(validation)
	if err != nil {
		return nil, err
	}
	pds, infos, err := physicalDevices(in)
	if err != nil {
		in.close()
		return nil, fmt.Errorf("vulkan: %w", err)
	}
	if len(pds) == 0 {
		in.close()
		return nil, ErrNoDevice
	}
	if index < 0 || index >= len(pds) {
		in.close()
		return nil, fmt.Errorf("vulkan: no device vulkan:%d (%d devices: vulkan:0..vulkan:%d)", index, len(pds), len(pds)-1)
	}
	b, err := newBackend(in, pds[index], infos[index], validation, opt)
	if err != nil {
		in.close()
		return nil, fmt.Errorf("vulkan: open vulkan:%d (%s): %w", index, infos[index].Name, err)
	}
	return b, nil
}

func newBackend(in *instance, pd unsafe.Pointer, info DeviceInfo, validation bool, opt Options) (*Backend, error) {
	family, err := computeQueueFamily(pd)
	if err != nil {
		return nil, err
	}
	dev, err := createDevice(in, pd, family, false)
	if err != nil {
		return nil, err
	}
	b := &Backend{
		name:       fmt.Sprintf("vulkan:%d", info.Index),
		info:       info,
		in:         in,
		dev:        dev,
		validation: validation,
		batchLimit: opt.BatchLimit,
	}
	b.Kernels = gpu.New(gpu.Device{Launch: b.launch, Alloc: b.Alloc, Free: b.Free, Fail: b.failKernel}, info.features(),
		gpu.Options{NoSubgroups: opt.NoSubgroups, NoVec4: opt.NoVec4})
	if b.batchLimit <= 0 {
		b.batchLimit = 256
	}
	b.profOut = opt.ProfileOutput
	if b.profOut == nil {
		b.profOut = os.Stderr
	}
	if opt.Profile || os.Getenv("SARGO_PROFILE") == "1" {
		if info.Timestamps && info.TimestampPeriod > 0 {
			b.prof = newProfiler(info.TimestampPeriod)
		} else {
			fmt.Fprintf(os.Stderr, "sargo: vulkan: %s has no compute timestamps; SARGO_PROFILE ignored\n", info.Name)
		}
	}
	types := memoryTypes(pd)
	if !opt.ForceStaging && directMemory(info, types) {
		b.pool = newKindPool(dev, info, types, poolDirect)
	} else {
		b.pool = newKindPool(dev, info, types, poolDevice)
		b.staging = newKindPool(dev, info, types, poolStaging)
	}
	b.pipes = newPipelines(dev, info)
	b.stream, err = newStream(dev, b.batchLimit, b.prof != nil)
	if err != nil {
		b.pipes.destroy(false)
		dev.destroy()
		return nil, err
	}
	return b, nil
}

// Name is the registry name, vulkan:N.
func (b *Backend) Name() string { return b.name }

// Describe names the device, its type, driver and memory.
func (b *Backend) Describe() string { return "Vulkan " + b.info.String() }

// Info returns what the backend knows about its device.
func (b *Backend) Info() DeviceInfo { return b.info }

// failKernel records a kernel's error as the sticky error.
func (b *Backend) failKernel(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.fail(fmt.Errorf("vulkan: %w", err))
}

// fail records err as the sticky error if there is none yet. The caller
// holds b.mu.
func (b *Backend) fail(err error) {
	if b.err == nil {
		b.err = err
	}
}

// pollMessages moves collected validation messages into b.messages and
// turns the first into the sticky error. The caller holds b.mu.
func (b *Backend) pollMessages() {
	if !b.validation || b.in == nil {
		return
	}
	msgs := b.in.takeMessages()
	if len(msgs) == 0 {
		return
	}
	b.messages = append(b.messages, msgs...)
	b.fail(fmt.Errorf("vulkan: validation layer: %s", msgs[0]))
}

// ValidationMessages returns every validation-layer error and warning
// collected since the backend was opened (none without validation).
func (b *Backend) ValidationMessages() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pollMessages()
	return append([]string(nil), b.messages...)
}

// Sync submits the recorded work, waits for it and returns the first
// device error.
func (b *Backend) Sync() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return b.closedErr()
	}
	b.flushAndWait()
	b.pollMessages()
	return b.err
}

// Err returns the first device error without waiting.
func (b *Backend) Err() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		b.pollMessages()
	}
	return b.err
}

func (b *Backend) closedErr() error {
	if b.err != nil {
		return b.err
	}
	return fmt.Errorf("vulkan: %s is closed", b.name)
}

// SetFaultAfter is a test hook: the n-th batch submit from now fails as if
// the device were lost (VK_ERROR_DEVICE_LOST). n <= 0 turns it off.
func (b *Backend) SetFaultAfter(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.faultLeft = n
}

// Close waits for the device, prints the profile when profiling, saves the
// pipeline cache and destroys every Vulkan object. The backend is unusable
// afterwards.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return b.err
	}
	b.flushAndWait()
	b.dev.waitIdle()
	if b.prof != nil {
		b.prof.print(b.profOut, b.info.Name)
	}
	b.stream.destroy()
	b.pipes.destroy(b.err == nil)
	b.pool.destroy()
	if b.staging != nil {
		b.staging.destroy()
	}
	b.dev.destroy()
	b.pollMessages()
	b.in.close()
	b.in = nil
	b.closed = true
	return b.err
}
