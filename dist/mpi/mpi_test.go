package mpi_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/dist/mpi"
	"sargo/internal/mpitest"
)

// childEnv makes the test binary run childMain (one rank of a job)
// instead of the tests; it names the folder for the ranks' reports.
const childEnv = "SARGO_MPI_TEST_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		if err := childMain(dir); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// report is what each rank of the child job prints.
type report struct {
	Rank, Size int
	Sum        []float64 // AllreduceFloat64 of [rank+1, 10·(rank+1)]
	Max        []float64 // MaxFloat64 of [rank]
	ISum       []float32 // Iallreduce of 1000 floats: rank + i/8
	IDouble    []float64 // Iallreduce of 3 doubles: (rank+1)·{1,2,3}
	Bcast      string    // rank 0's message
	Recovered  bool      // a nil dereference after Init still panics in Go
}

// childMain exercises every call of the binding on one rank and writes a
// JSON report to dir/rank-N.json.
func childMain(dir string) error {
	runtime.LockOSThread()
	w, err := mpi.Init()
	if err != nil {
		return err
	}
	r := report{Rank: w.Rank(), Size: w.Size()}
	r.Sum = []float64{float64(r.Rank + 1), 10 * float64(r.Rank+1)}
	if err := w.AllreduceFloat64(r.Sum); err != nil {
		return err
	}
	r.Max = []float64{float64(r.Rank)}
	if err := w.MaxFloat64(r.Max); err != nil {
		return err
	}
	const n = 1000
	send, recv := mpi.NewBuffer(4*n), mpi.NewBuffer(4*n)
	defer send.Free()
	defer recv.Free()
	for i := range send.Float32s() {
		send.Float32s()[i] = float32(r.Rank) + float32(i)/8
	}
	req, err := w.Iallreduce(send, recv, n, mpi.Float32)
	if err != nil {
		return err
	}
	for {
		done, err := req.Test()
		if err != nil {
			return err
		}
		if done {
			break
		}
	}
	r.ISum = append([]float32(nil), recv.Float32s()...)
	ds, dr := mpi.NewBuffer(24), mpi.NewBuffer(24)
	defer ds.Free()
	defer dr.Free()
	for i := range ds.Float64s() {
		ds.Float64s()[i] = float64(r.Rank+1) * float64(i+1)
	}
	req, err = w.Iallreduce(ds, dr, 3, mpi.Float64)
	if err != nil {
		return err
	}
	if err := req.Wait(); err != nil {
		return err
	}
	r.IDouble = append([]float64(nil), dr.Float64s()...)
	msg := make([]byte, 5)
	if r.Rank == 0 {
		copy(msg, "hello")
	}
	if err := w.Bcast(msg, 0); err != nil {
		return err
	}
	r.Bcast = string(msg)
	r.Recovered = nilPanics()
	if err := w.Barrier(); err != nil {
		return err
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("rank-%d.json", r.Rank)), b, 0o644); err != nil {
		return err
	}
	return w.Finalize()
}

// nilPanics dereferences a nil pointer and reports whether Go turned the
// fault into a panic (Open MPI's own SIGSEGV handler would abort).
func nilPanics() (ok bool) {
	defer func() { ok = recover() != nil }()
	var p *int
	return *p == 0
}

func TestBindingUnderMPIRun(t *testing.T) {
	mpitest.Require(t)
	exe, err := os.Executable()
	require.NoError(t, err)
	const ranks = 3
	dir := t.TempDir()
	cmd := mpitest.Command(t, ranks, []string{childEnv + "=" + dir}, exe)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, mpitest.Describe(cmd, out, err))
	for i := range ranks {
		b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("rank-%d.json", i)))
		require.NoError(t, err)
		var r report
		require.NoError(t, json.Unmarshal(b, &r))
		assert.Equal(t, i, r.Rank)
		assert.Equal(t, ranks, r.Size)
		assert.Equal(t, []float64{6, 60}, r.Sum)
		assert.Equal(t, []float64{2}, r.Max)
		require.Len(t, r.ISum, 1000)
		for k, v := range r.ISum {
			require.InDelta(t, 3+3*float32(k)/8, v, 1e-3, "element %d", k)
		}
		assert.Equal(t, []float64{6, 12, 18}, r.IDouble)
		assert.Equal(t, "hello", r.Bcast)
		assert.True(t, r.Recovered, "a nil dereference after MPI_Init must stay a Go panic")
	}
}

func TestIallreduceChecksBuffers(t *testing.T) {
	w := &mpi.World{}
	b := mpi.NewBuffer(8)
	defer b.Free()
	_, err := w.Iallreduce(b, b, 2, mpi.Float32)
	assert.ErrorContains(t, err, "send and receive buffers are the same")
	small := mpi.NewBuffer(4)
	defer small.Free()
	_, err = w.Iallreduce(b, small, 2, mpi.Float32)
	assert.ErrorContains(t, err, "2 MPI_FLOAT need 8 bytes, buffers hold 8 and 4")
}

func TestBufferViews(t *testing.T) {
	b := mpi.NewBuffer(16)
	defer b.Free()
	assert.Len(t, b.Float32s(), 4)
	assert.Len(t, b.Float64s(), 2)
	b.Float32s()[3] = 2.5
	assert.Equal(t, []float32{0, 0, 0, 2.5}, b.Float32s())
	b.Free()
	assert.Nil(t, b.Float32s())
}
