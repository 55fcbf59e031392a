package vulkan

import (
	"fmt"
	"sort"

	"sargo/kernels/gpu"
)

// DeviceInfo describes one Vulkan physical device.
type DeviceInfo struct {
	Index      int    // N in the device name vulkan:N
	Default    bool   // the device plain "vulkan" opens
	Name       string // the driver's device name
	Type       string // discrete, integrated, virtual, cpu or other
	Driver     string // driver name and version, where the device reports it
	APIVersion string // the Vulkan version the device supports
	UUID       [16]byte
	VendorID   uint32
	DeviceID   uint32

	SubgroupSize            uint32
	SubgroupArithmetic      bool // subgroup arithmetic in compute shaders
	SubgroupShuffle         bool // subgroup shuffles in compute shaders
	MaxSharedMemory         uint32
	MaxWorkgroupInvocations uint32
	MaxWorkgroupSize        [3]uint32
	MaxWorkgroupCount       [3]uint32
	MaxPushConstantsSize    uint32
	Float16, Int8           bool // shaderFloat16 and shaderInt8
	Storage16, Storage8     bool // 16- and 8-bit storage buffer access

	MaxStorageBufferRange           uint64
	MinStorageBufferOffsetAlignment uint64
	MaxMemoryAllocationSize         uint64
	MaxPerStageStorageBuffers       uint32  // storage buffers one shader may bind
	TimestampPeriod                 float32 // nanoseconds per timestamp tick
	Timestamps                      bool
	TimestampValidBits              uint32 // of the compute queue's timestamps
	Heaps                           []MemoryHeap
	MemoryTypes                     []MemoryType
	// Placement is the memory types the pools of Memory's mode allocate
	// from, preferred first. Devices chooses them by property flags; an
	// open Backend's Info has the ones its storage buffers accept.
	Placement Placement
	// Memory is where Open keeps storages by default: MemoryMapped on a
	// unified-memory device, MemoryDiscrete otherwise or when
	// SARGO_VULKAN_MEMORY=discrete.
	Memory MemoryMode

	// Optional device features and extensions that sargo enables where
	// present.
	RobustBufferAccess  bool // out-of-range accesses stay within the buffer
	Robustness2         bool // VK_EXT_robustness2: out-of-range reads give 0, writes are dropped
	MemoryBudgetExt     bool // VK_EXT_memory_budget
	PushDescriptor      bool // VK_KHR_push_descriptor (with room for every binding)
	PortabilitySubset   bool // VK_KHR_portability_subset (MoltenVK): must be enabled
	SubgroupSizeControl bool // VK_EXT_subgroup_size_control for compute, full subgroups
	// MinSubgroupSize and MaxSubgroupSize are the subgroup sizes the
	// device can run (both SubgroupSize without subgroup size control).
	MinSubgroupSize, MaxSubgroupSize uint32

	typeCode uint32
}

// features are the properties that choose the kernels' variants.
func (d DeviceInfo) features() gpu.Features {
	return gpu.Features{
		SubgroupSize:            d.SubgroupSize,
		SubgroupArithmetic:      d.SubgroupArithmetic,
		SubgroupShuffle:         d.SubgroupShuffle,
		MaxWorkgroupInvocations: d.MaxWorkgroupInvocations,
		MaxWorkgroupSize:        d.MaxWorkgroupSize,
		MaxSharedMemory:         d.MaxSharedMemory,
		MinSubgroupSize:         d.MinSubgroupSize,
		MaxSubgroupSize:         d.MaxSubgroupSize,
		SubgroupSizeControl:     d.SubgroupSizeControl,
	}
}

// MemoryHeap is one memory heap of a device.
type MemoryHeap struct {
	Size        uint64
	DeviceLocal bool
	// Budget and Usage are what VK_EXT_memory_budget reports for this
	// process when the device has it: how much of the heap it may use
	// and how much it uses (0 without the extension).
	Budget, Usage uint64
}

// MemoryType is one memory type of a device.
type MemoryType struct {
	Heap                                               int
	DeviceLocal, HostVisible, HostCoherent, HostCached bool
}

// String lists the type's heap and property flags.
func (t MemoryType) String() string {
	s := fmt.Sprintf("heap %d", t.Heap)
	for _, f := range []struct {
		on   bool
		name string
	}{{t.DeviceLocal, "device-local"}, {t.HostVisible, "host-visible"}, {t.HostCoherent, "host-coherent"}, {t.HostCached, "host-cached"}} {
		if f.on {
			s += ", " + f.name
		}
	}
	return s
}

// Placement is the memory type indices each pool allocates from,
// preferred first: storages, and in MemoryDiscrete the upload and
// read-back staging buffers (nil in MemoryMapped, which has none).
type Placement struct {
	Storages, Upload, Readback []uint32
}

// String is a one-line summary.
func (d DeviceInfo) String() string {
	arith := ""
	if d.SubgroupArithmetic {
		arith = " with arithmetic"
	}
	return fmt.Sprintf("%s (%s, Vulkan %s, %s), memory %s, %s, subgroup %s%s, shared memory %d KiB, device-local memory %s",
		d.Name, d.Type, d.APIVersion, d.Driver, d.Memory, d.Robustness(), d.SubgroupSizes(), arith,
		d.MaxSharedMemory/1024, d.DeviceMemory())
}

// Robustness says what an access outside a storage does on the device.
func (d DeviceInfo) Robustness() string {
	switch {
	case d.Robustness2:
		return "robust buffer access 2 (out-of-range reads give 0, writes are dropped)"
	case d.RobustBufferAccess:
		return "robust buffer access (out-of-range accesses stay in their storage)"
	}
	return "no robust buffer access (out-of-range accesses are undefined)"
}

// SubgroupSizes is the default subgroup size and the range a pipeline may
// ask for.
func (d DeviceInfo) SubgroupSizes() string {
	control := ""
	if d.SubgroupSizeControl {
		control = ", size control"
	}
	return fmt.Sprintf("%d (range %d-%d%s)", d.SubgroupSize, d.MinSubgroupSize, d.MaxSubgroupSize, control)
}

// DeviceMemory is the device-local memory and its budget:
// VK_EXT_memory_budget's where the device has it, else the heap size.
func (d DeviceInfo) DeviceMemory() string {
	var size, budget, usage uint64
	heaps := 0
	for _, h := range d.Heaps {
		if h.DeviceLocal {
			size += h.Size
			budget += h.Budget
			usage += h.Usage
			heaps++
		}
	}
	if d.MemoryBudgetExt && budget > 0 {
		return fmt.Sprintf("%d MiB in %d heaps, budget %d MiB (%d MiB in use, VK_EXT_memory_budget)", size>>20, heaps, budget>>20, usage>>20)
	}
	return fmt.Sprintf("%d MiB in %d heaps, budget the heap size (no VK_EXT_memory_budget)", size>>20, heaps)
}

func deviceTypeName(t uint32) string {
	switch t {
	case 1:
		return "integrated"
	case 2:
		return "discrete"
	case 3:
		return "virtual"
	case 4:
		return "cpu"
	}
	return "other"
}

// typeRank orders device types: discrete, integrated, virtual, CPU, other.
func typeRank(t uint32) int {
	switch t {
	case 2:
		return 0
	case 1:
		return 1
	case 3:
		return 2
	case 4:
		return 3
	}
	return 4
}

// sortDevices returns the indices of infos in sargo's device order, stable
// within a type so the loader's order breaks ties.
func sortDevices(infos []DeviceInfo) []int {
	idx := make([]int, len(infos))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		return typeRank(infos[idx[a]].typeCode) < typeRank(infos[idx[b]].typeCode)
	})
	return idx
}
