package cpu

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countLoop counts the visits of every index of its range.
type countLoop struct{ hits []atomic.Int32 }

func (l *countLoop) run(lo, hi int) {
	for i := lo; i < hi; i++ {
		l.hits[i].Add(1)
	}
}

// requireEachOnce fails unless every index was visited exactly once.
func requireEachOnce(t *testing.T, l *countLoop) {
	t.Helper()
	for i := range l.hits {
		require.EqualValues(t, 1, l.hits[i].Load(), "index %d of %d", i, len(l.hits))
	}
}

func TestParallelRunCoversRange(t *testing.T) {
	tests := []struct {
		name              string
		workers, n, grain int
	}{
		{"inline", 4, 10, 100},
		{"one worker", 1, 1000, 1},
		{"even", 4, 1000, 1},
		{"uneven", 3, 1001, 7},
		{"more workers than items", 8, 3, 1},
		{"empty", 4, 0, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := &Backend{workers: tc.workers}
			for range 20 { // the pool's loop records are reused
				l := &countLoop{hits: make([]atomic.Int32, tc.n)}
				b.parallelRun(tc.n, tc.grain, l)
				requireEachOnce(t, l)
			}
		})
	}
}

// nestedLoop runs an inner parallel loop from each of its chunks, as a
// kernel called from inside another's chunk would.
type nestedLoop struct {
	b     *Backend
	inner []*countLoop
}

func (l *nestedLoop) run(lo, hi int) {
	for i := lo; i < hi; i++ {
		l.b.parallelRun(len(l.inner[i].hits), 1, l.inner[i])
	}
}

func TestParallelRunNested(t *testing.T) {
	b := &Backend{workers: 3}
	l := &nestedLoop{b: b, inner: make([]*countLoop, 12)}
	for i := range l.inner {
		l.inner[i] = &countLoop{hits: make([]atomic.Int32, 50+i)}
	}
	b.parallelRun(len(l.inner), 1, l)
	for _, in := range l.inner {
		requireEachOnce(t, in)
	}
}

func TestParallelRunConcurrentCallers(t *testing.T) {
	b := &Backend{workers: 4}
	var wg sync.WaitGroup
	loops := make([]*countLoop, 8)
	for i := range loops {
		loops[i] = &countLoop{hits: make([]atomic.Int32, 997)}
		wg.Go(func() {
			for range 50 {
				b.parallelRun(len(loops[i].hits), 1, loops[i])
			}
		})
	}
	wg.Wait()
	for _, l := range loops {
		for i := range l.hits {
			require.EqualValues(t, 50, l.hits[i].Load(), "index %d", i)
		}
	}
}

// sumLoop is a loop body with arguments, as kernels keep them in frames.
type sumLoop struct {
	x   []float32
	out []float64 // one partial sum per chunk start
}

func (l *sumLoop) run(lo, hi int) {
	var s float64
	for _, v := range l.x[lo:hi] {
		s += float64(v)
	}
	l.out[lo] = s
}

func TestParallelPoolLaunchAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	b := &Backend{workers: 2}
	var f frames[sumLoop]
	x := make([]float32, 1<<12)
	for i := range x {
		x[i] = float32(i)
	}
	out := make([]float64, len(x))
	launchOnce := func() {
		l := sumLoop{x: x, out: out}
		launch(b, &f, len(x), 64, &l)
	}
	launchOnce() // starts the workers
	assert.Zero(t, testing.AllocsPerRun(100, launchOnce))
	var total float64
	for _, s := range out {
		total += s
	}
	assert.Equal(t, float64(len(x)*(len(x)-1)/2), total)
}
