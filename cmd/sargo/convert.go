package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"sargo/nn"
	"sargo/nn/pth"
	"sargo/sar"
	"sargo/sar/tokenizer"
)

// convertFlags are the flags of `sargo convert`.
type convertFlags struct {
	to, key, wrap string
}

func newConvertCmd() *cobra.Command {
	f := &convertFlags{}
	cmd := &cobra.Command{
		Use:   "convert IN OUT",
		Short: "Convert a state dict between PyTorch (.pth) and safetensors, bit for bit",
		Long: `convert copies the tensors of a state dict from IN to OUT, keeping every
name, dtype, shape and byte:

  PyTorch checkpoint (torch.save, zip or legacy) -> safetensors
  safetensors -> PyTorch checkpoint (the zip format, which torch.load reads)

In a nested PyTorch checkpoint the state dict is the one at --key (dotted:
ckpt["trainer"]["var_wo_ddp"] is trainer.var_wo_ddp); without --key it is
the only state dict in the file, or else the one holding a FlexVAR / SAR
transformer, or else the one holding a VQ-16 tokenizer. Nothing in the
file is executed: see the nn/pth package for what is accepted.

The output format is --to (pth or safetensors), or else OUT's extension
(.pth, .pt or .bin for PyTorch). --wrap KEY stores a PyTorch output as
{KEY: state_dict}, as FlexVAE.pth stores its weights under "model"; a
dotted KEY nests dicts ("trainer.var_wo_ddp", as FlexVAR's checkpoints).`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := convert(args[0], args[1], f)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %d tensors to %s\n", n, args[1])
			return nil
		},
	}
	cmd.Flags().StringVar(&f.to, "to", "", "output format: pth or safetensors (default: from OUT's extension)")
	cmd.Flags().StringVar(&f.key, "key", "", "dotted key of the state dict in a nested PyTorch checkpoint")
	cmd.Flags().StringVar(&f.wrap, "wrap", "", "store a PyTorch output under this key")
	return cmd
}

// convert writes the state dict of in to out and returns how many tensors
// it wrote.
func convert(in, out string, f *convertFlags) (int, error) {
	to := f.to
	if to == "" {
		switch strings.ToLower(filepath.Ext(out)) {
		case ".pth", ".pt", ".bin":
			to = "pth"
		default:
			to = "safetensors"
		}
	}
	if to != "pth" && to != "safetensors" {
		return 0, fmt.Errorf("convert: --to %q: want pth or safetensors", to)
	}
	if f.wrap != "" && to != "pth" {
		return 0, errors.New("convert: --wrap applies to PyTorch output only")
	}
	sd, err := openConvertInput(in, f.key)
	if err != nil {
		return 0, fmt.Errorf("convert: %w", err)
	}
	defer sd.Close()
	ts, err := sd.Tensors()
	if err != nil {
		return 0, fmt.Errorf("convert: %w", err)
	}
	if to == "safetensors" {
		err = nn.WriteSafetensorsFile(out, ts, nil)
	} else {
		pts := make([]pth.Tensor, len(ts))
		for i, t := range ts {
			pts[i] = pth.Tensor(t)
		}
		err = pth.WriteFile(out, pts, pth.WriteOptions{Key: f.wrap})
	}
	if err != nil {
		return 0, fmt.Errorf("convert: %w", err)
	}
	return len(ts), nil
}

// openConvertInput opens in's state dict: at key, or the only one, or the
// one of a FlexVAR transformer, or of a VQ-16 tokenizer.
func openConvertInput(in, key string) (*nn.StateDict, error) {
	sd, err := nn.OpenStateDict(in, key)
	if err == nil || key != "" {
		return sd, err
	}
	for _, want := range [][]string{sar.Markers(), {tokenizer.VQ16Marker}} {
		if sd, err2 := nn.OpenStateDict(in, "", want...); err2 == nil {
			return sd, nil
		}
	}
	return nil, err
}
