package dist

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"

	"sargo/dist/mpi"
)

// World is the set of processes of one training job: this process alone,
// or the ranks of an MPI job started by mpirun. One goroutine, locked to
// its thread, makes every MPI call (MPI_THREAD_FUNNELED) and polls the
// outstanding non-blocking operations so that they progress while the
// training goroutines compute; while it waits it also watches the other
// ranks of this machine and names one that has exited.
type World struct {
	rank, size int
	host       string
	peers      []peer
	timeout    time.Duration

	ops  chan op       // to the communication goroutine; nil when alone
	quit chan struct{} // closed when that goroutine has ended

	mu  sync.Mutex
	err error // the first communication failure; every later call returns it
}

// peer is where a rank runs.
type peer struct {
	Host string
	PID  int
}

// WorldOptions configure JoinMPI.
type WorldOptions struct {
	// Timeout bounds every collective operation: a rank that has not
	// joined one within it (a hung or unreachable process) fails the job
	// with an error. 0 means 30 minutes.
	Timeout time.Duration
	// Poll is how long the communication goroutine sleeps between tests
	// of the outstanding operations; 0 means 100 µs.
	Poll time.Duration
}

// LostRankError reports a rank of this machine whose process has ended
// while the others waited for it in a collective operation.
type LostRankError struct {
	Rank int
	Host string
	PID  int
}

func (e *LostRankError) Error() string {
	return fmt.Sprintf("rank %d (pid %d on %s) has exited; the job cannot continue", e.Rank, e.PID, e.Host)
}

// TimeoutError reports a collective operation that did not complete.
type TimeoutError struct {
	Op    string
	After time.Duration
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("%s did not complete within %s: a rank has stopped or is unreachable", e.Op, e.After)
}

// Alone is the world of a process that runs by itself.
func Alone() *World {
	h, _ := os.Hostname()
	return &World{size: 1, host: h, peers: []peer{{Host: h, PID: os.Getpid()}}}
}

// Launched reports whether this process was started by mpirun, so that
// JoinMPI rather than Alone describes its world.
func Launched() bool { return mpi.Launched() }

// JoinMPI initialises MPI on a dedicated goroutine and returns the job's
// world. The ranks exchange their host names and process ids (to tell
// which one has gone if one exits). Close must be called at the end.
func JoinMPI(opt WorldOptions) (*World, error) {
	if opt.Timeout <= 0 {
		opt.Timeout = 30 * time.Minute
	}
	if opt.Poll <= 0 {
		opt.Poll = 100 * time.Microsecond
	}
	w := &World{timeout: opt.Timeout, ops: make(chan op), quit: make(chan struct{})}
	w.host, _ = os.Hostname()
	started := make(chan error, 1)
	go w.loop(opt.Poll, started)
	if err := <-started; err != nil {
		return nil, err
	}
	return w, nil
}

// Rank is this process's rank (0 alone).
func (w *World) Rank() int { return w.rank }

// Size is the number of processes (1 alone).
func (w *World) Size() int { return w.size }

// Host is this machine's name.
func (w *World) Host() string { return w.host }

// fail records the first failure and returns the one in force.
func (w *World) fail(err error) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = err
	}
	return w.err
}

// Err is the first communication failure, if any.
func (w *World) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// op is one request to the communication goroutine.
type op struct {
	kind   opKind
	name   string
	send   *mpi.Buffer
	recv   *mpi.Buffer
	n      int
	typ    mpi.Type
	bytes  []byte
	root   int
	code   int
	posted func()          // called once the operation has been started
	done   func(err error) // called (on the communication goroutine) when it completes
}

type opKind int

const (
	opSum opKind = iota
	opBcast
	opBarrier
	opAbort
	opClose
)

// submit hands o to the communication goroutine.
func (w *World) submit(o op) {
	if err := w.Err(); err != nil && o.kind != opAbort && o.kind != opClose {
		o.done(err)
		return
	}
	select {
	case w.ops <- o:
	case <-w.quit:
		o.done(w.fail(errors.New("dist: the MPI communication goroutine has ended")))
	}
}

// call submits o and waits for its completion.
func (w *World) call(o op) error {
	ch := make(chan error, 1)
	o.done = func(err error) { ch <- err }
	w.submit(o)
	return <-ch
}

// Bcast sends buf from rank root to every rank (blocking).
func (w *World) Bcast(buf []byte, root int) error {
	if w.size == 1 {
		return nil
	}
	return w.call(op{kind: opBcast, name: "MPI_Bcast", bytes: buf, root: root})
}

// Barrier waits for every rank.
func (w *World) Barrier() error {
	if w.size == 1 {
		return nil
	}
	return w.call(op{kind: opBarrier, name: "MPI_Barrier"})
}

// Abort ends every process of the job with code (MPI_Abort); alone it
// does nothing.
func (w *World) Abort(code int) {
	if w.size == 1 {
		return
	}
	_ = w.call(op{kind: opAbort, code: code})
}

// Close finalises MPI after the outstanding operations complete; alone it
// does nothing. No call may follow.
func (w *World) Close() error {
	if w.ops == nil {
		return nil
	}
	select {
	case <-w.quit:
		return nil
	default:
	}
	return w.call(op{kind: opClose})
}

// sumAsync starts summing n elements of send over the ranks into recv and
// calls done when finished; the buffers stay untouched until then.
func (w *World) sumAsync(name string, send, recv *mpi.Buffer, n int, t mpi.Type, posted func(), done func(error)) {
	w.submit(op{kind: opSum, name: name, send: send, recv: recv, n: n, typ: t, posted: posted, done: done})
}

// pending is a started non-blocking operation.
type pending struct {
	op    op
	req   *mpi.Request
	start time.Time
}

// loop is the communication goroutine: it initialises MPI on its locked
// thread, then starts the operations it receives in order and tests the
// outstanding ones until each completes.
func (w *World) loop(poll time.Duration, started chan<- error) {
	runtime.LockOSThread()
	defer close(w.quit)
	mw, err := mpi.Init()
	if err != nil {
		started <- err
		return
	}
	w.rank, w.size = mw.Rank(), mw.Size()
	if w.peers, err = exchangePeers(mw, w.host); err != nil {
		started <- err
		return
	}
	started <- nil

	var out []*pending
	lastCheck := time.Now()
	for {
		var o op
		if len(out) == 0 {
			o = <-w.ops
		} else {
			select {
			case o = <-w.ops:
			default:
				o.kind = -1
			}
		}
		if o.kind >= 0 {
			if stop := w.start(mw, o, &out); stop {
				return
			}
			continue
		}
		progressed := false
		for len(out) > 0 {
			p := out[0]
			done, err := p.req.Test()
			if !done {
				break
			}
			out = out[1:]
			progressed = true
			if err != nil {
				err = w.fail(fmt.Errorf("%s: %w", p.op.name, err))
			}
			p.op.done(err)
		}
		if progressed || len(out) == 0 {
			continue
		}
		if time.Since(lastCheck) > 100*time.Millisecond {
			lastCheck = time.Now()
			if err := w.watch(out[0]); err != nil {
				for _, p := range out {
					p.op.done(err)
				}
				// The outstanding requests can never complete; the
				// goroutine now only answers with the failure.
				w.dead(mw)
				return
			}
		}
		time.Sleep(poll)
	}
}

// start runs or posts o; it reports whether the loop must end.
func (w *World) start(mw *mpi.World, o op, out *[]*pending) bool {
	if err := w.Err(); err != nil && o.kind != opAbort && o.kind != opClose {
		o.done(err)
		return false
	}
	switch o.kind {
	case opSum:
		req, err := mw.Iallreduce(o.send, o.recv, o.n, o.typ)
		if err != nil {
			o.done(w.fail(fmt.Errorf("%s: %w", o.name, err)))
			return false
		}
		if o.posted != nil {
			o.posted()
		}
		*out = append(*out, &pending{op: o, req: req, start: time.Now()})
	case opBcast:
		o.done(w.blocking(out, func() error { return mw.Bcast(o.bytes, o.root) }))
	case opBarrier:
		o.done(w.blocking(out, mw.Barrier))
	case opAbort:
		err := mw.Abort(o.code)
		o.done(err)
		os.Exit(o.code)
	case opClose:
		err := w.blocking(out, mw.Finalize)
		o.done(err)
		return true
	}
	return false
}

// blocking completes the outstanding operations, then runs f.
func (w *World) blocking(out *[]*pending, f func() error) error {
	for _, p := range *out {
		err := p.req.Wait()
		if err != nil {
			err = w.fail(fmt.Errorf("%s: %w", p.op.name, err))
		}
		p.op.done(err)
	}
	*out = nil
	if err := f(); err != nil {
		return w.fail(err)
	}
	return nil
}

// watch checks, while p waits, that the ranks of this machine still run
// and that p has not outlived the timeout.
func (w *World) watch(p *pending) error {
	for r, pr := range w.peers {
		if r == w.rank || pr.Host != w.host {
			continue
		}
		if !processRuns(pr.PID) {
			return w.fail(&LostRankError{Rank: r, Host: pr.Host, PID: pr.PID})
		}
	}
	if d := time.Since(p.start); d > w.timeout {
		return w.fail(&TimeoutError{Op: p.op.name, After: w.timeout})
	}
	return nil
}

// dead answers every later request with the failure, still on the MPI
// thread: Abort calls MPI_Abort, Close returns nil without MPI_Finalize
// (which would wait for the lost rank).
func (w *World) dead(mw *mpi.World) {
	err := w.Err()
	for o := range w.ops {
		switch o.kind {
		case opAbort:
			_ = mw.Abort(o.code)
			os.Exit(o.code)
		case opClose:
			o.done(nil) // the failure was reported by the operation it ended
			return
		default:
			o.done(err)
		}
	}
}
