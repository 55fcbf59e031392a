package bench

import (
	"fmt"
	"os/exec"
)

// torchMissing reports why the PyTorch reference cannot run here, or nil.
func torchMissing() error {
	if err := exec.Command(DefaultPython, "-c", "import torch").Run(); err != nil {
		return fmt.Errorf("%s cannot import torch: %w", DefaultPython, err)
	}
	return nil
}
