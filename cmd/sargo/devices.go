package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"sargo/kernels/opengl"
	"sargo/kernels/vulkan"
	"sargo/tensor"
)

func newDevicesCmd(opts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "devices",
		Short: "List the compute devices and their capabilities",
		Long: `devices lists every compute device sargo can use: the CPU, each Vulkan
device with the properties that choose kernel variants (subgroup size,
shared memory, workgroup limits, fp16/int8 support, buffer and allocation
limits, robustness, memory mode, each memory heap with its budget where
VK_EXT_memory_budget reports one, the memory types, and which of them
storages and staging buffers use), and each OpenGL device (renderer, version, EGL
platform and the compute limits the backend checks). The device that
--device (or SARGO_DEVICE) selects is marked with *; a Vulkan device may
be named by index (vulkan:1) or by part of its name (vulkan:llvmpipe), and
SARGO_VULKAN_DEVICE (an index or a name) says which one a bare "vulkan"
means.

Without a Vulkan loader, an EGL library or a driver it says which package
to install; sargo then runs on the CPU.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return listDevices(cmd.OutOrStdout(), opts.device)
		},
	}
}

func listDevices(w io.Writer, selected string) error {
	if selected == "" {
		selected = tensor.DeviceFromEnv()
	}
	cpu, err := tensor.Open("cpu")
	if err != nil {
		return err
	}
	mark := func(name string) string {
		if name == selected || (selected == "vulkan" && name == "vulkan:0") || (selected == "opengl" && name == "opengl:0") {
			return "*"
		}
		return " "
	}
	fmt.Fprintf(w, "%s cpu        %s\n", mark("cpu"), cpu.Describe())
	if err := listVulkan(w, mark); err != nil {
		return err
	}
	return listOpenGL(w, mark)
}

// listVulkan lists the Vulkan devices, or says why there are none.
func listVulkan(w io.Writer, mark func(string) string) error {
	if err := vulkan.Probe(); err != nil {
		fmt.Fprintf(w, "  vulkan     unavailable: %v\n", err)
		return nil
	}
	devs, err := vulkan.Devices()
	if err != nil {
		return fmt.Errorf("list Vulkan devices: %w", err)
	}
	for _, d := range devs {
		deviceLine(w, mark, "vulkan", d.Index, d.Name, d.Default)
		rows := [][2]string{
			{"type", d.Type},
			{"driver", d.Driver},
			{"api", d.APIVersion},
			{"memory mode", memoryMode(d)},
			{"robustness", d.Robustness()},
			{"subgroup size", d.SubgroupSizes()},
			{"subgroup arithmetic", fmt.Sprint(d.SubgroupArithmetic)},
			{"subgroup shuffle", fmt.Sprint(d.SubgroupShuffle)},
			{"shared memory", fmt.Sprintf("%d KiB", d.MaxSharedMemory/1024)},
			{"workgroup", fmt.Sprintf("%d invocations, size %v, count %v", d.MaxWorkgroupInvocations, d.MaxWorkgroupSize, d.MaxWorkgroupCount)},
			{"fp16 / int8", fmt.Sprintf("%v / %v (storage %v / %v)", d.Float16, d.Int8, d.Storage16, d.Storage8)},
			{"storage buffer range", fmt.Sprintf("%d MiB", d.MaxStorageBufferRange>>20)},
			{"allocation limit", fmt.Sprintf("%d MiB", d.MaxMemoryAllocationSize>>20)},
			{"offset alignment", fmt.Sprint(d.MinStorageBufferOffsetAlignment)},
			{"device-local memory", d.DeviceMemory()},
		}
		rows = append(rows, memoryRows(d)...)
		printRows(w, rows)
	}
	return nil
}

// memoryMode says where a Vulkan device keeps storages and why.
func memoryMode(d vulkan.DeviceInfo) string {
	switch d.Memory {
	case vulkan.MemoryMapped:
		return "mapped (unified memory: the host maps storages, no staging copies)"
	case vulkan.MemoryDiscrete:
		return "discrete (device-local storages, staging copies to and from the host)"
	}
	return d.Memory.String()
}

// memoryRows lists a Vulkan device's memory heaps (size, device-local or
// not, budget and usage where VK_EXT_memory_budget reports them), its
// memory types, and the types its storages and staging buffers use.
func memoryRows(d vulkan.DeviceInfo) [][2]string {
	var rows [][2]string
	for i, h := range d.Heaps {
		kind := "host"
		if h.DeviceLocal {
			kind = "device-local"
		}
		budget := "no VK_EXT_memory_budget"
		if d.MemoryBudgetExt && h.Budget > 0 {
			budget = fmt.Sprintf("budget %d MiB, %d MiB in use", h.Budget>>20, h.Usage>>20)
		}
		rows = append(rows, [2]string{fmt.Sprintf("heap %d", i), fmt.Sprintf("%d MiB, %s, %s", h.Size>>20, kind, budget)})
	}
	for i, t := range d.MemoryTypes {
		rows = append(rows, [2]string{fmt.Sprintf("memory type %d", i), t.String()})
	}
	types := func(idx []uint32) string {
		if len(idx) == 0 {
			return "none"
		}
		var s []string
		for _, i := range idx {
			s = append(s, fmt.Sprint(i))
		}
		return "memory type " + strings.Join(s, ", then ")
	}
	rows = append(rows, [2]string{"storages", types(d.Placement.Storages)})
	if d.Memory == vulkan.MemoryMapped {
		return append(rows, [2]string{"staging", "none (storages are mapped)"})
	}
	return append(rows,
		[2]string{"upload staging", types(d.Placement.Upload)},
		[2]string{"read-back staging", types(d.Placement.Readback)})
}

// listOpenGL lists the OpenGL devices, or says why there are none.
func listOpenGL(w io.Writer, mark func(string) string) error {
	devs, err := opengl.Devices()
	if err != nil {
		fmt.Fprintf(w, "  opengl     unavailable: %v\n", err)
		return nil
	}
	for _, d := range devs {
		deviceLine(w, mark, "opengl", d.Index, d.Renderer, d.Default)
		node := ""
		if d.DRMNode != "" {
			node = ", " + d.DRMNode
		}
		rows := [][2]string{
			{"type", d.Kind()},
			{"version", fmt.Sprintf("%s (GLSL %s)", d.Version, d.GLSL)},
			{"vendor", d.Vendor},
			{"EGL", fmt.Sprintf("%s, %s platform%s", d.EGL, d.Platform, node)},
			{"robust access", fmt.Sprint(d.Robust)},
			{"video memory", videoMemory(d)},
			{"subgroup size", fmt.Sprintf("%d (arithmetic %v)", d.SubgroupSize, d.SubgroupArithmetic)},
			{"shared memory", fmt.Sprintf("%d KiB", d.MaxSharedMemory/1024)},
			{"workgroup", fmt.Sprintf("%d invocations, size %v, count %v", d.MaxWorkgroupInvocations, d.MaxWorkgroupSize, d.MaxWorkgroupCount)},
			{"storage block size", fmt.Sprintf("%d MiB", d.MaxStorageBlockSize>>20)},
			{"storage blocks", fmt.Sprintf("%d per compute shader", d.MaxStorageBlocks)},
			{"alignment", fmt.Sprintf("storage %d, uniform %d", d.StorageAlignment, d.UniformAlignment)},
			{"program binaries", fmt.Sprintf("%d formats", d.BinaryFormats)},
		}
		printRows(w, rows)
	}
	return nil
}

// videoMemory describes an OpenGL device's memory.
func videoMemory(d opengl.DeviceInfo) string {
	switch {
	case d.Software:
		return "host memory (software renderer)"
	case d.VideoMemory == 0:
		return "not reported by the driver"
	}
	return fmt.Sprintf("%d MiB", d.VideoMemory>>20)
}

// deviceLine prints the first line of a device: its mark, name and title.
func deviceLine(w io.Writer, mark func(string) string, kind string, index int, title string, isDefault bool) {
	name := fmt.Sprintf("%s:%d", kind, index)
	if isDefault {
		title += " (default " + kind + ")"
	}
	fmt.Fprintf(w, "%s %-10s %s\n", mark(name), name, title)
}

// printRows prints a device's properties, indented, in aligned columns.
func printRows(w io.Writer, rows [][2]string) {
	tw := tabwriter.NewWriter(w, 0, 4, 1, ' ', 0)
	for _, r := range rows {
		fmt.Fprintf(tw, "             %s:\t%s\n", r[0], r[1])
	}
	tw.Flush()
}
