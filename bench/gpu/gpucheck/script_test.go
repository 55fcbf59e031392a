package main

import (
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestScriptsParse checks bench/gpu's scripts with bash -n.
func TestScriptsParse(t *testing.T) {
	for _, s := range []string{"../run.sh", "../build.sh"} {
		out, err := exec.Command("bash", "-n", s).CombinedOutput()
		require.NoError(t, err, "%s: %s", s, out)
	}
}

// TestRunScriptArguments checks that run.sh refuses bad arguments before
// it does anything.
func TestRunScriptArguments(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		args []string
		want string
	}{
		{nil, "no OUTDIR and no $OUT; usage: bench/gpu/run.sh"},
		{[]string{"--limit", "ten", dir}, "--limit wants whole seconds, got 'ten'"},
		{[]string{"--fast", dir}, "unknown flag --fast"},
		{[]string{dir, dir}, "one OUTDIR only"},
	}
	for _, tt := range tests {
		cmd := exec.Command("bash", append([]string{"../run.sh"}, tt.args...)...)
		cmd.Env = append(os.Environ(), "OUT=")
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		require.ErrorAs(t, err, &exit, "%v: %s", tt.args, out)
		assert.Equal(t, 2, exit.ExitCode(), "%v", tt.args)
		assert.Contains(t, string(out), tt.want, "%v", tt.args)
	}
}
