package train_test

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"math/rand/v2"
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

	_ "sargo/kernels/cpu"
	"sargo/nn"
	"sargo/sar"
	"sargo/sar/train"
	"sargo/tensor"
)

// crashSteps is the length of the killed run: long enough for several
// kills at 0.1–0.3 s per step with a checkpoint after every step.
const crashSteps = 24

// buildSargo builds the command line into a temporary folder.
func buildSargo(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the sargo command (-short)")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go tool to build sargo: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "sargo")
	out, err := exec.Command(goTool, "build", "-o", bin, "sargo/cmd/sargo").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	help, err := exec.Command(bin, "train", "--help").CombinedOutput()
	require.NoError(t, err, "%s", help)
	for _, flag := range []string{"--resume", "--save-every", "--preset"} {
		if !strings.Contains(string(help), flag) {
			t.Skipf("sargo train has no %s flag yet", flag)
		}
	}
	return bin
}

// crashFixtures writes two classes of four random 32-px grey images and a
// tokenizer trained on them for two steps, and returns the folder.
func crashFixtures(t *testing.T, bin string) string {
	t.Helper()
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(1, 2))
	for _, class := range []string{"a", "b"} {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, "data", class), 0o755))
		for i := range 4 {
			img := image.NewGray(image.Rect(0, 0, 32, 32))
			for j := range img.Pix {
				img.Pix[j] = uint8(r.IntN(256))
			}
			var buf bytes.Buffer
			require.NoError(t, png.Encode(&buf, img))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "data", class, strconv.Itoa(i)+".png"), buf.Bytes(), 0o644))
		}
	}
	cmd := exec.Command(bin, "train-tokenizer", "--preset", "tiny", "--data", "data", "--steps", "2", "--batch", "4", "--out", "tok")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "train-tokenizer: %s", out)
	return dir
}

// trainCmd is `sargo train` of the tiny preset into out, checkpointing
// after every step.
func trainCmd(bin, dir, out string, resume bool) *exec.Cmd {
	args := []string{"train", "--preset", "tiny", "--tokenizer", "tok", "--data", "data", "--out", out,
		"--steps", strconv.Itoa(crashSteps), "--batch", "4", "--save-every", "1", "--log-every", "1"}
	if resume {
		args = append(args, "--resume")
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	return cmd
}

// checkpointWrite reports whether a temporary checkpoint file (one being
// written) exists in the run.
func checkpointWrite(run string) bool {
	for _, pattern := range []string{".model.safetensors.tmp*", "checkpoints/.step_*.tmp*"} {
		if m, _ := filepath.Glob(filepath.Join(run, pattern)); len(m) > 0 {
			return true
		}
	}
	return false
}

// stepsLogged counts the lines of the run's metrics (one per step).
func stepsLogged(run string) int {
	buf, _ := os.ReadFile(filepath.Join(run, train.MetricsFile))
	return bytes.Count(buf, []byte{'\n'})
}

// latestStep loads the run's latest checkpoint as a model and returns its
// step (0 when there is none yet).
func latestStep(t *testing.T, run string) int {
	t.Helper()
	path := filepath.Join(run, train.CheckpointFile)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return 0
	}
	_, st, err := sar.LoadModel(path, tensor.MustOpen("cpu"))
	require.NoError(t, err, "the latest checkpoint must load")
	return st.Step
}

// TestKillAndResume kills a training process with SIGKILL several times,
// at random moments and while it writes a checkpoint; after every kill the
// latest checkpoint loads, and --resume continues from it. The run that
// finishes this way ends with weights and optimiser moments bit-identical
// to a run that was never interrupted, and with one metrics line per step.
func TestKillAndResume(t *testing.T) {
	bin := buildSargo(t)
	dir := crashFixtures(t, bin)
	run := filepath.Join(dir, "killed")
	r := rand.New(rand.NewPCG(7, 11))
	last := 0
	for round := range 6 {
		cmd := trainCmd(bin, dir, "killed", last > 0)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		require.NoError(t, cmd.Start())
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		// Let the run get past its last checkpoint by one to three steps,
		// then kill it as soon as it writes a checkpoint, or after a
		// random delay.
		target := last + 1 + r.IntN(3)
		deadline := time.Now().Add(30 * time.Second)
		for stepsLogged(run) < target && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		var how string
		if round%2 == 1 {
			how = "during a checkpoint write"
			for !checkpointWrite(run) && time.Now().Before(deadline) {
				time.Sleep(100 * time.Microsecond)
			}
		} else {
			d := time.Duration(r.IntN(250)) * time.Millisecond
			how = "at a random moment"
			time.Sleep(d)
		}
		_ = cmd.Process.Signal(syscall.SIGKILL)
		err := <-exited
		var exit *exec.ExitError
		if err == nil {
			t.Logf("round %d: the run finished before the kill", round)
		} else {
			require.ErrorAs(t, err, &exit, "%s", out.String())
			ws, _ := exit.Sys().(syscall.WaitStatus)
			require.True(t, ws.Signaled(), "exit %v before the kill:\n%s", err, out.String())
		}
		step := latestStep(t, run)
		t.Logf("round %d: killed %s (%d steps logged); latest checkpoint at step %d", round, how, stepsLogged(run), step)
		assert.GreaterOrEqual(t, step, last, "checkpoints never go back")
		last = step
	}
	tmp, _ := filepath.Glob(filepath.Join(run, ".*.tmp*"))
	tmpNumbered, _ := filepath.Glob(filepath.Join(run, "checkpoints", ".*.tmp*"))
	t.Logf("temporary files left by the kills: %d", len(tmp)+len(tmpNumbered))

	final := trainCmd(bin, dir, "killed", last > 0)
	out, err := final.CombinedOutput()
	require.NoError(t, err, "resume after the kills: %s", out)
	require.Equal(t, crashSteps, latestStep(t, run))

	straight := trainCmd(bin, dir, "straight", false)
	out, err = straight.CombinedOutput()
	require.NoError(t, err, "uninterrupted run: %s", out)

	a := tensorsOf(t, filepath.Join(dir, "straight", train.CheckpointFile))
	b := tensorsOf(t, filepath.Join(run, train.CheckpointFile))
	require.Len(t, b, len(a))
	for name, want := range a {
		require.Equal(t, want, b[name], "%s must be bit-identical to the uninterrupted run", name)
	}
	ms, err := train.ReadMetrics(filepath.Join(run, train.MetricsFile))
	require.NoError(t, err)
	require.Len(t, ms, crashSteps)
	for i, m := range ms {
		assert.Equal(t, i+1, m.Step, "metrics line %d", i)
	}
}

// tensorsOf reads every tensor of a safetensors file.
func tensorsOf(t *testing.T, path string) map[string][]float32 {
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
