package vulkan

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

// loaderNames are the runtime names of the Vulkan loader on an OS, tried
// in order: on Linux libvulkan.so.1 (the package libvulkan1, not the
// development symlink libvulkan.so that the binding opens by default); on
// macOS the loader of the Vulkan SDK, else MoltenVK itself, which is a
// loader and a driver in one; on Windows the loader the GPU driver
// installs.
func loaderNames(goos string) []string {
	switch goos {
	case "darwin", "ios":
		return []string{"libvulkan.1.dylib", "libMoltenVK.dylib"}
	case "windows":
		return []string{"vulkan-1.dll"}
	}
	return []string{"libvulkan.so.1"}
}

// loaderHint says what to install when no loader opens.
func loaderHint(goos string) string {
	switch goos {
	case "darwin", "ios":
		return "install the Vulkan SDK or MoltenVK (brew install molten-vk)"
	case "windows":
		return "install your GPU's driver, which includes vulkan-1.dll"
	}
	return "install libvulkan1 (apt-get install libvulkan1 mesa-vulkan-drivers)"
}

// ErrNoLoader is wrapped by errors when the Vulkan loader is missing.
var ErrNoLoader = errors.New("no Vulkan loader: " + loaderHint(runtime.GOOS))

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
	names := loaderNames(runtime.GOOS)
	if env := os.Getenv("SARGO_VULKAN_LOADER"); env != "" {
		names = []string{env} // another loader, or a missing one for tests
	}
	return loadVulkanFrom(names, validation)
}

// loadVulkanFrom is loadVulkan with the loader's file names, tried in
// order.
func loadVulkanFrom(names []string, validation bool) (*instance, error) {
	var lib *library
	var errs []string
	for _, n := range names {
		l, err := openLibrary(n)
		if err == nil {
			lib = l
			break
		}
		errs = append(errs, err.Error())
	}
	if lib == nil {
		return nil, fmt.Errorf("%w (%s)", ErrNoLoader, strings.Join(errs, "; "))
	}
	name := lib.name
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
	want, _ := memoryModeFromEnv() // a bad value is Open's error to report
	for _, pd := range pds[:n] {
		p := unsafe.Pointer(pd)
		info := in.deviceInfo(p)
		info.Heaps = in.heaps(pd, info.MemoryBudgetExt)
		if _, bits, err := computeQueueFamily(p); err == nil {
			info.TimestampValidBits = bits
		}
		info.Memory, _ = chooseMemoryMode(want, info)
		types := memoryTypes(p)
		info.MemoryTypes = exportTypes(types)
		info.Placement = placement(info.Memory, types, ^uint32(0))
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

// heaps lists the device's memory heaps, with their budgets where the
// device has VK_EXT_memory_budget.
func (in *instance) heaps(pd vk.PhysicalDevice, budgetExt bool) []MemoryHeap {
	var mp vk.PhysicalDeviceMemoryProperties
	vk.GetPhysicalDeviceMemoryProperties(pd, &mp)
	mp.Deref()
	_, budget, usage := in.memoryBudget(unsafe.Pointer(pd), budgetExt)
	var heaps []MemoryHeap
	for i := uint32(0); i < mp.MemoryHeapCount; i++ {
		h := mp.MemoryHeaps[i]
		h.Deref()
		mh := MemoryHeap{Size: uint64(h.Size), DeviceLocal: h.Flags&vk.MemoryHeapFlags(vk.MemoryHeapDeviceLocalBit) != 0}
		if int(i) < len(budget) {
			mh.Budget, mh.Usage = budget[i], usage[i]
		}
		heaps = append(heaps, mh)
	}
	return heaps
}

// memoryType is one entry of a device's memory types.
type memoryType struct {
	flags vk.MemoryPropertyFlagBits
	heap  uint32
}

// exportTypes converts memory types for DeviceInfo.
func exportTypes(types []memoryType) []MemoryType {
	out := make([]MemoryType, len(types))
	for i, t := range types {
		out[i] = MemoryType{
			Heap:         int(t.heap),
			DeviceLocal:  t.flags&vk.MemoryPropertyDeviceLocalBit != 0,
			HostVisible:  t.flags&vk.MemoryPropertyHostVisibleBit != 0,
			HostCoherent: t.flags&vk.MemoryPropertyHostCoherentBit != 0,
			HostCached:   t.flags&vk.MemoryPropertyHostCachedBit != 0,
		}
	}
	return out
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

// computeQueueFamily returns the first queue family with compute support
// and the valid bits of its timestamps.
func computeQueueFamily(pd unsafe.Pointer) (family, timestampBits uint32, err error) {
	var n uint32
	vk.GetPhysicalDeviceQueueFamilyProperties(vk.PhysicalDevice(pd), &n, nil)
	fams := make([]vk.QueueFamilyProperties, n)
	vk.GetPhysicalDeviceQueueFamilyProperties(vk.PhysicalDevice(pd), &n, fams)
	for i := range fams[:n] {
		fams[i].Deref()
		if fams[i].QueueFlags&vk.QueueFlags(vk.QueueComputeBit) != 0 {
			return uint32(i), fams[i].TimestampValidBits, nil
		}
	}
	return 0, 0, errors.New("device has no compute queue")
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
