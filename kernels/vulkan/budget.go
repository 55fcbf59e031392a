package vulkan

// MemoryBudget is the size of the device's largest device-local memory
// heap (tensor.MemoryBudgeter), where storages are allocated; 0 when the
// device reports none.
func (b *Backend) MemoryBudget() int64 {
	var largest uint64
	for _, h := range b.info.Heaps {
		if h.DeviceLocal && h.Size > largest {
			largest = h.Size
		}
	}
	return int64(min(largest, 1<<62))
}
