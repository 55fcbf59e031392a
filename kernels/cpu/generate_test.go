package cpu

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGeneratedAssemblyCurrent runs the generator of internal/asmgen with
// the arguments of this package's go:generate lines and checks that the
// committed assembly and stubs are what it writes now.
func TestGeneratedAssemblyCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the generator")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	tmp := t.TempDir()
	gen := filepath.Join(tmp, "asmgen")
	out, err := exec.Command(goTool, "build", "-o", gen, "./internal/asmgen").CombinedOutput()
	require.NoError(t, err, "building the generator: %s", out)
	// The generator names the package after its working directory.
	dir := filepath.Join(tmp, "cpu")
	require.NoError(t, os.Mkdir(dir, 0o755))
	for _, args := range [][]string{
		{"-out", "gemm_amd64.s", "-stubs", "gemm_stub_amd64.go"},
		{"-set", "vector", "-out", "vector_amd64.s", "-stubs", "vector_stub_amd64.go"},
	} {
		cmd := exec.Command(gen, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "running the generator with %q: %s", args, out)
		for _, name := range []string{args[len(args)-3], args[len(args)-1]} {
			want, err := os.ReadFile(filepath.Join(dir, name))
			require.NoError(t, err)
			got, err := os.ReadFile(name)
			require.NoError(t, err)
			assert.True(t, string(want) == string(got), "%s is stale: run go generate ./kernels/cpu", name)
		}
	}
}
