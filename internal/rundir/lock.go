// Package rundir guards the folders sargo's training commands write
// into: an advisory lock that keeps a second process out of a folder
// while the first one writes there.
//
// Layering: a leaf utility; it imports no package of the module.
package rundir

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// LockFile is the lock's file name inside the folder. It stays after the
// lock is released (removing it would let two processes lock two
// different files of the same name).
const LockFile = ".sargo.lock"

// Lock is a held lock on a folder.
type Lock struct {
	f    *os.File
	path string
}

// Acquire takes an exclusive advisory lock (flock) on dir's lock file,
// creating it, and writes this process's id into it. When another process
// (or another Acquire in this one) holds the lock, it fails at once with
// an error naming the folder and the holder's process id. The kernel
// releases the lock when its holder exits, however it exits. On a file
// system that does not support flock, the returned Lock holds nothing.
func Acquire(dir string) (*Lock, error) {
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.ENOTSUP) || errors.Is(err, syscall.ENOLCK) {
			// A file system without flock (some network mounts): the
			// folder cannot be guarded, which must not stop the work.
			f.Close()
			return &Lock{path: path}, nil
		}
		holder := holderOf(f)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s is in use by %s (lock file %s): wait for it to finish or stop it first", dir, holder, path)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	// The id only serves the message above: failing to write it is no
	// reason to fail.
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return &Lock{f: f, path: path}, nil
}

// holderOf reads the process id the lock's holder wrote.
func holderOf(f *os.File) string {
	buf := make([]byte, 32)
	n, err := f.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return "another process"
	}
	pid, perr := strconv.Atoi(strings.TrimSpace(string(buf[:n])))
	if perr != nil || pid <= 0 {
		return "another process (its id is not written yet)"
	}
	return "process " + strconv.Itoa(pid)
}

// Release unlocks and closes the lock file. It is safe on a nil Lock.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	if err != nil {
		return fmt.Errorf("unlock %s: %w", l.path, err)
	}
	return nil
}
