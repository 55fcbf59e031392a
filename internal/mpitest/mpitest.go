// Package mpitest starts test programs under Open MPI's mpirun on this
// machine only: every connection is pinned to the loopback interface and
// shared memory, so a test never opens a socket on another interface.
//
// Layering: test support; it imports only dist/mpi.
package mpitest

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"sargo/dist/mpi"
)

// Env is the environment that keeps an mpirun job on this machine: the
// runtime's out-of-band channel and the TCP transport on loopback, and
// the byte transfer layers limited to self and shared memory (vader),
// copying through the shared segment rather than with cross-process
// reads, which containers often forbid. As root it adds Open MPI's two
// consent variables, without which mpirun refuses to start.
func Env() []string {
	env := []string{
		"OMPI_MCA_oob_tcp_if_include=lo",
		"OMPI_MCA_btl_tcp_if_include=lo",
		"OMPI_MCA_btl=self,vader",
		"OMPI_MCA_btl_vader_single_copy_mechanism=none",
	}
	if os.Geteuid() == 0 {
		env = append(env, "OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1")
	}
	return env
}

// Missing says why MPI tests cannot run here ("" when they can): mpirun
// is not on the path, or libmpi.so.40 does not open.
func Missing() string {
	if _, err := exec.LookPath("mpirun"); err != nil {
		return "Open MPI's mpirun is not installed (scripts/setup.sh --mpi installs it)"
	}
	if err := mpi.Load(); err != nil {
		return err.Error()
	}
	return ""
}

// Require skips t, with the reason, where Open MPI is missing, or fails
// it there when SARGO_REQUIRE_MPI=1 (as in CI, which installs Open MPI).
func Require(t testing.TB) {
	t.Helper()
	if why := Missing(); why != "" {
		if os.Getenv("SARGO_REQUIRE_MPI") == "1" {
			t.Fatalf("SARGO_REQUIRE_MPI=1 but %s", why)
		}
		t.Skip(why)
	}
}

// Command is `mpirun -np n --oversubscribe exe args...` with Env added to
// the current environment and extra after it. --oversubscribe lets a job
// have more ranks than the machine has cores. Each job keeps its session
// files in a folder of its own, removed when t ends: jobs of packages
// tested at the same time otherwise share /tmp/ompi.<host>.<uid>, and one
// job's clean-up races the other's start ("mkdir ... File exists").
func Command(t testing.TB, n int, extra []string, exe string, args ...string) *exec.Cmd {
	t.Helper()
	session, err := os.MkdirTemp("", "ompi") // short: the runtime's socket paths live below it
	if err != nil {
		t.Fatalf("mpirun session folder: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(session) })
	cmd := exec.Command("mpirun", append([]string{"-np", strconv.Itoa(n), "--oversubscribe", exe}, args...)...)
	cmd.Env = append(append(os.Environ(), Env()...), extra...)
	cmd.Env = append(cmd.Env, "OMPI_MCA_orte_tmpdir_base="+session)
	return cmd
}

// Describe is a one-line summary of a finished command's output for a
// failure message.
func Describe(cmd *exec.Cmd, out []byte, err error) string {
	return fmt.Sprintf("%v: %v\n%s", cmd.Args, err, out)
}
