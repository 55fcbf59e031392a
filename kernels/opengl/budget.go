//go:build opengl && cgo

package opengl

import "sargo/internal/hostmem"

// MemoryBudget is the memory the device can hold (tensor.MemoryBudgeter):
// for a software renderer, whose buffers live in host memory, what the
// process can still take on the host; for a GPU, its dedicated video
// memory where the driver reports it (GL_NVX_gpu_memory_info,
// GL_ATI_meminfo); 0 when neither is known.
func (b *Backend) MemoryBudget() int64 {
	if b.info.Software {
		n, _, ok := hostmem.Available()
		if !ok {
			return 0
		}
		return n
	}
	return int64(min(b.info.VideoMemory, 1<<62))
}
