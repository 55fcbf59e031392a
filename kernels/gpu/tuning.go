package gpu

// Workgroup and subgroup sizes per device. The row, reduction and
// elementwise kernels take their workgroup size as a specialization
// constant (local_size_x_id), so one shader serves every size; the host
// picks the size from the device's limits here, once, when the kernels
// are created. The subgroup kernels (reduce_subgroup, attention_subgroup)
// are tuned for subgroups of tunedSubgroup invocations and ask for that
// size (VK_EXT_subgroup_size_control / Vulkan 1.3 requiredSubgroupSize)
// when the device can run it; otherwise they run at the device's own
// size, which they handle as well.

const (
	// tunedLocal is the workgroup size the row, reduction and elementwise
	// kernels are tuned for; a device with fewer invocations per
	// workgroup (the Vulkan minimum is 128) gets the largest power of two
	// it allows.
	tunedLocal = 256
	// rowSharedPerInvocation bounds the shared memory of the row and
	// reduction kernels per invocation: at most three 4-byte arrays of
	// the workgroup's size (crossentropy.comp, sample.comp: uvec2 and
	// float) or one uvec2 array of twice its size (scatter_add.comp).
	rowSharedPerInvocation = 16
	// tunedSubgroup is the subgroup size the subgroup kernels are tuned
	// for: the NVIDIA warp and AMD's wave32; Intel runs it at its widest
	// SIMD width.
	tunedSubgroup = 32
)

// Tuning is the workgroup shape of the kernel families on one device.
type Tuning struct {
	// Row is the workgroup size of the row kernels (softmax, norms,
	// top-k, sampling, scatter-add, the squared norms) and of reduce and
	// sum_multi: a power of two, as their shared-memory trees require.
	Row uint32
	// Elem is the workgroup size of the elementwise kernels.
	Elem uint32
	// Subgroup is the required subgroup size of the subgroup kernels, 0
	// for the device's own (SubgroupSize).
	Subgroup uint32
}

// ChooseTuning picks the workgroup shape for a device with properties f:
// tunedLocal invocations, or the largest power of two below the device's
// invocation, first-dimension and shared-memory limits; the subgroup
// kernels' required subgroup size when the device can fix it and its range
// holds tunedSubgroup. A device that reports no limits (0) gets the tuned
// sizes.
func ChooseTuning(f Features) Tuning {
	limit := uint32(tunedLocal)
	if f.MaxWorkgroupInvocations > 0 {
		limit = min(limit, f.MaxWorkgroupInvocations)
	}
	if f.MaxWorkgroupSize[0] > 0 {
		limit = min(limit, f.MaxWorkgroupSize[0])
	}
	if f.MaxSharedMemory > 0 {
		limit = min(limit, f.MaxSharedMemory/rowSharedPerInvocation)
	}
	local := uint32(1)
	for local*2 <= limit {
		local *= 2
	}
	t := Tuning{Row: local, Elem: local}
	if f.SubgroupSizeControl && f.MinSubgroupSize <= tunedSubgroup && tunedSubgroup <= f.MaxSubgroupSize &&
		local%tunedSubgroup == 0 {
		t.Subgroup = tunedSubgroup
	}
	return t
}

// SubgroupSize is the subgroup size the subgroup kernels run at on a
// device with properties f under t.
func (t Tuning) SubgroupSize(f Features) uint32 {
	if t.Subgroup != 0 {
		return t.Subgroup
	}
	return f.SubgroupSize
}

// specs are the specialization constants that depend only on the tuning,
// built once so that a launch passes them without allocating.
type specs struct {
	row, elem []uint32
}

func (t Tuning) specs() specs {
	return specs{row: []uint32{t.Row}, elem: []uint32{t.Elem}}
}
