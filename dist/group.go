package dist

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"sargo/autograd"
	"sargo/dist/mpi"
	"sargo/nn"
)

// DefaultBucketBytes is the gradient bucket size when Options leave it 0.
const DefaultBucketBytes = 4 << 20

// Options configure a Group.
type Options struct {
	// BucketBytes caps a gradient bucket (default 4 MiB); a parameter
	// larger than that has a bucket of its own.
	BucketBytes int
	// Trace, when set, records the timing of every bucket of every step.
	Trace *Trace
}

// Group is data-parallel training over the replicas of one model: one per
// local device, in every process of the world, so World.Size() × local
// replicas in all. Global replica r = rank·local + i trains on shard r of
// every batch; their gradients are averaged in buckets while the backward
// pass still runs, and each replica then applies the same update.
//
// Each replica is driven by its own goroutine through its *Replica; the
// collective calls (Finish, Sum, Broadcast*) must be made by every replica
// of every process in the same order.
type Group struct {
	world   *World
	local   int
	params  [][]nn.NamedParam
	vars    []map[*autograd.Var]int
	buckets []*bucket
	of      []int // the bucket of each parameter
	trace   *Trace

	abort     chan struct{}
	abortOnce sync.Once
	abortErr  error

	meet    meeting
	scalarS *mpi.Buffer // the float64 sums: local total, then the world's
	scalarR *mpi.Buffer
	stage   [][]float64 // each replica's scalars
	shared  []float32   // broadcast buffer
	lead    []byte      // replica 0's broadcast bytes

	replicas []*Replica

	memMu    sync.Mutex
	inflight int  // sums over the world not yet arrived
	closing  bool // Close was called: free the buffers once inflight is 0
	freeOnce sync.Once
}

// bucket is a run of parameters (in reverse Parameters order, roughly the
// order backward finishes them) whose gradients travel together. Its
// buffers hold the gradient values, then one presence count per
// parameter (whether a replica had a gradient for it at all).
type bucket struct {
	params []int // parameter indices
	offs   []int // element offset of each in the buffer
	n      int   // gradient elements; the presence counts follow
	send   *mpi.Buffer
	recv   *mpi.Buffer
	stage  [][]float32 // each local replica's contribution (stage[0] is send when local is 1)

	mu      sync.Mutex
	gen     int // the step the fields below belong to
	arrived int
	done    chan struct{}
	err     error
	times   bucketTimes
}

// total is the element count of the buffers.
func (b *bucket) total() int { return b.n + len(b.params) }

// NewGroup lays out the gradient buckets of the replicas' parameters
// (one list per local device; all must have the same names and shapes)
// and allocates their buffers.
func NewGroup(w *World, params [][]nn.NamedParam, opt Options) (*Group, error) {
	if w == nil {
		w = Alone()
	}
	if len(params) == 0 {
		return nil, errors.New("dist: a group needs at least one replica")
	}
	for i := 1; i < len(params); i++ {
		if err := sameParams(params[0], params[i]); err != nil {
			return nil, fmt.Errorf("dist: replica %d: %w", i, err)
		}
	}
	if opt.BucketBytes <= 0 {
		opt.BucketBytes = DefaultBucketBytes
	}
	g := &Group{world: w, local: len(params), params: params, trace: opt.Trace, abort: make(chan struct{})}
	g.meet.n = g.local
	for _, ps := range params {
		m := make(map[*autograd.Var]int, len(ps))
		for j, p := range ps {
			m[p.Var] = j
		}
		g.vars = append(g.vars, m)
	}
	g.layout(opt.BucketBytes / 4)
	g.stage = make([][]float64, g.local)
	for i := range g.local {
		g.replicas = append(g.replicas, &Replica{g: g, i: i})
	}
	return g, nil
}

// sameParams checks that b lists the parameters of a.
func sameParams(a, b []nn.NamedParam) error {
	if len(a) != len(b) {
		return fmt.Errorf("%d parameters, replica 0 has %d", len(b), len(a))
	}
	for j := range a {
		if a[j].Name != b[j].Name || !slices.Equal(a[j].Var.Value.Shape(), b[j].Var.Value.Shape()) {
			return fmt.Errorf("parameter %d is %s %v, replica 0 has %s %v", j, b[j].Name, b[j].Var.Value.Shape(),
				a[j].Name, a[j].Var.Value.Shape())
		}
	}
	return nil
}

// layout cuts the parameters, last first, into buckets of at most max
// elements.
func (g *Group) layout(max int) {
	ps := g.params[0]
	g.of = make([]int, len(ps))
	var cur *bucket
	for j := len(ps) - 1; j >= 0; j-- {
		n := ps[j].Var.Value.Size()
		if cur == nil || (cur.n > 0 && cur.n+n > max) {
			cur = &bucket{}
			g.buckets = append(g.buckets, cur)
		}
		cur.params = append(cur.params, j)
		cur.offs = append(cur.offs, cur.n)
		cur.n += n
		g.of[j] = len(g.buckets) - 1
	}
	for _, b := range g.buckets {
		b.send = mpi.NewBuffer(4 * b.total())
		b.recv = mpi.NewBuffer(4 * b.total())
		b.stage = make([][]float32, g.local)
		b.stage[0] = b.send.Float32s()
		if g.local > 1 {
			for i := range b.stage {
				b.stage[i] = make([]float32, b.total())
			}
		}
	}
}

// Close frees the buffers, at once or, if a sum over the world is still
// under way after a failure, when it arrives.
func (g *Group) Close() {
	g.memMu.Lock()
	g.closing = true
	idle := g.inflight == 0
	g.memMu.Unlock()
	if idle {
		g.free()
	}
}

// started and arrived count the sums over the world in flight.
func (g *Group) started() {
	g.memMu.Lock()
	g.inflight++
	g.memMu.Unlock()
}

func (g *Group) arrived() {
	g.memMu.Lock()
	g.inflight--
	free := g.closing && g.inflight == 0
	g.memMu.Unlock()
	if free {
		g.free()
	}
}

func (g *Group) free() {
	g.freeOnce.Do(func() {
		for _, b := range g.buckets {
			b.send.Free()
			b.recv.Free()
		}
		g.scalarS.Free()
		g.scalarR.Free()
	})
}

// World is the group's world.
func (g *Group) World() *World { return g.world }

// Local is the number of replicas in this process.
func (g *Group) Local() int { return g.local }

// Size is the number of replicas in the world.
func (g *Group) Size() int { return g.world.Size() * g.local }

// BucketBytes is the largest bucket's gradient size in bytes.
func (g *Group) BucketBytes() int {
	n := 0
	for _, b := range g.buckets {
		n = max(n, 4*b.n)
	}
	return n
}

// Buckets is the number of gradient buckets.
func (g *Group) Buckets() int { return len(g.buckets) }

// BucketSizes is the element count of each bucket's gradients.
func (g *Group) BucketSizes() []int {
	out := make([]int, len(g.buckets))
	for i, b := range g.buckets {
		out[i] = b.n
	}
	return out
}

// Replica returns the handle of local replica i.
func (g *Group) Replica(i int) *Replica { return g.replicas[i] }

// Abort makes every waiting and later collective call of the local
// replicas return err: one replica's failure must not leave the others
// waiting for it. The first error wins.
func (g *Group) Abort(err error) {
	g.abortOnce.Do(func() {
		g.abortErr = err
		close(g.abort)
	})
}

func (g *Group) aborted() error {
	select {
	case <-g.abort:
		return fmt.Errorf("dist: stopped: another replica failed: %w", g.abortErr)
	default:
		return nil
	}
}

// Shard returns the part [lo, hi) of a global batch of n samples that
// global replica r trains on: equal, contiguous, in replica order.
func Shard(n, replicas, r int) (lo, hi int, err error) {
	if replicas <= 0 || r < 0 || r >= replicas {
		return 0, 0, fmt.Errorf("dist: replica %d of %d", r, replicas)
	}
	if n%replicas != 0 {
		return 0, 0, fmt.Errorf("batch %d does not split evenly over %d replicas: use a multiple of %d", n, replicas, replicas)
	}
	per := n / replicas
	return r * per, (r + 1) * per, nil
}

// meeting gathers the local replicas: the last to arrive runs a function
// and every replica leaves with its error.
type meeting struct {
	n     int
	mu    sync.Mutex
	count int
	round *round
}

type round struct {
	done chan struct{}
	err  error
}

// meet blocks until all n replicas have called it; the last runs last.
func (m *meeting) meet(g *Group, last func() error) error {
	if err := g.aborted(); err != nil {
		return err
	}
	m.mu.Lock()
	if m.round == nil {
		m.round = &round{done: make(chan struct{})}
	}
	rd := m.round
	m.count++
	if m.count == m.n {
		m.count, m.round = 0, nil
		m.mu.Unlock()
		rd.err = last()
		close(rd.done)
		return rd.err
	}
	m.mu.Unlock()
	select {
	case <-rd.done:
		return rd.err
	case <-g.abort:
		return g.aborted()
	}
}

// now is the clock of the trace.
func now() time.Time { return time.Now() }

// Describe names the layout: "2 ranks × 1 device = 2 replicas".
func (g *Group) Describe() string {
	plural := func(n int, what string) string {
		if n == 1 {
			return fmt.Sprintf("1 %s", what)
		}
		return fmt.Sprintf("%d %ss", n, what)
	}
	return fmt.Sprintf("%s × %s = %s", plural(g.world.Size(), "rank"), plural(g.local, "device"), plural(g.Size(), "replica"))
}
