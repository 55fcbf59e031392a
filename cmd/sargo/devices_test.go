package main

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/kernels/vulkan"
)

// TestDevicesMemory checks what `sargo devices` says of each Vulkan
// device's robustness and memory, in both memory modes: the robustness
// sargo enables, every heap (size, device-local or not, budget where
// VK_EXT_memory_budget reports one), every memory type, and the types
// storages (and in the discrete mode the staging buffers) use.
func TestDevicesMemory(t *testing.T) {
	if err := vulkan.Probe(); err != nil {
		if os.Getenv("SARGO_REQUIRE_VULKAN") == "1" {
			require.NoError(t, err)
		}
		t.Skipf("no Vulkan: %v", err)
	}
	for _, mode := range []string{"", "discrete"} {
		t.Run("mode="+mode, func(t *testing.T) {
			t.Setenv("SARGO_VULKAN_MEMORY", mode)
			devs, err := vulkan.Devices()
			require.NoError(t, err)
			require.NotEmpty(t, devs)
			var out bytes.Buffer
			require.NoError(t, listDevices(&out, "cpu"))
			text := out.String()
			t.Log("\n" + text)
			row := func(name, value string) {
				t.Helper()
				assert.Regexp(t, `(?m)^ +`+name+`: +`+regexp.QuoteMeta(value)+`$`, text)
			}
			for _, d := range devs {
				row("robustness", d.Robustness())
				if d.Type == "cpu" { // lavapipe
					assert.Contains(t, d.Robustness(), "robust buffer access 2")
				}
				require.NotEmpty(t, d.Heaps)
				for i, h := range d.Heaps {
					kind := "host"
					if h.DeviceLocal {
						kind = "device-local"
					}
					budget := "no VK_EXT_memory_budget"
					if d.MemoryBudgetExt && h.Budget > 0 {
						budget = fmt.Sprintf("budget %d MiB, %d MiB in use", h.Budget>>20, h.Usage>>20)
					}
					row(fmt.Sprintf("heap %d", i), fmt.Sprintf("%d MiB, %s, %s", h.Size>>20, kind, budget))
				}
				require.NotEmpty(t, d.MemoryTypes)
				for i, ty := range d.MemoryTypes {
					row(fmt.Sprintf("memory type %d", i), ty.String())
				}
				require.NotEmpty(t, d.Placement.Storages)
				row("storages", "memory type "+joinTypes(d.Placement.Storages))
				if mode == "discrete" {
					require.Equal(t, vulkan.MemoryDiscrete, d.Memory)
					row("memory mode", "discrete (device-local storages, staging copies to and from the host)")
					row("upload staging", "memory type "+joinTypes(d.Placement.Upload))
					row("read-back staging", "memory type "+joinTypes(d.Placement.Readback))
				} else if d.Memory == vulkan.MemoryMapped {
					row("staging", "none (storages are mapped)")
				}
			}
			if devs[0].Type == "cpu" { // lavapipe: one device-local heap, one type of every property
				assert.Contains(t, text, "memory type 0: ")
				assert.Contains(t, text, "heap 0, device-local, host-visible, host-coherent")
			}
		})
	}
}

func joinTypes(idx []uint32) string {
	var s []string
	for _, i := range idx {
		s = append(s, fmt.Sprint(i))
	}
	return strings.Join(s, ", then ")
}
