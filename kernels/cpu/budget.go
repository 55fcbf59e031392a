package cpu

import "sargo/internal/hostmem"

// MemoryBudget is the memory the process can still take on the host
// (tensor.MemoryBudgeter): MemAvailable, lowered by a cgroup limit; 0 when
// neither can be read.
func (b *Backend) MemoryBudget() int64 {
	n, _, ok := hostmem.Available()
	if !ok {
		return 0
	}
	return n
}
