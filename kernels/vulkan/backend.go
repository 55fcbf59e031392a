package vulkan

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"
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
	// Memory is where storages live (see MemoryMode); MemoryAuto, the
	// default, takes SARGO_VULKAN_MEMORY when set and otherwise chooses by
	// device.
	Memory MemoryMode
	// MemoryLimit, when positive, caps the bytes the storage pool reserves
	// from the driver: a request beyond it fails as when device memory is
	// exhausted.
	MemoryLimit uint64
	// NoPushDescriptors binds storages through the descriptor-set cache
	// even where the device has VK_KHR_push_descriptor (for testing both
	// paths).
	NoPushDescriptors bool
	// NoSubgroups selects the shared-memory variants of kernels that
	// otherwise use subgroup operations (for testing both paths).
	NoSubgroups bool
	// NoVec4 makes matmul load its operands one float at a time even when
	// they are aligned for vec4 loads (for testing both paths).
	NoVec4 bool
	// MaxWorkgroupInvocations, when not 0, lowers the device's
	// maxComputeWorkGroupInvocations and maxComputeWorkGroupSize[0] as a
	// smaller device would report them, so that the kernels pick the
	// workgroup sizes of such a device (for testing them; at least
	// gpu.MinWorkgroupInvocations).
	MaxWorkgroupInvocations uint32
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

	pd      unsafe.Pointer // the physical device, for budget queries
	types   []memoryType
	mode    MemoryMode // MemoryMapped or MemoryDiscrete
	enabled deviceFeatures

	mu        sync.Mutex // guards the fields below
	pool      *pool      // storages
	upload    *pool      // staging buffers for Write; nil when pool is mapped
	readback  *pool      // staging buffers for Read; nil when pool is mapped
	status    *Buffer    // what shaders report (status.go)
	sets      *setCache  // descriptor sets, without push descriptors (descriptors.go)
	pipes     *pipelines
	stream    *stream
	prof      *profiler
	profOut   io.Writer
	err       error
	messages  []string
	closed    bool
	faultLeft int // test hook: submits left before a simulated device loss; 0 is off

	rec      dispatchRecord // reused by launch
	mem      tensor.MemCounter
	count    Counters      // see Counters
	waitTime time.Duration // host time in fence waits, for LaunchTime

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
	family, validBits, err := computeQueueFamily(pd)
	if err != nil {
		return nil, err
	}
	info.TimestampValidBits = validBits
	want := opt.Memory
	if want == MemoryAuto {
		if want, err = memoryModeFromEnv(); err != nil {
			return nil, err
		}
	}
	mode, err := chooseMemoryMode(want, info)
	if err != nil {
		return nil, err
	}
	info.Memory = mode
	if m := opt.MaxWorkgroupInvocations; m > 0 {
		info.MaxWorkgroupInvocations = min(info.MaxWorkgroupInvocations, m)
		info.MaxWorkgroupSize[0] = min(info.MaxWorkgroupSize[0], m)
	}
	if err := checkLimits(info); err != nil {
		return nil, err
	}
	en := deviceFeatures{
		RobustBufferAccess: info.RobustBufferAccess, Robustness2: info.Robustness2, MemoryBudget: info.MemoryBudgetExt,
		PushDescriptor: info.PushDescriptor && !opt.NoPushDescriptors, PortabilitySubset: info.PortabilitySubset,
		SubgroupSizeControl: info.SubgroupSizeControl,
	}
	dev, err := createDevice(in, pd, family, en, info.MaxWorkgroupCount)
	if err != nil {
		return nil, err
	}
	b := &Backend{
		name:       fmt.Sprintf("vulkan:%d", info.Index),
		info:       info,
		in:         in,
		dev:        dev,
		pd:         pd,
		mode:       mode,
		enabled:    en,
		validation: validation,
		batchLimit: opt.BatchLimit,
	}
	b.Kernels = gpu.New(gpu.Device{Launch: b.launch, Alloc: b.Alloc, Free: b.Free, Fail: b.failKernel, Status: b.statusStorage},
		info.features(), gpu.Options{NoSubgroups: opt.NoSubgroups, NoVec4: opt.NoVec4})
	if b.batchLimit <= 0 {
		b.batchLimit = 256
	}
	b.profOut = opt.ProfileOutput
	if b.profOut == nil {
		b.profOut = os.Stderr
	}
	profile := opt.Profile || os.Getenv("SARGO_PROFILE") == "1"
	if info.Timestamps && info.TimestampPeriod > 0 && validBits > 0 {
		b.prof = newProfiler(info.TimestampPeriod, validBits, profile)
	} else if profile {
		fmt.Fprintf(os.Stderr, "sargo: vulkan: %s has no compute timestamps; SARGO_PROFILE ignored\n", info.Name)
	}
	if err := b.createPools(opt.MemoryLimit); err != nil {
		dev.destroy()
		return nil, err
	}
	b.pipes = newPipelines(dev, info, en)
	if !en.PushDescriptor {
		if b.sets, err = newSetCache(dev); err != nil {
			b.destroyPools()
			dev.destroy()
			return nil, err
		}
	}
	b.stream, err = newStream(dev, b.batchLimit, b.prof != nil)
	if err != nil {
		b.pipes.destroy(false)
		b.sets.destroy()
		b.destroyPools()
		dev.destroy()
		return nil, err
	}
	return b, nil
}

// createPools makes the storage pool, the staging pools of the discrete
// mode and the status storage.
func (b *Backend) createPools(limit uint64) error {
	b.types = memoryTypes(b.pd)
	align, accepted, err := b.dev.bufferRequirements(256)
	if err != nil {
		return fmt.Errorf("query storage buffer requirements: %w", err)
	}
	if b.mode == MemoryMapped {
		b.pool = newKindPool(b.dev, b.info, b.types, poolMapped, align, accepted)
	} else {
		b.pool = newKindPool(b.dev, b.info, b.types, poolDevice, align, accepted)
		b.upload = newKindPool(b.dev, b.info, b.types, poolUpload, align, accepted)
		b.readback = newKindPool(b.dev, b.info, b.types, poolReadback, align, accepted)
	}
	b.pool.limit = limit
	b.info.MemoryTypes = exportTypes(b.types)
	b.info.Placement = placement(b.mode, b.types, accepted)
	for _, p := range []*pool{b.pool, b.upload, b.readback} {
		if p != nil {
			p.onDestroy = b.forgetBuffers
		}
	}
	if b.status, err = newStatus(b.dev, b.types, accepted); err != nil {
		b.destroyPools()
		return err
	}
	return nil
}

// destroyPools frees every pool and the status storage. The device must be
// idle.
func (b *Backend) destroyPools() {
	for _, p := range []*pool{b.pool, b.upload, b.readback} {
		if p != nil {
			p.onDestroy = nil
			p.destroy()
		}
	}
	b.destroyStatus()
}

// checkLimits refuses a device whose limits are below what sargo's kernels
// need, naming the limit.
func checkLimits(info DeviceInfo) error {
	for _, c := range []struct {
		name      string
		have, min uint64
	}{
		{"maxComputeWorkGroupInvocations", uint64(info.MaxWorkgroupInvocations), gpu.MinWorkgroupInvocations},
		{"maxComputeWorkGroupSize[0]", uint64(info.MaxWorkgroupSize[0]), gpu.MinWorkgroupInvocations},
		{"maxPerStageDescriptorStorageBuffers", uint64(info.MaxPerStageStorageBuffers), gpu.MaxBindings},
		{"maxPushConstantsSize", uint64(info.MaxPushConstantsSize), pushConstantBytes},
		{"maxComputeSharedMemorySize", uint64(info.MaxSharedMemory), gpu.MinSharedMemory},
	} {
		if c.have < c.min {
			return fmt.Errorf("the device's %s is %d; sargo's kernels need at least %d", c.name, c.have, c.min)
		}
	}
	return nil
}

// Name is the registry name, vulkan:N.
func (b *Backend) Name() string { return b.name }

// Describe names the device, its type, driver and memory.
func (b *Backend) Describe() string { return "Vulkan " + b.info.String() }

// Info returns what the backend knows about its device: Memory is the
// mode it runs in, Placement the memory types its pools allocate from.
func (b *Backend) Info() DeviceInfo { return b.info }

// Robustness reports the robustness features the device was created with
// (what vkCreateDevice was given): robustBufferAccess, and
// robustBufferAccess2 of VK_EXT_robustness2. Open enables each where the
// device has it (Info().RobustBufferAccess, Info().Robustness2).
func (b *Backend) Robustness() (bufferAccess, bufferAccess2 bool) { return b.dev.robustness() }

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
	if b.prof != nil && b.prof.enabled {
		b.prof.print(b.profOut, b.info.Name)
	}
	b.stream.destroy()
	b.pipes.destroy(b.err == nil)
	b.sets.destroy()
	b.destroyPools()
	b.dev.destroy()
	b.pollMessages()
	b.in.close()
	b.in = nil
	b.closed = true
	return b.err
}
