package vulkan

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"sargo/tensor"
)

// TestMemoryBudget checks that the backend reports its largest
// device-local heap as its memory budget.
func TestMemoryBudget(t *testing.T) {
	b := sharedBackend(t)
	var largest uint64
	for _, h := range b.Info().Heaps {
		if h.DeviceLocal {
			largest = max(largest, h.Size)
		}
	}
	assert.Positive(t, largest, "a Vulkan device has a device-local heap")
	assert.Equal(t, int64(largest), tensor.MemoryBudget(b))
}
