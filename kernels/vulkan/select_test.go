package vulkan

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/tensor"
)

func TestMatchDevice(t *testing.T) {
	devs := []DeviceInfo{{Name: "NVIDIA GeForce RTX 4090"}, {Name: "AMD Radeon RX 7900 XTX (RADV NAVI31)"}, {Name: "AMD Radeon Graphics (RADV GFX1103_R1)"}}
	for _, c := range []struct {
		sel  string
		want int
		err  string
	}{
		{"rtx", 0, ""},
		{"navi31", 1, ""},
		{"GFX1103", 2, ""},
		{"radv", 0, `2 Vulkan devices' names contain "radv" (devices: vulkan:0 NVIDIA GeForce RTX 4090; vulkan:1`},
		{"intel", 0, `no Vulkan device's name contains "intel"`},
	} {
		t.Run(c.sel, func(t *testing.T) {
			got, err := matchDevice(devs, c.sel)
			if c.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), c.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
		})
	}
}

// TestDeviceSelection names the first device by part of its name, through
// the device registry and through SARGO_VULKAN_DEVICE.
func TestDeviceSelection(t *testing.T) {
	devs, err := Devices()
	skipOrFail(t, err)
	name := devs[0].Name
	part := name[:min(len(name), 8)]
	if _, err := matchDevice(devs, part); err != nil {
		t.Skipf("the first device's name is not unique in its first 8 characters: %v", err)
	}
	got, err := tensor.ResolveDevice("vulkan:" + part)
	require.NoError(t, err)
	assert.Equal(t, "vulkan:0", got)

	t.Setenv("SARGO_VULKAN_DEVICE", part)
	got, err = tensor.ResolveDevice("vulkan")
	require.NoError(t, err)
	assert.Equal(t, "vulkan:0", got)
	t.Setenv("SARGO_VULKAN_DEVICE", "0")
	got, err = tensor.ResolveDevice("vulkan")
	require.NoError(t, err)
	assert.Equal(t, "vulkan:0", got)

	t.Setenv("SARGO_VULKAN_DEVICE", "no such device anywhere")
	_, err = tensor.ResolveDevice("vulkan")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `SARGO_VULKAN_DEVICE: no Vulkan device's name contains "no such device anywhere"`)
	_, err = tensor.ResolveDevice("vulkan:no such device anywhere")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "vulkan:0 "+name)
}
