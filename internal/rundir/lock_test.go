package rundir

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lockHelperEnv makes the test binary hold a lock on a folder until its
// stdin closes, as a second process would.
const lockHelperEnv = "SARGO_TEST_LOCK_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(lockHelperEnv); dir != "" {
		if _, err := Acquire(dir); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("locked")
		buf := make([]byte, 1)
		os.Stdin.Read(buf)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestLockInProcess(t *testing.T) {
	dir := t.TempDir()
	a, err := Acquire(dir)
	require.NoError(t, err)
	_, err = Acquire(dir)
	assert.EqualError(t, err, fmt.Sprintf("%s is in use by process %d (lock file %s): wait for it to finish or stop it first",
		dir, os.Getpid(), filepath.Join(dir, LockFile)))
	require.NoError(t, a.Release())
	b, err := Acquire(dir)
	require.NoError(t, err, "free after Release")
	require.NoError(t, b.Release())
	var none *Lock
	assert.NoError(t, none.Release())
	_, err = Acquire(filepath.Join(dir, "missing"))
	assert.Error(t, err)
}

// TestLockAcrossProcesses checks that another process's lock is refused,
// naming its id, and that the lock is free once that process exits.
func TestLockAcrossProcesses(t *testing.T) {
	dir := t.TempDir()
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), lockHelperEnv+"="+dir)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	buf := make([]byte, 7)
	_, err = stdout.Read(buf)
	require.NoError(t, err)
	require.Equal(t, "locked\n", string(buf))

	_, err = Acquire(dir)
	assert.ErrorContains(t, err, fmt.Sprintf("is in use by process %d", cmd.Process.Pid))
	stdin.Close()
	require.NoError(t, cmd.Wait())
	l, err := Acquire(dir)
	require.NoError(t, err)
	require.NoError(t, l.Release())
}
