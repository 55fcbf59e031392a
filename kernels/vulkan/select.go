package vulkan

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"sargo/tensor"
)

func init() {
	tensor.RegisterResolver("vulkan", func(sel string) (int, error) {
		if sel == "" {
			return defaultDevice()
		}
		devs, err := Devices()
		if err != nil {
			return 0, err
		}
		return matchDevice(devs, sel)
	})
}

// defaultDevice is the index of the device a bare "vulkan" names:
// SARGO_VULKAN_DEVICE, an index or a device name, or else 0.
func defaultDevice() (int, error) {
	sel := strings.TrimSpace(os.Getenv("SARGO_VULKAN_DEVICE"))
	if sel == "" {
		return 0, nil
	}
	if n, err := strconv.Atoi(sel); err == nil {
		if n < 0 {
			return 0, fmt.Errorf("SARGO_VULKAN_DEVICE=%s: want a device index or name", sel)
		}
		return n, nil
	}
	devs, err := Devices()
	if err != nil {
		return 0, err
	}
	n, err := matchDevice(devs, sel)
	if err != nil {
		return 0, fmt.Errorf("SARGO_VULKAN_DEVICE: %w", err)
	}
	return n, nil
}

// matchDevice returns the index of the one device of devs whose name
// contains sel, ignoring case; none or several is an error that lists
// the devices.
func matchDevice(devs []DeviceInfo, sel string) (int, error) {
	var found []int
	for i, d := range devs {
		if strings.Contains(strings.ToLower(d.Name), strings.ToLower(sel)) {
			found = append(found, i)
		}
	}
	if len(found) == 1 {
		return found[0], nil
	}
	var names []string
	for i, d := range devs {
		names = append(names, fmt.Sprintf("vulkan:%d %s", i, d.Name))
	}
	what := "no Vulkan device's name contains"
	if len(found) > 1 {
		what = fmt.Sprintf("%d Vulkan devices' names contain", len(found))
	}
	return 0, fmt.Errorf("%s %q (devices: %s)", what, sel, strings.Join(names, "; "))
}
