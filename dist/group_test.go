package dist

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/autograd"
	"sargo/kernels/cpu"
	"sargo/nn"
	"sargo/tensor"
	"sargo/tensor/tensortest"
)

// toy is a two-layer model with a parameter that the loss never reads.
type toy struct {
	l1, l2 *nn.Linear
	unused *autograd.Var
}

func newToy(dev tensor.Backend, seed uint64) *toy {
	in := nn.NewInit(dev, seed)
	return &toy{l1: nn.NewLinear(in, 3, 8, true), l2: nn.NewLinear(in, 8, 2, true),
		unused: autograd.Param(tensor.Ones(dev, 5))}
}

func (m *toy) params() []nn.NamedParam {
	var p nn.Params
	p.Add("unused", m.unused, true)
	p.Sub("l1", m.l1)
	p.Sub("l2", m.l2)
	return p
}

// dev is the device the model lives on.
func (m *toy) dev() tensor.Backend { return m.unused.Value.Backend() }

// loss is the mean of (l2(tanh(l1(x))))² over the rows of x.
func (m *toy) loss(g *autograd.Graph, x []float32) *autograd.Var {
	xv := autograd.Const(tensor.FromSlice(m.dev(), x, len(x)/3, 3))
	y := m.l2.Forward(g, g.Tanh(m.l1.Forward(g, xv)))
	return g.Mean(g.Mul(y, y), false)
}

// toyData is n rows of 3 features.
func toyData(n int) []float32 {
	x := make([]float32, 3*n)
	for i := range x {
		x[i] = float32(math.Sin(float64(i) * 0.7))
	}
	return x
}

// gradsOf copies the gradients by name (nil for none).
func gradsOf(ps []nn.NamedParam) map[string][]float32 {
	out := map[string][]float32{}
	for _, p := range ps {
		if p.Var.Grad != nil {
			out[p.Name] = p.Var.Grad.Data()
		} else {
			out[p.Name] = nil
		}
	}
	return out
}

func TestShard(t *testing.T) {
	tests := []struct {
		n, replicas, r int
		lo, hi         int
		err            string
	}{
		{n: 8, replicas: 1, r: 0, lo: 0, hi: 8},
		{n: 8, replicas: 2, r: 1, lo: 4, hi: 8},
		{n: 12, replicas: 4, r: 2, lo: 6, hi: 9},
		{n: 10, replicas: 4, r: 0, err: "batch 10 does not split evenly over 4 replicas: use a multiple of 4"},
		{n: 8, replicas: 2, r: 2, err: "dist: replica 2 of 2"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d/%d/%d", tc.n, tc.replicas, tc.r), func(t *testing.T) {
			lo, hi, err := Shard(tc.n, tc.replicas, tc.r)
			if tc.err != "" {
				assert.EqualError(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, [2]int{tc.lo, tc.hi}, [2]int{lo, hi})
		})
	}
}

func TestBucketLayout(t *testing.T) {
	m := newToy(cpu.New(), 1)
	ps := m.params() // unused 5, l1.weight 24, l1.bias 8, l2.weight 16, l2.bias 2
	tests := []struct {
		bytes int
		want  []int
	}{
		{bytes: 1 << 20, want: []int{55}},
		{bytes: 4 * 24, want: []int{18, 8, 24, 5}},
		{bytes: 4, want: []int{2, 16, 8, 24, 5}},
	}
	for _, tc := range tests {
		g, err := NewGroup(nil, [][]nn.NamedParam{ps}, Options{BucketBytes: tc.bytes})
		require.NoError(t, err)
		assert.Equal(t, tc.want, g.BucketSizes(), "buckets of at most %d bytes, last parameters first", tc.bytes)
		g.Close()
	}
}

func TestNewGroupChecksReplicas(t *testing.T) {
	a := newToy(cpu.New(), 1).params()
	b := newToy(cpu.New(), 1).params()
	b[1] = nn.NamedParam{Name: "other", Var: b[1].Var}
	_, err := NewGroup(nil, [][]nn.NamedParam{a, b}, Options{})
	assert.ErrorContains(t, err, "replica 1: parameter 1 is other [8 3], replica 0 has l1.weight [8 3]")
	_, err = NewGroup(nil, [][]nn.NamedParam{a, a[:2]}, Options{})
	assert.ErrorContains(t, err, "replica 1: 2 parameters, replica 0 has 5")
}

// TestLocalReplicasAverageGradients trains two replicas on two CPU
// backends in one process, each on half of a batch, and checks that both
// end with the full batch's gradient, that a parameter no loss reads keeps
// no gradient, and that buckets went out during the backward pass.
func TestLocalReplicasAverageGradients(t *testing.T) {
	const rows = 8
	x := toyData(rows)
	ref := newToy(cpu.New(), 3)
	g := autograd.NewGraph(ref.dev())
	require.NoError(t, g.Backward(ref.loss(g, x)))
	g.Close()
	want := gradsOf(ref.params())

	for _, bucketBytes := range []int{4, 1 << 20} {
		t.Run(fmt.Sprint(bucketBytes), func(t *testing.T) {
			models := []*toy{newToy(cpu.New(), 3), newToy(cpu.New(), 3)}
			var trace bytes.Buffer
			tr := NewTrace(&trace)
			grp, err := NewGroup(Alone(), [][]nn.NamedParam{models[0].params(), models[1].params()},
				Options{BucketBytes: bucketBytes, Trace: tr})
			require.NoError(t, err)
			defer grp.Close()
			var wg sync.WaitGroup
			errs := make([]error, 2)
			grads := make([]map[string][]float32, 2)
			for i, m := range models {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rep := grp.Replica(i)
					lo, hi, err := Shard(rows, grp.Size(), rep.Index())
					if err != nil {
						errs[i] = err
						return
					}
					// The step leaves nothing behind once the averaged
					// gradients are cleared.
					tensortest.NoLeaks(t, m.dev(), func() {
						g := autograd.NewGraph(m.dev())
						defer g.Close()
						l := m.loss(g, x[3*lo:3*hi])
						rep.Attach(g)
						if errs[i] = g.Backward(l); errs[i] == nil {
							errs[i] = rep.Finish()
						}
						grads[i] = gradsOf(m.params())
						nn.ZeroGrads(m.params())
					})
				}()
			}
			wg.Wait()
			require.NoError(t, errors.Join(errs...))
			for i := range models {
				got := grads[i]
				for name, w := range want {
					if w == nil {
						assert.Nil(t, got[name], "replica %d %s", i, name)
						continue
					}
					assert.InDeltaSlice(t, w, got[name], 1e-6, "replica %d %s", i, name)
				}
			}
			require.NoError(t, tr.Flush())
			steps, err := ReadTrace(&trace)
			require.NoError(t, err)
			require.Len(t, steps, 1)
			s := steps[0]
			require.Len(t, s.Buckets, grp.Buckets())
			if grp.Buckets() > 1 {
				assert.Less(t, s.Buckets[0].Ready, s.BackwardEnd, "the last layer's bucket is handed over before backward ends")
			}
		})
	}
}

func TestSumAndBroadcast(t *testing.T) {
	models := []*toy{newToy(cpu.New(), 1), newToy(cpu.New(), 2), newToy(cpu.New(), 3)}
	ps := make([][]nn.NamedParam, len(models))
	for i, m := range models {
		ps[i] = m.params()
	}
	grp, err := NewGroup(nil, ps, Options{})
	require.NoError(t, err)
	defer grp.Close()
	want := models[0].l1.Weight.Value.Data()
	var wg sync.WaitGroup
	sums := make([][]float64, len(models))
	blobs := make([][]byte, len(models))
	errs := make([]error, len(models))
	for i := range models {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep := grp.Replica(i)
			if sums[i], errs[i] = rep.Sum([]float64{float64(i), 1}); errs[i] != nil {
				return
			}
			blobs[i] = []byte{byte(i), byte(i)}
			if errs[i] = rep.BroadcastBytes(blobs[i]); errs[i] != nil {
				return
			}
			errs[i] = rep.BroadcastParams(ps[i])
		}()
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	for i, m := range models {
		assert.Equal(t, []float64{3, 3}, sums[i])
		assert.Equal(t, []byte{0, 0}, blobs[i])
		assert.Equal(t, want, m.l1.Weight.Value.Data(), "replica %d holds replica 0's weights", i)
	}
}

// TestAbortReleasesWaitingReplicas checks that a failed replica does not
// leave the others waiting in a collective call.
func TestAbortReleasesWaitingReplicas(t *testing.T) {
	ps := [][]nn.NamedParam{newToy(cpu.New(), 1).params(), newToy(cpu.New(), 1).params()}
	grp, err := NewGroup(nil, ps, Options{})
	require.NoError(t, err)
	defer grp.Close()
	done := make(chan error)
	go func() {
		_, err := grp.Replica(0).Sum([]float64{1})
		done <- err
	}()
	grp.Abort(errors.New("device lost"))
	err = <-done
	assert.ErrorContains(t, err, "another replica failed: device lost")
	_, err = grp.Replica(1).Sum([]float64{1})
	assert.ErrorContains(t, err, "device lost")
}

func TestSummarize(t *testing.T) {
	steps := []StepTrace{
		{Step: 1, BackwardStart: 0, BackwardEnd: 100, Synced: 150, Buckets: []BucketTrace{{Posted: 0, Done: 1000}}}, // skipped
		{Step: 2, BackwardStart: 0, BackwardEnd: 100, Synced: 130, Buckets: []BucketTrace{
			{Bucket: 0, Bytes: 1 << 20, Posted: 20, Done: 50},
			{Bucket: 1, Bytes: 1 << 20, Posted: 40, Done: 70},    // overlaps bucket 0: one span 20–70
			{Bucket: 2, Bytes: 2 << 20, Posted: 90, Done: 130}}}, // 10 of 40 before backward ends
	}
	o := Summarize(steps, 1)
	assert.Equal(t, 1, o.Steps)
	assert.Equal(t, 3, o.Buckets)
	assert.Equal(t, 4<<20, o.Bytes)
	assert.InDelta(t, 90, o.Comm, 1e-9)
	assert.InDelta(t, 60, o.Hidden, 1e-9)
	assert.InDelta(t, 30, o.Exposed, 1e-9)
	assert.InDelta(t, 100, o.Compute, 1e-9)
	assert.InDelta(t, 2.0/3, o.Fraction(), 1e-9)
	assert.Contains(t, o.String(), "67% of it during backward")
}
