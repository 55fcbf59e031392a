package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/internal/mpitest"
	"sargo/nn"
	"sargo/sar"
	"sargo/sar/preset"
	"sargo/sar/tokenizer"
	"sargo/sar/train"
	"sargo/tensor"
)

// parallelDir is a folder holding tok/, the untrained tokenizer of the
// tiny preset (32-px grey images, as MNIST's).
func parallelDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	p, err := preset.Get("tiny")
	require.NoError(t, err)
	vq, err := tokenizer.New(p.Tokenizer, tensor.MustOpen("cpu"), 1)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "tok"), 0o755))
	require.NoError(t, vq.Save(filepath.Join(dir, "tok", tokenizer.CheckpointFile), nil))
	return dir
}

// sarArgs is a short SAR run of the tiny preset on MNIST (the demo data)
// with a sampled teacher, so that random draws matter.
func sarArgs(out string, steps int, extra ...string) []string {
	return append([]string{"train", "--tokenizer", "tok", "--method", "sar", "--teacher", "sample", "--preset", "tiny",
		"--data", "mnist", "--steps", strconv.Itoa(steps), "--batch", "4", "--log-every", "1", "--save-every", "0",
		"--out", out}, extra...)
}

// cliCmd is the test binary run as sargo with args in dir.
func cliCmd(ctx context.Context, t *testing.T, dir string, env []string, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.CommandContext(ctx, exe)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), cliArgsEnv+"="+strings.Join(args, cliArgSep)), env...)
	return cmd
}

// mpiCmd is `mpirun -np n` of the test binary run as sargo.
func mpiCmd(ctx context.Context, t *testing.T, dir string, n int, env []string, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := mpitest.Command(t, n, append(env, cliArgsEnv+"="+strings.Join(args, cliArgSep)), exe)
	c := exec.CommandContext(ctx, cmd.Path, cmd.Args[1:]...)
	c.Env, c.Dir = cmd.Env, dir
	return c
}

func run(t *testing.T, cmd *exec.Cmd) string {
	t.Helper()
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, mpitest.Describe(cmd, out, err))
	return string(out)
}

// sameWeights checks that two checkpoints hold the same model weights to
// tol, relative over all of them: ‖a − b‖ / ‖a‖.
func sameWeights(t *testing.T, a, b string, tol float64) {
	t.Helper()
	fa, err := nn.ReadSafetensorsFile(a)
	require.NoError(t, err)
	fb, err := nn.ReadSafetensorsFile(b)
	require.NoError(t, err)
	ib := fb.Index()
	var diff, norm, worst float64
	worstName := ""
	n := 0
	for _, ta := range fa.Tensors {
		if strings.HasPrefix(ta.Name, "optim.") {
			continue
		}
		tb, ok := ib[ta.Name]
		require.True(t, ok, "%s has no %s", b, ta.Name)
		va, err := ta.Float32s()
		require.NoError(t, err)
		vb, err := tb.Float32s()
		require.NoError(t, err)
		require.Len(t, vb, len(va), ta.Name)
		var d, m float64
		for i := range va {
			d += math.Pow(float64(va[i])-float64(vb[i]), 2)
			m += math.Pow(float64(va[i]), 2)
		}
		diff, norm = diff+d, norm+m
		if m > 0 && math.Sqrt(d/m) > worst {
			worst, worstName = math.Sqrt(d/m), ta.Name
		}
		n++
	}
	require.NotZero(t, n)
	rel := math.Sqrt(diff / norm)
	t.Logf("%d weight tensors: relative difference %.3g overall, at most %.3g (%s)", n, rel, worst, worstName)
	assert.LessOrEqual(t, rel, tol, "weights of %s and %s", a, b)
}

// TestTrainMPIMatchesOneProcess is the equivalence test: on the CPU,
// mpirun -np 2 with global batch 4 gives the weights of one process with
// batch 4 after 3 SAR steps, and a second mpirun run repeats the first
// bit for bit.
func TestTrainMPIMatchesOneProcess(t *testing.T) {
	mpitest.Require(t)
	dir := parallelDir(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	env := []string{"SARGO_DEVICE=cpu"}
	run(t, cliCmd(ctx, t, dir, env, sarArgs("one", 3)...))
	out := run(t, mpiCmd(ctx, t, dir, 2, env, sarArgs("two", 3)...))
	assert.Contains(t, out, "data-parallel: 2 ranks × 1 device = 2 replicas, 2 images each per step")
	run(t, mpiCmd(ctx, t, dir, 2, env, sarArgs("again", 3)...))

	sameWeights(t, filepath.Join(dir, "one", train.CheckpointFile), filepath.Join(dir, "two", train.CheckpointFile), 1e-6)
	a := weights(t, filepath.Join(dir, "two", train.CheckpointFile))
	b := weights(t, filepath.Join(dir, "again", train.CheckpointFile))
	for name, v := range a {
		require.Equal(t, v, b[name], "%s: two mpirun runs must agree bit for bit", name)
	}
	ma, err := train.ReadMetrics(filepath.Join(dir, "one", train.MetricsFile))
	require.NoError(t, err)
	mb, err := train.ReadMetrics(filepath.Join(dir, "two", train.MetricsFile))
	require.NoError(t, err)
	require.Len(t, mb, len(ma), "rank 0 alone writes the metrics")
	for i := range ma {
		require.NotNil(t, ma[i].Loss, "loss at step %d", ma[i].Step)
		require.NotNil(t, mb[i].Loss, "loss at step %d", mb[i].Step)
		assert.InEpsilon(t, *ma[i].Loss, *mb[i].Loss, 1e-5, "loss at step %d", ma[i].Step)
	}
	for _, f := range []string{train.ConfigFile, train.RunFile} {
		assert.FileExists(t, filepath.Join(dir, "two", f))
	}
}

// weights reads every tensor of a checkpoint.
func weights(t *testing.T, path string) map[string][]float32 {
	t.Helper()
	f, err := nn.ReadSafetensorsFile(path)
	require.NoError(t, err)
	out := map[string][]float32{}
	for _, ts := range f.Tensors {
		d, err := ts.Float32s()
		require.NoError(t, err)
		out[ts.Name] = d
	}
	return out
}

// TestTrainParallelBadInput checks the data-parallel flags' errors.
func TestTrainParallelBadInput(t *testing.T) {
	dir := parallelDir(t)
	tests := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{name: "device twice", args: []string{"--devices", "cpu,cpu"}, want: "--devices cpu,cpu: cpu is listed twice"},
		{name: "unknown device", args: []string{"--devices", "cpu,tpu"}, want: "unknown device \"tpu\""},
		{name: "bucket size", args: []string{"--bucket-mib", "0"}, want: "--bucket-mib 0: want > 0"},
		{name: "launched by mpirun without Open MPI", env: []string{"OMPI_COMM_WORLD_SIZE=2", "SARGO_MPI_LIBRARY=libsargo-no-such-mpi.so.40"},
			want: "mpi: load libsargo-no-such-mpi.so.40 (install Open MPI: apt-get install openmpi-bin libopenmpi-dev"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stderr := runCLI(t, dir, tc.env, sarArgs("out", 1, tc.args...)...)
			assert.Equal(t, 1, code)
			assert.Contains(t, stderr, tc.want)
			assert.NoDirExists(t, filepath.Join(dir, "out"))
		})
	}
}

// TestTrainMPILostRank kills rank 1 of a two-rank run in the middle of
// training: rank 0 must exit with an error naming rank 1 within the
// timeout, the last checkpoint must load and match its numbered copy, and
// the run must resume from it under mpirun to the end.
func TestTrainMPILostRank(t *testing.T) {
	mpitest.Require(t)
	dir := parallelDir(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const steps = 12
	mark := fmt.Sprintf("SARGO_TEST_RUN=%d", time.Now().UnixNano())
	env := []string{"SARGO_DEVICE=cpu", mark}
	args := sarArgs("run", steps, "--save-every", "1")
	cmd := mpiCmd(ctx, t, dir, 2, env, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())

	numbered := func(step int) string {
		return filepath.Join(dir, "run", train.CheckpointDir, fmt.Sprintf("step_%06d.safetensors", step))
	}
	require.Eventually(t, func() bool { _, err := os.Stat(numbered(2)); return err == nil }, 3*time.Minute, 20*time.Millisecond,
		"no checkpoint of step 2:\n%s", &out)
	pid := rankPID(t, mark, 1)
	require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
	killed := time.Now()
	err := cmd.Wait()
	took := time.Since(killed)
	require.Error(t, err, "%s", &out)
	t.Logf("mpirun ended %s after the kill", took)
	assert.Less(t, took, time.Minute)
	assert.Contains(t, out.String(), fmt.Sprintf("rank 1 (pid %d", pid), "rank 0 names the lost rank")

	// The last checkpoint loads whole and equals its numbered copy.
	ckpt := filepath.Join(dir, "run", train.CheckpointFile)
	mc, err := sar.ReadConfig(ckpt)
	require.NoError(t, err)
	m, err := sar.NewModel(mc, tensor.MustOpen("cpu"), 0)
	require.NoError(t, err)
	opt, err := nn.NewAdamW(m.Parameters(), nn.DefaultAdamWConfig())
	require.NoError(t, err)
	st := nn.TrainState{Optimizer: opt}
	require.NoError(t, nn.LoadCheckpoint(ckpt, m.Parameters(), &st))
	require.GreaterOrEqual(t, st.Step, 2)
	require.Less(t, st.Step, steps)
	a, b := weights(t, ckpt), weights(t, numbered(st.Step))
	for name, v := range a {
		require.Equal(t, v, b[name], name)
	}

	// Resuming under mpirun broadcasts rank 0's checkpoint and finishes.
	out2 := run(t, mpiCmd(ctx, t, dir, 2, env, append(args, "--resume")...))
	assert.Contains(t, out2, fmt.Sprintf("done: step %d", steps))
}

// rankPID finds the process of MPI rank r among those started with
// mark in their environment.
func rankPID(t *testing.T, mark string, r int) int {
	t.Helper()
	procs, err := filepath.Glob("/proc/[0-9]*/environ")
	require.NoError(t, err)
	want := "OMPI_COMM_WORLD_RANK=" + strconv.Itoa(r)
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		vars := strings.Split(string(b), "\x00")
		has := func(v string) bool {
			for _, x := range vars {
				if x == v {
					return true
				}
			}
			return false
		}
		if has(mark) && has(want) {
			pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p)))
			require.NoError(t, err)
			return pid
		}
	}
	t.Fatalf("no process of rank %d with %s", r, mark)
	return 0
}
