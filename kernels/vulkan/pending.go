package vulkan

import "fmt"

// This file holds the kernels that have no shader yet. Each records the
// sticky error "vulkan: <op> not implemented" through notImplemented; an
// entry is deleted when its shader family lands in its own file. Every
// kernel of tensor.Backend now has one, so only the helper remains.

// notImplemented records that op has no Vulkan kernel.
func (b *Backend) notImplemented(op string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.fail(fmt.Errorf("vulkan: %s not implemented", op))
}
