// Command sargo is the command-line interface of sargo: a tensor engine
// with Vulkan compute kernels and a CPU backend, and the SAR scale-wise
// autoregressive image generator built on it.
//
// Run `sargo --help` for the commands; every command takes --device.
//
// Layering: the top of the stack. It may import every package of the module
// (it links the cpu, vulkan and opengl backends in); no package imports it.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	// The backends register themselves with the tensor device registry.
	_ "sargo/kernels/cpu"
	_ "sargo/kernels/opengl" // with -tags opengl; otherwise it says how to get it
	_ "sargo/kernels/vulkan"
)

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "sargo:", err)
		os.Exit(1)
	}
}

// globalOptions are the flags every command shares.
type globalOptions struct {
	device      string
	seed        uint64
	memoryLimit string
}

func newRootCmd() *cobra.Command {
	opts := &globalOptions{}
	root := &cobra.Command{
		Use:   "sargo",
		Short: "A Vulkan/OpenGL/CPU tensor engine and the SAR scale-wise autoregressive image generator",
		Long: `sargo is a from-scratch tensor engine (tensors, reverse-mode autograd, kernels
written as GLSL compute shaders run through Vulkan or OpenGL, and a parallel
pure-Go CPU backend) and,
on top of it, SAR: scale-wise autoregressive image generation with
Stagger-Scale Rollout and the Contrastive Student-Forcing Loss.

Devices are named cpu, vulkan (the first Vulkan device) or vulkan:N, and
opengl or opengl:N (OpenGL 4.3 compute, in binaries built with -tags
opengl); the --device flag overrides the SARGO_DEVICE environment variable.

Requests whose size comes from input (a checkpoint's model, --n, --scale,
a data file's header) are checked against the memory the device has (the
host's available memory for cpu, the device-local heap for Vulkan), or
--memory-limit when lower, before anything is allocated.

SIGINT and SIGTERM stop training commands alike: the checkpoint is
written and the command exits non-zero, saying how to resume.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return checkFlags(cmd, opts)
		},
	}
	root.PersistentFlags().StringVar(&opts.device, "device", "", "compute device: cpu, vulkan, vulkan:N, vulkan:NAME, opengl or opengl:N (default $SARGO_DEVICE or cpu)")
	root.PersistentFlags().Uint64Var(&opts.seed, "seed", 0, "random seed")
	root.PersistentFlags().StringVar(&opts.memoryLimit, "memory-limit", "",
		"refuse requests needing more memory than this, such as 512MiB or 8GiB (default $SARGO_MEMORY_LIMIT, else what the device has)")
	root.AddCommand(newDevicesCmd(opts), newDemoCmd(opts), newTrainCmd(opts))
	root.AddCommand(newInspectCmd(), newConvertCmd())
	root.AddCommand(newTrainTokenizerCmd(opts))
	root.AddCommand(newBenchCmd(opts))
	root.AddCommand(newSampleCmd(opts))
	root.AddCommand(newEvalCmd(opts))
	root.AddCommand(newVizCmd(opts))
	root.AddCommand(newReproduceCmd(opts))
	root.AddCommand(newShadersCmd(opts))
	return root
}
