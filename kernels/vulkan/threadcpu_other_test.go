//go:build !linux

package vulkan

import "time"

// threadCPU is unknown on this system: it returns 0, and the per-thread
// figure is then left out.
func threadCPU() time.Duration { return 0 }
