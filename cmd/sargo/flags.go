package main

import (
	"fmt"
	"math"
	"os"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"sargo/internal/membudget"
)

// checkFlags runs before every command: every floating-point flag given
// must be finite (NaN and ±Inf pass pflag's parser but mean nothing as a
// learning rate, a guidance scale or a loss weight), and the memory limit
// must parse. --memory-limit sets SARGO_MEMORY_LIMIT for the process, so
// that every memory check (membudget) applies it.
func checkFlags(cmd *cobra.Command, opts *globalOptions) error {
	var err error
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if err != nil {
			return
		}
		switch f.Value.Type() {
		case "float32", "float64":
			v, perr := strconv.ParseFloat(f.Value.String(), 64)
			if perr != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				err = fmt.Errorf("--%s %s: want a finite number", f.Name, f.Value.String())
			}
		}
	})
	if err != nil {
		return err
	}
	if opts.memoryLimit != "" {
		if _, err := membudget.ParseSize(opts.memoryLimit); err != nil {
			return fmt.Errorf("--memory-limit: %w", err)
		}
		return os.Setenv(membudget.EnvLimit, opts.memoryLimit)
	}
	if _, _, err := membudget.Limit(); err != nil {
		return err
	}
	return nil
}
