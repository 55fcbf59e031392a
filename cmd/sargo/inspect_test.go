package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestInspectPyTorchCLI runs `sargo inspect` on PyTorch checkpoints: every
// state dict of a nested file, one of them by --key, and a truncated file
// and a refused global, which fail naming the file and the problem.
func TestInspectPyTorchCLI(t *testing.T) {
	fixtures := filepath.Join("..", "..", "testdata", "pth")
	nested, err := os.ReadFile(filepath.Join(fixtures, "nested.pth"))
	require.NoError(t, err)
	truncated := filepath.Join(t.TempDir(), "truncated.pth")
	require.NoError(t, os.WriteFile(truncated, nested[:len(nested)/2], 0o644))
	tests := []struct {
		name    string
		args    []string
		want    []string
		absent  []string
		wantErr bool
	}{
		{name: "every state dict", args: []string{filepath.Join(fixtures, "nested.pth")},
			want: []string{"pytorch zip", "trainer.var_wo_ddp.head.weight", "trainer.var_opt.state.0.exp_avg"}},
		{name: "one state dict", args: []string{filepath.Join(fixtures, "nested.pth"), "--key", "trainer.var_wo_ddp"},
			want: []string{"head.weight", "head.bias"}, absent: []string{"exp_avg"}},
		{name: "legacy format", args: []string{filepath.Join(fixtures, "state_legacy.pth")}, want: []string{"pytorch legacy"}},
		{name: "truncated", args: []string{truncated}, want: []string{"truncated.pth", "invalid PyTorch checkpoint"}, wantErr: true},
		{name: "refused global", args: []string{filepath.Join(fixtures, "namespace.pth")},
			want: []string{"namespace.pth", "refused global argparse.Namespace"}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := newInspectCmd()
			var buf bytes.Buffer
			cmd.SetOut(&buf)
			cmd.SetErr(&buf)
			cmd.SetArgs(tc.args)
			err := cmd.Execute()
			text := buf.String()
			if tc.wantErr {
				require.Error(t, err)
				text = err.Error()
			} else {
				require.NoError(t, err)
			}
			for _, w := range tc.want {
				assert.Contains(t, text, w)
			}
			for _, a := range tc.absent {
				assert.NotContains(t, text, a)
			}
		})
	}
}
