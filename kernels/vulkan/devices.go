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
	TimestampPeriod                 float32 // nanoseconds per timestamp tick
	Timestamps                      bool
	Heaps                           []MemoryHeap

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
	}
}

// MemoryHeap is one memory heap of a device.
type MemoryHeap struct {
	Size        uint64
	DeviceLocal bool
}

// String is a one-line summary.
func (d DeviceInfo) String() string {
	var local uint64
	for _, h := range d.Heaps {
		if h.DeviceLocal {
			local += h.Size
		}
	}
	arith := ""
	if d.SubgroupArithmetic {
		arith = " with arithmetic"
	}
	return fmt.Sprintf("%s (%s, Vulkan %s, %s), subgroup %d%s, shared memory %d KiB, device-local memory %d MiB",
		d.Name, d.Type, d.APIVersion, d.Driver, d.SubgroupSize, arith, d.MaxSharedMemory/1024, local>>20)
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
