package regfile

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRefusesNonRegular checks that named pipes, folders and devices are
// refused at once (a FIFO without a writer would block os.ReadFile
// forever) and regular files and links to them are read.
func TestRefusesNonRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o644))
	file := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(file, []byte("content"), 0o644))
	link := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink(file, link))

	for path, want := range map[string]string{
		fifo:        "is a named pipe (FIFO), not a regular file",
		dir:         "is a folder, not a regular file",
		"/dev/null": "is a character device, not a regular file",
	} {
		_, err := ReadFile(path)
		assert.ErrorContains(t, err, path+" "+want)
		_, err = Open(path)
		assert.ErrorContains(t, err, want)
	}
	for _, p := range []string{file, link} {
		got, err := ReadFile(p)
		require.NoError(t, err)
		assert.Equal(t, "content", string(got))
	}
	_, err := ReadFile(filepath.Join(dir, "missing"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}
