// Package regfile opens input files that must be regular files. A named
// pipe, a device or a socket given where a checkpoint, an image or a
// configuration is expected would block the reader forever (a FIFO
// without a writer) or never end (/dev/zero); they are refused with an
// error naming the path and what it is.
//
// Layering: a leaf utility; it imports no package of the module.
package regfile

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// Open opens path for reading when it is a regular file. It opens with
// O_NONBLOCK, so that opening a FIFO without a writer returns at once,
// and checks the opened file itself (no window between a check and the
// open).
func Open(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if err := Check(path, st.Mode()); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// ReadFile reads the whole of path when it is a regular file.
func ReadFile(path string) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	buf := bytes.NewBuffer(make([]byte, 0, st.Size()+bytes.MinRead))
	if _, err := buf.ReadFrom(f); err != nil {
		return nil, &fs.PathError{Op: "read", Path: path, Err: err}
	}
	return buf.Bytes(), nil
}

// Check returns an error when mode is not that of a regular file,
// naming path and its kind.
func Check(path string, mode fs.FileMode) error {
	if mode.IsRegular() {
		return nil
	}
	return fmt.Errorf("%s is %s, not a regular file", path, kind(mode))
}

// kind names a file mode's type.
func kind(mode fs.FileMode) string {
	switch {
	case mode.IsDir():
		return "a folder"
	case mode&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case mode&fs.ModeSocket != 0:
		return "a socket"
	case mode&fs.ModeCharDevice != 0:
		return "a character device"
	case mode&fs.ModeDevice != 0:
		return "a device"
	case mode&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "a file of mode " + mode.String()
}
