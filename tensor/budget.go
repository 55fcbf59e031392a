package tensor

// MemoryBudgeter is implemented by backends that know how much memory
// they can give out: the CPU backend reports what the host still has
// available, the Vulkan backend the size of its largest device-local heap.
// It is optional, and separate from Backend: callers consult it before an
// allocation whose size comes from input (a checkpoint's configuration, a
// sample count), so that an impossible request is an error naming both
// sizes rather than an out-of-memory abort.
type MemoryBudgeter interface {
	// MemoryBudget is the number of bytes the device can hold, or 0 when
	// it cannot tell.
	MemoryBudget() int64
}

// MemoryBudget returns b's memory budget in bytes, or 0 when b does not
// implement MemoryBudgeter or cannot tell.
func MemoryBudget(b Backend) int64 {
	if mb, ok := b.(MemoryBudgeter); ok {
		return max(0, mb.MemoryBudget())
	}
	return 0
}
