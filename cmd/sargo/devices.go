package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"sargo/kernels/vulkan"
	"sargo/tensor"
)

func newDevicesCmd(opts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "devices",
		Short: "List the compute devices and their capabilities",
		Long: `devices lists every compute device sargo can use: the CPU, and each Vulkan
device with the properties that choose kernel variants (subgroup size,
shared memory, workgroup limits, fp16/int8 support, buffer and allocation
limits, memory heaps). The device that --device (or SARGO_DEVICE) selects
is marked with *.

Without a Vulkan loader or driver it says which package to install; sargo
then runs on the CPU.`,
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
		if name == selected || (selected == "vulkan" && name == "vulkan:0") {
			return "*"
		}
		return " "
	}
	fmt.Fprintf(w, "%s cpu        %s\n", mark("cpu"), cpu.Describe())
	if err := vulkan.Probe(); err != nil {
		fmt.Fprintf(w, "  vulkan     unavailable: %v\n", err)
		return nil
	}
	devs, err := vulkan.Devices()
	if err != nil {
		return fmt.Errorf("list Vulkan devices: %w", err)
	}
	for _, d := range devs {
		name := fmt.Sprintf("vulkan:%d", d.Index)
		def := ""
		if d.Default {
			def = " (default vulkan)"
		}
		fmt.Fprintf(w, "%s %-10s %s%s\n", mark(name), name, d.Name, def)
		tw := tabwriter.NewWriter(w, 0, 4, 1, ' ', 0)
		rows := [][2]string{
			{"type", d.Type},
			{"driver", d.Driver},
			{"api", d.APIVersion},
			{"memory mode", memoryMode(d)},
			{"robustness", d.Robustness()},
			{"subgroup size", d.SubgroupSizes()},
			{"subgroup arithmetic", fmt.Sprint(d.SubgroupArithmetic)},
			{"shared memory", fmt.Sprintf("%d KiB", d.MaxSharedMemory/1024)},
			{"workgroup", fmt.Sprintf("%d invocations, size %v, count %v", d.MaxWorkgroupInvocations, d.MaxWorkgroupSize, d.MaxWorkgroupCount)},
			{"fp16 / int8", fmt.Sprintf("%v / %v (storage %v / %v)", d.Float16, d.Int8, d.Storage16, d.Storage8)},
			{"storage buffer range", fmt.Sprintf("%d MiB", d.MaxStorageBufferRange>>20)},
			{"allocation limit", fmt.Sprintf("%d MiB", d.MaxMemoryAllocationSize>>20)},
			{"offset alignment", fmt.Sprint(d.MinStorageBufferOffsetAlignment)},
			{"device-local memory", d.DeviceMemory()},
		}
		for _, r := range rows {
			fmt.Fprintf(tw, "             %s:\t%s\n", r[0], r[1])
		}
		tw.Flush()
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
