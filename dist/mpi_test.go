package dist

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/autograd"
	"sargo/internal/mpitest"
	"sargo/kernels/cpu"
	"sargo/nn"
)

// The test binary runs childMain instead of the tests when childEnv names
// a report folder; childMode says what the job does.
const (
	childEnv  = "SARGO_DIST_TEST_CHILD"
	childMode = "SARGO_DIST_TEST_MODE"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		rep, err := childMain(os.Getenv(childMode))
		if err != nil {
			rep.Err = err.Error()
		}
		b, _ := json.Marshal(rep)
		_ = os.WriteFile(filepath.Join(dir, fmt.Sprintf("rank-%d.json", rep.Rank)), b, 0o644)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// childReport is what each rank writes.
type childReport struct {
	Rank     int
	GradDiff float64   // largest |averaged gradient − full-batch gradient|
	Sum      []float64 // Sum of [global index, 1]
	Bcast    bool      // every replica holds global replica 0's weights
	Lost     *LostRankError
	LostIn   time.Duration
	Err      string
}

const childRows = 8

// childMain runs two local replicas in this rank: a training step on the
// rank's shards, a Sum and a broadcast; in mode "lose", rank 1 exits and
// rank 0 then waits for it in a Sum.
func childMain(mode string) (childReport, error) {
	w, err := JoinMPI(WorldOptions{Timeout: time.Minute})
	if err != nil {
		return childReport{}, err
	}
	rep := childReport{Rank: w.Rank()}
	if mode == "lose" {
		if w.Rank() == 1 {
			os.Exit(0)
		}
		grp, err := NewGroup(w, [][]nn.NamedParam{newToy(cpu.New(), 1).params()}, Options{})
		if err != nil {
			return rep, err
		}
		start := time.Now()
		_, err = grp.Replica(0).Sum([]float64{1})
		rep.LostIn = time.Since(start)
		var lost *LostRankError
		if errors.As(err, &lost) {
			rep.Lost = lost
			return rep, w.Close()
		}
		return rep, fmt.Errorf("Sum with a lost rank returned %v", err)
	}
	defer w.Close()

	x := toyData(childRows)
	ref := newToy(cpu.New(), 3)
	g := autograd.NewGraph(ref.dev())
	if err := g.Backward(ref.loss(g, x)); err != nil {
		return rep, err
	}
	g.Close()
	want := gradsOf(ref.params())

	models := []*toy{newToy(cpu.New(), 3), newToy(cpu.New(), 3)}
	grp, err := NewGroup(w, [][]nn.NamedParam{models[0].params(), models[1].params()}, Options{BucketBytes: 64})
	if err != nil {
		return rep, err
	}
	defer grp.Close()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	sums := make([][]float64, 2)
	for i, m := range models {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := grp.Replica(i)
			lo, hi, err := Shard(childRows, grp.Size(), r.Index())
			if err != nil {
				errs[i] = err
				return
			}
			g := autograd.NewGraph(m.dev())
			defer g.Close()
			l := m.loss(g, x[3*lo:3*hi])
			r.Attach(g)
			if err := g.Backward(l); err != nil {
				errs[i] = err
				return
			}
			if errs[i] = r.Finish(); errs[i] != nil {
				return
			}
			if sums[i], errs[i] = r.Sum([]float64{float64(r.Index()), 1}); errs[i] != nil {
				return
			}
			// Different weights everywhere, then global replica 0's.
			other := newToy(cpu.New(), uint64(10+r.Index()))
			for j, p := range m.params() {
				writeFrom(p.Var.Value, other.params()[j].Var.Value.Data())
			}
			errs[i] = r.BroadcastParams(m.params())
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return rep, err
	}
	for _, m := range models {
		got := gradsOf(m.params())
		for name, wv := range want {
			for k := range wv {
				rep.GradDiff = max(rep.GradDiff, float64(abs(got[name][k]-wv[k])))
			}
		}
	}
	rep.Sum = sums[0]
	first := newToy(cpu.New(), 10)
	rep.Bcast = true
	for _, m := range models {
		for j, p := range m.params() {
			a, b := p.Var.Value.Data(), first.params()[j].Var.Value.Data()
			for k := range a {
				rep.Bcast = rep.Bcast && a[k] == b[k]
			}
		}
	}
	if fmt.Sprint(sums[0]) != fmt.Sprint(sums[1]) {
		return rep, fmt.Errorf("local replicas disagree on Sum: %v and %v", sums[0], sums[1])
	}
	return rep, nil
}

func abs(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}

// runChildren runs a two-rank job in mode and returns the reports.
func runChildren(t *testing.T, mode string) ([]childReport, string) {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	dir := t.TempDir()
	cmd := mpitest.Command(t, 2, []string{childEnv + "=" + dir, childMode + "=" + mode}, exe)
	out, _ := cmd.CombinedOutput()
	var reps []childReport
	for r := range 2 {
		b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("rank-%d.json", r)))
		if err != nil {
			continue
		}
		var rep childReport
		require.NoError(t, json.Unmarshal(b, &rep))
		reps = append(reps, rep)
	}
	return reps, string(out)
}

// TestGroupUnderMPIRun runs two ranks with two replicas each (four in
// all) and checks the averaged gradient against one full batch, the sum
// of scalars and the broadcast of parameters.
func TestGroupUnderMPIRun(t *testing.T) {
	mpitest.Require(t)
	reps, out := runChildren(t, "")
	require.Len(t, reps, 2, out)
	for _, r := range reps {
		require.Empty(t, r.Err, "rank %d\n%s", r.Rank, out)
		assert.Less(t, r.GradDiff, 1e-6, "rank %d", r.Rank)
		assert.Equal(t, []float64{6, 4}, r.Sum, "rank %d", r.Rank)
		assert.True(t, r.Bcast, "rank %d holds global replica 0's weights", r.Rank)
	}
}

// TestLostRankIsNamed checks that a rank waiting in a collective call
// for a rank that has exited returns an error naming it, promptly.
func TestLostRankIsNamed(t *testing.T) {
	mpitest.Require(t)
	reps, out := runChildren(t, "lose")
	require.Len(t, reps, 1, out)
	r := reps[0]
	require.Empty(t, r.Err, out)
	require.NotNil(t, r.Lost, out)
	assert.Equal(t, 1, r.Lost.Rank)
	assert.NotZero(t, r.Lost.PID)
	assert.Less(t, r.LostIn, 10*time.Second)
	assert.Contains(t, r.Lost.Error(), "rank 1 (pid ")
}
