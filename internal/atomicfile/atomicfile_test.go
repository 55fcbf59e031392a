package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// names lists the entries of dir.
func names(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.json")
	require.NoError(t, WriteFile(path, []byte("one")))
	require.NoError(t, WriteFile(path, []byte("two")))
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "two", string(got))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(Perm), fi.Mode().Perm())
	assert.Equal(t, []string{"a.json"}, names(t, dir), "no temporary file is left")
}

func TestWriteFillError(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.bin")
	require.NoError(t, WriteFile(path, []byte("old")))
	boom := errors.New("boom")
	err := Write(path, func(w io.Writer) error {
		_, _ = w.Write([]byte("partial"))
		return boom
	})
	require.ErrorIs(t, err, boom)
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "old", string(got), "a failed write leaves the old file")
	assert.Equal(t, []string{"a.bin"}, names(t, dir), "the temporary file is removed")
}

func TestWriteMissingFolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "a.bin")
	err := WriteFile(path, []byte("x"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), path)
}

func TestWriteCleansStale(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-time.Hour)
	stale := []string{".a.bin.tmp123", ".a.bin.tmp456"}
	keep := []string{".b.bin.tmp1", ".a.binx.tmp1", "a.bin.tmp1", ".a.bin.tmp.tmp1"}
	for _, n := range append(append([]string{}, stale...), keep...) {
		p := filepath.Join(dir, n)
		require.NoError(t, os.WriteFile(p, []byte("left"), 0o600))
		require.NoError(t, os.Chtimes(p, old, old))
	}
	require.NoError(t, WriteFile(filepath.Join(dir, "a.bin"), []byte("new")))
	assert.ElementsMatch(t, append([]string{"a.bin"}, keep...), names(t, dir))
}

func TestCleanStaleKeepsNewer(t *testing.T) {
	dir := t.TempDir()
	old, future := time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	for n, ts := range map[string]time.Time{".a.tmp1": old, ".a.tmp2": future} {
		p := filepath.Join(dir, n)
		require.NoError(t, os.WriteFile(p, nil, 0o600))
		require.NoError(t, os.Chtimes(p, ts, ts))
	}
	CleanStale(dir, "a")
	assert.Equal(t, []string{".a.tmp2"}, names(t, dir), "a write still in progress keeps its file")
	CleanStale(filepath.Join(dir, "missing"), "a") // no folder: nothing to do
}

// TestCleanDir checks that every temporary file of Write in a folder is
// removed, whatever its base name, and nothing else.
func TestCleanDir(t *testing.T) {
	dir := t.TempDir()
	stale := []string{".step_000002.safetensors.tmp123", ".model.safetensors.tmp9", ".x.tmp1"}
	keep := []string{"step_000002.safetensors", ".tmp1", "..tmp1", ".a.tmp", ".a.tmpx", "notes.tmp1", ".sargo.lock"}
	for _, n := range append(append([]string{}, stale...), keep...) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), nil, 0o600))
	}
	require.NoError(t, os.Mkdir(filepath.Join(dir, ".d.tmp5"), 0o755))
	removed, err := CleanDir(dir)
	require.NoError(t, err)
	assert.ElementsMatch(t, stale, removed)
	assert.ElementsMatch(t, append(keep, ".d.tmp5"), names(t, dir), "folders and other names stay")
	_, err = CleanDir(filepath.Join(dir, "missing"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

// TestWriteNonRegular checks that a FIFO (as a device such as /dev/null)
// is written in place and stays what it was, instead of being replaced by
// a renamed file, and that a folder is refused.
func TestWriteNonRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe")
	require.NoError(t, syscall.Mkfifo(fifo, 0o644))
	got := make(chan string, 1)
	go func() {
		b, err := os.ReadFile(fifo)
		if err != nil {
			got <- "read: " + err.Error()
			return
		}
		got <- string(b)
	}()
	require.NoError(t, WriteFile(fifo, []byte("through the pipe")))
	select {
	case s := <-got:
		assert.Equal(t, "through the pipe", s)
	case <-time.After(10 * time.Second):
		t.Fatal("the reader of the FIFO got nothing")
	}
	fi, err := os.Lstat(fifo)
	require.NoError(t, err)
	assert.NotZero(t, fi.Mode()&os.ModeNamedPipe, "the FIFO is still a FIFO, not a renamed file")
	assert.Equal(t, []string{"pipe"}, names(t, dir), "no temporary file is left")

	err = WriteFile(dir, []byte("x"))
	assert.ErrorContains(t, err, "is a folder, not a file")
}
