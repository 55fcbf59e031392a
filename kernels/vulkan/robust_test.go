package vulkan

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRobustnessEnabled checks that Open creates the device with
// robustBufferAccess whenever the device has it (or robustness2, which
// needs it), and with robustBufferAccess2 whenever it has robustness2,
// reading back what vkCreateDevice was given; lavapipe has both.
func TestRobustnessEnabled(t *testing.T) {
	b := openValidated(t)
	info := b.Info()
	rba, rba2 := b.Robustness()
	assert.Equal(t, info.RobustBufferAccess || info.Robustness2, rba, "robustBufferAccess enabled where present")
	assert.Equal(t, info.Robustness2, rba2, "robustBufferAccess2 enabled where present")
	if info.Type == "cpu" { // lavapipe
		assert.True(t, rba, "lavapipe has robustBufferAccess")
		assert.True(t, rba2, "lavapipe has VK_EXT_robustness2")
		assert.Contains(t, info.Robustness(), "robust buffer access 2")
	}
}

// TestPlacementReported checks that Info().Placement names the memory
// types the pools really allocate from, in both memory modes, and that
// Devices lists the same types (on lavapipe storage buffers accept every
// memory type, so choosing by property flags gives the same answer).
func TestPlacementReported(t *testing.T) {
	devs, err := Devices()
	skipOrFail(t, err)
	for _, mode := range []MemoryMode{MemoryMapped, MemoryDiscrete} {
		t.Run(mode.String(), func(t *testing.T) {
			if mode == MemoryMapped && !unifiedMemory(devs[0]) {
				t.Skipf("%s is a %s device: no mapped mode", devs[0].Name, devs[0].Type)
			}
			b, err := Open(0, Options{Validation: true, Memory: mode})
			require.NoError(t, err)
			t.Cleanup(func() {
				require.NoError(t, b.Close())
				require.Empty(t, b.ValidationMessages(), "validation messages")
			})
			info := b.Info()
			assert.Equal(t, mode, info.Memory)
			require.NotEmpty(t, info.Placement.Storages)
			assert.Equal(t, b.pool.types, info.Placement.Storages, "storages")
			for _, ti := range info.Placement.Storages {
				ty := info.MemoryTypes[ti]
				if mode == MemoryDiscrete {
					assert.True(t, ty.DeviceLocal, "discrete storages in device-local memory: %v", ty)
				}
				if mode == MemoryMapped {
					assert.True(t, ty.HostVisible && ty.HostCoherent, "mapped storages in host-visible coherent memory: %v", ty)
				}
			}
			if mode == MemoryMapped {
				assert.Nil(t, info.Placement.Upload)
				assert.Nil(t, info.Placement.Readback)
			} else {
				assert.Equal(t, b.upload.types, info.Placement.Upload, "upload staging")
				assert.Equal(t, b.readback.types, info.Placement.Readback, "read-back staging")
				require.NotEmpty(t, info.Placement.Readback)
			}
			assert.Equal(t, devs[0].MemoryTypes, info.MemoryTypes)
			if info.Type == "cpu" && mode == devs[0].Memory {
				assert.Equal(t, devs[0].Placement, info.Placement, "Devices' placement, by property flags")
			}
		})
	}
}
