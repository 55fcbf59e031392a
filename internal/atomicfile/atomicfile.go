// Package atomicfile writes files atomically: the content goes to a
// temporary file in the destination's folder, which is synced, renamed
// over the destination, and the folder synced, so a crash leaves either
// the old file or the new one, never a torn one.
//
// Layering: a leaf utility; it imports no package of the module.
package atomicfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Perm is the permission of the files written.
const Perm = 0o644

// tempPattern is the os.CreateTemp pattern of the temporary files of
// base: ".<base>.tmp" and a random suffix, the names CleanStale removes.
func tempPattern(base string) string { return "." + base + ".tmp*" }

// Write writes path through fill, which receives a buffered writer onto
// a temporary file in path's folder. The folder must exist. On any error
// the temporary file is removed and path is left as it was. After a
// successful write, temporary files of path left by earlier interrupted
// writes are removed (see CleanStale).
//
// A path that names a device or a pipe (/dev/null, /dev/stdout, a FIFO)
// is written in place: renaming over it would replace the device node
// with a file. A path that names a folder is an error.
func Write(path string, fill func(io.Writer) error) (err error) {
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		return writeInPlace(path, st.Mode(), fill)
	}
	start := time.Now()
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, tempPattern(base))
	if err != nil {
		return fmt.Errorf("write %s: create temporary file: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(Perm); err != nil { // CreateTemp makes 0600 files
		return fmt.Errorf("write %s: %w", path, err)
	}
	bw := bufio.NewWriterSize(tmp, 1<<20)
	if err = fill(bw); err != nil {
		return err
	}
	if err = bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", tmp.Name(), err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp.Name(), err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("rename to %s: %w", path, err)
	}
	if err := syncDir(dir); err != nil {
		return err
	}
	cleanStale(dir, base, start)
	return nil
}

// writeInPlace writes path, which is not a regular file, through fill.
func writeInPlace(path string, mode os.FileMode, fill func(io.Writer) error) error {
	if mode.IsDir() {
		return fmt.Errorf("write %s: is a folder, not a file", path)
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := fill(bw); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	return nil
}

// WriteFile writes data to path atomically (see Write).
func WriteFile(path string, data []byte) error {
	return Write(path, func(w io.Writer) error {
		if _, err := w.Write(data); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		return nil
	})
}

// CleanStale removes the temporary files ".<base>.tmp<digits>" in dir that were
// last modified before the call: those left behind by writes of base
// that were killed before they could rename or remove them. It is best
// effort: files it cannot list or remove are left.
func CleanStale(dir, base string) { cleanStale(dir, base, time.Now()) }

// CleanDir removes every temporary file a write into dir left behind
// (".<name>.tmp<digits>", whatever the name), such as the numbered
// checkpoints' temporaries of a killed run, and returns the names it
// removed. Only a process that owns dir (holds its lock) may call it:
// a concurrent write's temporary file would be removed too.
func CleanDir(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, e := range entries {
		if !isTemp(e.Name()) || !e.Type().IsRegular() {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
			return removed, err
		}
		removed = append(removed, e.Name())
	}
	return removed, nil
}

// isTemp reports whether name is a temporary file of Write:
// ".<base>.tmp<digits>" with a non-empty base.
func isTemp(name string) bool {
	rest, ok := strings.CutPrefix(name, ".")
	if !ok {
		return false
	}
	i := strings.LastIndex(rest, ".tmp")
	return i > 0 && digits(rest[i+len(".tmp"):])
}

// cleanStale removes the temporary files of base in dir last modified
// before cutoff, so a write running concurrently keeps its own.
func cleanStale(dir, base string, cutoff time.Time) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	prefix := "." + base + ".tmp"
	for _, e := range entries {
		suffix, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || !digits(suffix) || !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil || !fi.ModTime().Before(cutoff) {
			continue
		}
		os.Remove(filepath.Join(dir, e.Name()))
	}
}

// digits reports whether s is a non-empty run of decimal digits, the
// random part os.CreateTemp puts in place of "*".
func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// syncDir flushes dir's entries (the rename) to disk. File systems that
// cannot sync a folder report os.ErrInvalid, which is ignored.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open folder %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("sync folder %s: %w", dir, err)
	}
	return nil
}
