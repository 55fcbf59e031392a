// Command sargo is the command-line interface of sargo: a tensor engine
// with Vulkan compute kernels and a CPU backend, and the SAR scale-wise
// autoregressive image generator built on it.
//
// Run `sargo --help` for the commands; every command takes --device.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	// The backends register themselves with the tensor device registry.
	_ "sargo/kernels/cpu"
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
	device string
	seed   uint64
}

func newRootCmd() *cobra.Command {
	opts := &globalOptions{}
	root := &cobra.Command{
		Use:   "sargo",
		Short: "A Vulkan/CPU tensor engine and the SAR scale-wise autoregressive image generator",
		Long: `sargo is a from-scratch tensor engine (tensors, reverse-mode autograd, kernels
written as Vulkan compute shaders, and a parallel pure-Go CPU backend) and,
on top of it, SAR: scale-wise autoregressive image generation with
Stagger-Scale Rollout and the Contrastive Student-Forcing Loss.

Devices are named cpu, vulkan (the first Vulkan device) or vulkan:N; the
--device flag overrides the SARGO_DEVICE environment variable.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&opts.device, "device", "", "compute device: cpu, vulkan or vulkan:N (default $SARGO_DEVICE or cpu)")
	root.PersistentFlags().Uint64Var(&opts.seed, "seed", 0, "random seed")
	root.AddCommand(newDevicesCmd(opts), newDemoCmd(opts), newTrainCmd(opts))
	root.AddCommand(newInspectCmd(), newConvertCmd())
	root.AddCommand(newTrainTokenizerCmd(opts))
	root.AddCommand(newBenchCmd(opts))
	root.AddCommand(newSampleCmd(opts))
	root.AddCommand(newEvalCmd(opts))
	root.AddCommand(newVizCmd(opts))
	root.AddCommand(newReproduceCmd(opts))
	return root
}
