package train

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/dist"
	"sargo/kernels/cpu"
	"sargo/tensor"
	"sargo/tensor/tensortest"
)

// replicaSetup is fakeSetup on its own CPU backend, so that each replica
// of an in-process group has a device of its own.
func replicaSetup(t testing.TB, cfg Config) (Setup, Replica) {
	t.Helper()
	dev := cpu.New()
	net := newFakeNet(t, dev, fakeClasses, fakeCVae, fakeVocab, 1)
	tok := newFakeTok(dev, fakeVocab, fakeCVae)
	return Setup{Cfg: cfg, Net: net, Tok: tok, NullClass: fakeClasses, Largest: fakeLargest,
		Data: fakeData(32, fakeClasses), Dev: dev}, Replica{Net: net, Tok: tok, Dev: dev}
}

// relDiff is ‖a − b‖ / ‖b‖.
func relDiff(a, b []float32) float64 {
	var d, n float64
	for i := range a {
		d += math.Pow(float64(a[i])-float64(b[i]), 2)
		n += math.Pow(float64(b[i]), 2)
	}
	if n == 0 {
		return math.Sqrt(d)
	}
	return math.Sqrt(d / n)
}

// TestLocalReplicasMatchOneDevice trains K steps with the global batch
// split over replicas on separate CPU backends in one process, and
// checks the weights and optimiser moments against one device training
// on the whole batch, and that no replica's device keeps anything the run
// made.
func TestLocalReplicasMatchOneDevice(t *testing.T) {
	const steps = 4
	tests := []struct {
		name     string
		replicas int
		mutate   func(*Config)
	}{
		{"sar, sampled teacher, 2 replicas", 2, func(*Config) {}},
		{"tf, 4 replicas", 4, func(c *Config) { c.Method = MethodTF }},
		{"sf, 2 replicas, no clipping", 2, func(c *Config) { c.Method, c.Clip = MethodSF, 0 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := runConfig(steps)
			tc.mutate(&cfg)
			dir := t.TempDir()
			one, _ := replicaSetup(t, cfg)
			ctx := context.Background()
			_, err := Run(ctx, one, RunOptions{Out: filepath.Join(dir, "one")})
			require.NoError(t, err)

			lead, _ := replicaSetup(t, cfg)
			par := &Parallel{World: dist.Alone(), BucketBytes: 256}
			for range tc.replicas - 1 {
				_, r := replicaSetup(t, cfg)
				par.Replicas = append(par.Replicas, r)
			}
			lead.Parallel = par
			devs := []tensor.Backend{lead.Dev}
			for _, r := range par.Replicas {
				devs = append(devs, r.Dev)
			}
			var sum Summary
			tensortest.NoLeaksOn(t, devs, func() { // every replica frees what the run made
				sum, err = Run(ctx, lead, RunOptions{Out: filepath.Join(dir, "many")})
				require.NoError(t, err)
			})
			require.Equal(t, steps, sum.Step)

			a := weights(t, filepath.Join(dir, "one", CheckpointFile))
			b := weights(t, filepath.Join(dir, "many", CheckpointFile))
			require.Len(t, b, len(a))
			for name, want := range a {
				assert.LessOrEqual(t, relDiff(b[name], want), 1e-6, "%s", name)
			}
			ma, err := ReadMetrics(filepath.Join(dir, "one", MetricsFile))
			require.NoError(t, err)
			mb, err := ReadMetrics(filepath.Join(dir, "many", MetricsFile))
			require.NoError(t, err)
			require.Len(t, mb, len(ma))
			for i := range ma {
				require.NotNil(t, ma[i].Loss, "loss at step %d", ma[i].Step)
				require.NotNil(t, mb[i].Loss, "loss at step %d", mb[i].Step)
				assert.InEpsilon(t, *ma[i].Loss, *mb[i].Loss, 1e-5, "loss at step %d", ma[i].Step)
			}
			// Every replica holds the same weights.
			for i, r := range par.Replicas {
				for j, p := range r.Net.Parameters() {
					assert.Equal(t, lead.Net.Parameters()[j].Var.Value.Data(), p.Var.Value.Data(), "replica %d %s", i+1, p.Name)
				}
			}
		})
	}
}

func TestParallelBatchMustSplit(t *testing.T) {
	cfg := runConfig(2)
	cfg.Batch = 6
	lead, _ := replicaSetup(t, cfg)
	var reps []Replica
	for range 3 {
		_, r := replicaSetup(t, cfg)
		reps = append(reps, r)
	}
	lead.Parallel = &Parallel{Replicas: reps}
	_, err := NewTrainer(lead)
	assert.ErrorContains(t, err, "1 rank × 4 devices = 4 replicas: batch 6 does not split evenly over 4 replicas: use a multiple of 4")
}

// TestParallelStopsTogether checks that a cancelled context stops every
// replica after the same step, with a checkpoint.
func TestParallelStopsTogether(t *testing.T) {
	cfg := runConfig(6)
	lead, _ := replicaSetup(t, cfg)
	_, r := replicaSetup(t, cfg)
	lead.Parallel = &Parallel{Replicas: []Replica{r}}
	ctx, cancel := context.WithCancel(context.Background())
	lead.Net = &stepHook{fakeNet: lead.Net.(*fakeNet), at: func(step uint64) {
		if step == 2 {
			cancel()
		}
	}}
	sum, err := Run(ctx, lead, RunOptions{Out: t.TempDir()})
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrStopped), "%v", err)
	assert.True(t, errors.Is(err, context.Canceled), "%v", err)
	assert.Equal(t, 3, sum.Step, "the step that saw the signal completes, then all stop")
	assert.NotEmpty(t, sum.Checkpoint)
}

// stepHook calls at with the step number when a step draws its labels.
type stepHook struct {
	*fakeNet
	at func(step uint64)
}

func (h *stepHook) DropLabels(labels *tensor.Tensor, seed, offset uint64) *tensor.Tensor {
	h.at(offset / rngStride)
	return h.fakeNet.DropLabels(labels, seed, offset)
}
