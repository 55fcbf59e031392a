package vulkan

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

// loaderName is the runtime name of the Vulkan loader (libvulkan1), not
// the development symlink libvulkan.so that the binding opens by default.
const loaderName = "libvulkan.so.1"

// ErrNoLoader is wrapped by errors when the Vulkan loader is missing.
var ErrNoLoader = errors.New("no Vulkan loader: install libvulkan1 (apt-get install libvulkan1 mesa-vulkan-drivers)")

// ErrNoDevice is wrapped by errors when the loader finds no device.
var ErrNoDevice = errors.New("no Vulkan device: the loader found no driver (install mesa-vulkan-drivers for the lavapipe CPU driver, or your GPU's Vulkan driver)")

// The binding keeps its function pointers in C globals, so it is
// initialised once per process; each backend still owns its own loader
// handle, instance and device.
var bindingInit struct {
	once sync.Once
	err  error
}

// loadVulkan opens the loader and creates an instance, with the Khronos
// validation layer when validation is set.
func loadVulkan(validation bool) (*instance, error) {
	name := loaderName
	if env := os.Getenv("SARGO_VULKAN_LOADER"); env != "" {
		name = env // another loader, or a missing one for tests
	}
	return loadVulkanFrom(name, validation)
}

// loadVulkanFrom is loadVulkan with the loader's file name.
func loadVulkanFrom(name string, validation bool) (*instance, error) {
	lib, err := openLibrary(name)
	if err != nil {
		return nil, fmt.Errorf("%w (%v)", ErrNoLoader, err)
	}
	bindingInit.once.Do(func() {
		// The binding keeps lib's function pointers for the life of the
		// process, so the library stays loaded after every backend using
		// it is closed: a second handle that is never closed pins it.
		if _, err := openLibrary(name); err != nil {
			bindingInit.err = err
			return
		}
		vk.SetGetInstanceProcAddr(lib.gipa)
		bindingInit.err = vk.Init()
	})
	if bindingInit.err != nil {
		lib.close()
		return nil, fmt.Errorf("vulkan: initialise the Go binding: %w", bindingInit.err)
	}
	in, err := createInstance(lib, validation)
	if err != nil {
		lib.close()
		if errors.Is(err, vkError{-9}) { // VK_ERROR_INCOMPATIBLE_DRIVER: the loader found no driver
			return nil, fmt.Errorf("vulkan: %w (%v)", ErrNoDevice, err)
		}
		if validation {
			return nil, fmt.Errorf("vulkan: create instance with validation (is vulkan-validationlayers installed?): %w", err)
		}
		return nil, fmt.Errorf("vulkan: create instance: %w", err)
	}
	if err := vk.InitInstance(vk.Instance(in.handle())); err != nil {
		in.destroy()
		lib.close()
		return nil, fmt.Errorf("vulkan: load instance functions: %w", err)
	}
	return in, nil
}

func (in *instance) close() {
	lib := in.lib
	in.destroy()
	lib.close()
}

// physicalDevices lists the instance's devices in sargo's order.
func physicalDevices(in *instance) ([]unsafe.Pointer, []DeviceInfo, error) {
	inst := vk.Instance(in.handle())
	var n uint32
	if r := vk.EnumeratePhysicalDevices(inst, &n, nil); r != vk.Success {
		return nil, nil, fmt.Errorf("vkEnumeratePhysicalDevices: %w", vk.Error(r))
	}
	pds := make([]vk.PhysicalDevice, n)
	if n > 0 {
		if r := vk.EnumeratePhysicalDevices(inst, &n, pds); r != vk.Success {
			return nil, nil, fmt.Errorf("vkEnumeratePhysicalDevices: %w", vk.Error(r))
		}
	}
	var ptrs []unsafe.Pointer
	var infos []DeviceInfo
	for _, pd := range pds[:n] {
		p := unsafe.Pointer(pd)
		info := in.deviceInfo(p)
		info.Heaps = memoryHeaps(pd)
		ptrs = append(ptrs, p)
		infos = append(infos, info)
	}
	order := sortDevices(infos)
	sortedPtrs := make([]unsafe.Pointer, len(order))
	sortedInfos := make([]DeviceInfo, len(order))
	for i, j := range order {
		sortedPtrs[i], sortedInfos[i] = ptrs[j], infos[j]
		sortedInfos[i].Index = i
		sortedInfos[i].Default = i == 0
	}
	return sortedPtrs, sortedInfos, nil
}

func memoryHeaps(pd vk.PhysicalDevice) []MemoryHeap {
	var mp vk.PhysicalDeviceMemoryProperties
	vk.GetPhysicalDeviceMemoryProperties(pd, &mp)
	mp.Deref()
	var heaps []MemoryHeap
	for i := uint32(0); i < mp.MemoryHeapCount; i++ {
		h := mp.MemoryHeaps[i]
		h.Deref()
		heaps = append(heaps, MemoryHeap{Size: uint64(h.Size), DeviceLocal: h.Flags&vk.MemoryHeapFlags(vk.MemoryHeapDeviceLocalBit) != 0})
	}
	return heaps
}

// memoryType is one entry of a device's memory types.
type memoryType struct {
	flags vk.MemoryPropertyFlagBits
	heap  uint32
}

func memoryTypes(pd unsafe.Pointer) []memoryType {
	var mp vk.PhysicalDeviceMemoryProperties
	vk.GetPhysicalDeviceMemoryProperties(vk.PhysicalDevice(pd), &mp)
	mp.Deref()
	var ts []memoryType
	for i := uint32(0); i < mp.MemoryTypeCount; i++ {
		t := mp.MemoryTypes[i]
		t.Deref()
		ts = append(ts, memoryType{flags: vk.MemoryPropertyFlagBits(t.PropertyFlags), heap: t.HeapIndex})
	}
	return ts
}

// computeQueueFamily returns the first queue family with compute support.
func computeQueueFamily(pd unsafe.Pointer) (uint32, error) {
	var n uint32
	vk.GetPhysicalDeviceQueueFamilyProperties(vk.PhysicalDevice(pd), &n, nil)
	fams := make([]vk.QueueFamilyProperties, n)
	vk.GetPhysicalDeviceQueueFamilyProperties(vk.PhysicalDevice(pd), &n, fams)
	for i := range fams[:n] {
		fams[i].Deref()
		if fams[i].QueueFlags&vk.QueueFlags(vk.QueueComputeBit) != 0 {
			return uint32(i), nil
		}
	}
	return 0, errors.New("device has no compute queue")
}

// Probe checks that a Vulkan loader, driver and device are present, and
// explains in one line what to install when they are not.
func Probe() error {
	in, err := loadVulkan(false)
	if err != nil {
		return err
	}
	defer in.close()
	_, infos, err := physicalDevices(in)
	if err != nil {
		return fmt.Errorf("vulkan: %w", err)
	}
	if len(infos) == 0 {
		return ErrNoDevice
	}
	return nil
}

// Devices lists the Vulkan devices in the order the names vulkan:0,
// vulkan:1, ... address them; the first is the default.
func Devices() ([]DeviceInfo, error) {
	in, err := loadVulkan(false)
	if err != nil {
		return nil, err
	}
	defer in.close()
	_, infos, err := physicalDevices(in)
	if err != nil {
		return nil, fmt.Errorf("vulkan: %w", err)
	}
	return infos, nil
}

// validationRequested reports whether SARGO_VULKAN_VALIDATION=1.
func validationRequested() bool { return os.Getenv("SARGO_VULKAN_VALIDATION") == "1" }
