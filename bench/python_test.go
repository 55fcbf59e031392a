package bench

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// torchMissing reports why the PyTorch reference cannot run here, or nil.
func torchMissing() error { return TorchAvailable(DefaultPython) }

// TestTorchAvailableWithoutTorch hides Debian's dist-packages the way a
// fresh machine lacks them and checks that the guard says PyTorch is
// missing: from bench/, whose folder torch/ Python would import as a
// namespace package, and with such a folder on PYTHONPATH itself.
func TestTorchAvailableWithoutTorch(t *testing.T) {
	if _, err := os.Stat(DefaultPython); err != nil {
		t.Skipf("no %s: %v", DefaultPython, err)
	}
	for _, tc := range []struct {
		name       string
		namespaced bool
	}{
		{"dist-packages hidden", false},
		{"namespace folder on PYTHONPATH", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			hide := "import sys\nsys.path[:] = [p for p in sys.path if \"dist-packages\" not in p]\n"
			require.NoError(t, os.WriteFile(filepath.Join(dir, "sitecustomize.py"), []byte(hide), 0o644))
			if tc.namespaced {
				require.NoError(t, os.Mkdir(filepath.Join(dir, "torch"), 0o755))
			}
			t.Setenv("PYTHONPATH", dir)
			err := TorchAvailable(DefaultPython)
			require.ErrorContains(t, err, "cannot import PyTorch")
		})
	}
}
