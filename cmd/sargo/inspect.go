package main

import (
	"github.com/spf13/cobra"

	"sargo/nn"
)

func newInspectCmd() *cobra.Command {
	var key string
	cmd := &cobra.Command{
		Use:   "inspect FILE",
		Short: "Print a checkpoint's metadata and every tensor's name, dtype, shape and checksum",
		Long: `inspect validates a safetensors file (a sargo checkpoint or one written by
another program) or a PyTorch checkpoint (torch.save, zip or legacy) and
prints its metadata (model configuration, training step, RNG offset; for
PyTorch, the format and every state dict with its size) and, for every
tensor, its name, dtype, shape, size and CRC-32. In a PyTorch checkpoint
tensors are named by their dotted path (trainer.var_wo_ddp.head.weight);
--key restricts the listing to one state dict. A truncated, corrupt or
refused file makes it exit non-zero with a message naming the file and the
problem.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var r nn.Report
			var err error
			if key != "" {
				r, err = nn.InspectPyTorch(args[0], key)
			} else {
				r, err = nn.Inspect(args[0])
			}
			if err != nil {
				return err
			}
			return r.WriteText(cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&key, "key", "", "dotted key of one state dict in a PyTorch checkpoint")
	return cmd
}
