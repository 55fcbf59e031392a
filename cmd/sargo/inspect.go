package main

import (
	"github.com/spf13/cobra"

	"sargo/nn"
)

func newInspectCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "inspect FILE.safetensors",
		Short: "Print a checkpoint's metadata and every tensor's name, dtype, shape and checksum",
		Long: `inspect validates a safetensors file (a sargo checkpoint or one written by
another program) and prints its metadata (model configuration, training
step, RNG offset) and, for every tensor, its name, dtype, shape, size and
CRC-32. A truncated or corrupt file makes it exit non-zero with a message
naming the file and the problem.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := nn.Inspect(args[0])
			if err != nil {
				return err
			}
			return r.WriteText(cmd.OutOrStdout())
		},
	}
}
