package dist

import (
	"fmt"
	"unsafe"

	"sargo/autograd"
	"sargo/dist/mpi"
	"sargo/nn"
	"sargo/tensor"
)

// Replica is one local replica's side of a Group, used by the goroutine
// that trains it.
type Replica struct {
	g       *Group
	i       int
	step    int   // steps attached so far
	next    int   // the next bucket to contribute
	waiting []int // per bucket, its parameters whose gradient is not final yet
	err     error // the first failure of this step
	bwStart Stamp
}

// Index is the replica's global index: rank·local + local index.
func (r *Replica) Index() int { return r.g.world.Rank()*r.g.local + r.i }

// Local is the replica's index in this process.
func (r *Replica) Local() int { return r.i }

// Lead reports whether this is global replica 0, the one that writes the
// run's files.
func (r *Replica) Lead() bool { return r.Index() == 0 }

// Group is the replica's group.
func (r *Replica) Group() *Group { return r.g }

// Attach prepares the replica's next step: graph's backward pass will
// send each bucket as soon as all its gradients are final. Call it after
// zeroing the gradients and before graph.Backward, then Finish.
func (r *Replica) Attach(graph *autograd.Graph) {
	r.step++
	r.next, r.err = 0, nil
	if r.waiting == nil {
		r.waiting = make([]int, len(r.g.buckets))
	}
	for k, b := range r.g.buckets {
		r.waiting[k] = len(b.params)
	}
	if r.i == 0 {
		r.bwStart = r.g.trace.stamp()
	}
	vars := r.g.vars[r.i]
	graph.OnGradReady(func(v *autograd.Var) {
		if j, ok := vars[v]; ok {
			r.ready(j)
		}
	})
}

// ready notes that parameter j's gradient is final and sends every
// bucket, in order, whose gradients all are.
func (r *Replica) ready(j int) {
	r.waiting[r.g.of[j]]--
	for r.next < len(r.g.buckets) && r.waiting[r.next] == 0 {
		r.contribute(r.next)
		r.next++
	}
}

// contribute copies bucket k's gradients (and presence flags) into this
// replica's stage; the last local replica to do so sums the stages in
// replica order and starts the sum over the world.
func (r *Replica) contribute(k int) {
	g := r.g
	b := g.buckets[k]
	stage := b.stage[r.i]
	ps := g.params[r.i]
	for m, j := range b.params {
		p := ps[j]
		dst := stage[b.offs[m] : b.offs[m]+p.Var.Value.Size()]
		if p.Var.Grad == nil {
			clear(dst)
			stage[b.n+m] = 0
			continue
		}
		stage[b.n+m] = 1
		if r.err == nil {
			if err := readInto(p.Var.Grad, dst); err != nil {
				r.err = fmt.Errorf("dist: gradient of %s: %w", p.Name, err)
				g.Abort(r.err)
			}
		}
	}
	b.mu.Lock()
	if b.gen != r.step {
		b.gen, b.arrived, b.err = r.step, 0, nil
		b.done = make(chan struct{})
		b.times = bucketTimes{}
	}
	if r.i == 0 {
		b.times.Ready = g.trace.stamp()
	}
	b.arrived++
	last := b.arrived == g.local
	b.mu.Unlock()
	if !last {
		return
	}
	if g.local > 1 {
		sumStages(b.send.Float32s(), b.stage)
	}
	scale := float32(1) / float32(g.Size())
	step := r.step
	finish := func(err error) {
		if err == nil {
			out := b.recv.Float32s()
			for i := range out[:b.n] {
				out[i] *= scale
			}
		}
		b.times.Done = g.trace.stamp()
		g.trace.bucket(step, k, 4*b.n, b.times)
		b.err = err
		close(b.done)
	}
	if g.world.Size() == 1 {
		b.times.Posted = g.trace.stamp()
		copy(b.recv.Float32s(), b.send.Float32s())
		finish(nil)
		return
	}
	g.started()
	g.world.sumAsync(fmt.Sprintf("MPI_Iallreduce of gradient bucket %d", k), b.send, b.recv, b.total(), mpi.Float32,
		func() { b.times.Posted = g.trace.stamp() }, func(err error) {
			finish(err)
			g.arrived()
		})
}

// sumStages writes the element-wise sum of stages into dst, adding the
// replicas in index order so that the result never depends on which
// finished first.
func sumStages(dst []float32, stages [][]float32) {
	copy(dst, stages[0])
	for _, s := range stages[1:] {
		for i, v := range s {
			dst[i] += v
		}
	}
}

// Finish sends the buckets that backward did not complete (parameters it
// did not reach), waits for every bucket's sum and replaces each
// gradient by the average over all replicas. A parameter that no replica
// had a gradient for keeps none.
func (r *Replica) Finish() error {
	g := r.g
	bwEnd := g.trace.stamp()
	for r.next < len(g.buckets) {
		r.contribute(r.next)
		r.next++
	}
	if r.err != nil {
		return r.err
	}
	for k, b := range g.buckets {
		select {
		case <-b.done:
		case <-g.abort:
			return g.aborted()
		}
		if b.err != nil {
			return fmt.Errorf("dist: gradient bucket %d: %w", k, b.err)
		}
	}
	ps := g.params[r.i]
	for _, b := range g.buckets {
		res := b.recv.Float32s()
		for m, j := range b.params {
			p := ps[j]
			if res[b.n+m] == 0 {
				p.Var.ZeroGrad()
				continue
			}
			if p.Var.Grad == nil { // another replica reached p, this one did not
				p.Var.Grad = tensor.Empty(p.Var.Value.Backend(), p.Var.Value.Shape()...)
				tensor.Escape(p.Var.Grad) // the parameter's, as autograd's own gradients are
			}
			writeFrom(p.Var.Grad, res[b.offs[m]:b.offs[m]+p.Var.Value.Size()])
		}
	}
	if r.i == 0 {
		g.trace.step(r.step, g.world.Rank(), r.bwStart, bwEnd, g.trace.stamp())
	}
	return nil
}

// Sum returns the element-wise sum of vals over every replica of the
// world (the same on all, added in a fixed order). Every replica must call
// it with the same length.
func (r *Replica) Sum(vals []float64) ([]float64, error) {
	g := r.g
	g.stage[r.i] = append(g.stage[r.i][:0], vals...)
	n := len(vals)
	err := g.meet.meet(g, func() error {
		if g.scalarS == nil || g.scalarS.Len() < 8*n {
			g.scalarS.Free()
			g.scalarR.Free()
			g.scalarS, g.scalarR = mpi.NewBuffer(8*max(n, 16)), mpi.NewBuffer(8*max(n, 16))
		}
		s := g.scalarS.Float64s()[:n]
		copy(s, g.stage[0])
		for _, st := range g.stage[1:] {
			if len(st) != n {
				return fmt.Errorf("dist: Sum of %d values on one replica and %d on another", len(st), n)
			}
			for i, v := range st {
				s[i] += v
			}
		}
		if g.world.Size() == 1 {
			copy(g.scalarR.Float64s(), s)
			return nil
		}
		ch := make(chan error, 1)
		g.started()
		g.world.sumAsync("MPI_Iallreduce of the step's scalars", g.scalarS, g.scalarR, n, mpi.Float64, nil,
			func(err error) {
				ch <- err
				g.arrived()
			})
		return <-ch
	})
	if err != nil {
		return nil, err
	}
	out := append([]float64(nil), g.scalarR.Float64s()[:n]...)
	// Nobody may start the next Sum before everyone has read this one.
	if err := g.meet.meet(g, func() error { return nil }); err != nil {
		return nil, err
	}
	return out, nil
}

// BroadcastBytes overwrites b, on every replica, with global replica 0's
// b. All b must have the same length.
func (r *Replica) BroadcastBytes(b []byte) error {
	g := r.g
	if r.i == 0 {
		g.lead = b
	}
	if err := g.meet.meet(g, func() error { return g.world.Bcast(g.lead, 0) }); err != nil {
		return err
	}
	if r.i != 0 {
		if len(b) != len(g.lead) {
			return fmt.Errorf("dist: broadcast of %d bytes into %d", len(g.lead), len(b))
		}
		copy(b, g.lead)
	}
	return g.meet.meet(g, func() error { g.lead = nil; return nil })
}

// BroadcastTensors copies global replica 0's values of ts into every
// replica's ts (same shapes everywhere), one tensor at a time.
func (r *Replica) BroadcastTensors(ts []*tensor.Tensor) error {
	g := r.g
	for _, t := range ts {
		n := t.Size()
		if r.i == 0 {
			if cap(g.shared) < n {
				g.shared = make([]float32, n)
			}
			g.shared = g.shared[:n]
			if r.Lead() {
				if err := readInto(t, g.shared); err != nil {
					g.Abort(err)
					return fmt.Errorf("dist: broadcast: %w", err)
				}
			}
		}
		if err := g.meet.meet(g, func() error { return g.world.Bcast(floatBytes(g.shared), 0) }); err != nil {
			return err
		}
		if len(g.shared) != n {
			return fmt.Errorf("dist: broadcast of %d values into a tensor %v", len(g.shared), t.Shape())
		}
		if !r.Lead() {
			writeFrom(t, g.shared)
		}
		if err := g.meet.meet(g, func() error { return nil }); err != nil {
			return err
		}
	}
	return nil
}

// BroadcastParams gives every replica global replica 0's parameter values.
func (r *Replica) BroadcastParams(ps []nn.NamedParam) error {
	ts := make([]*tensor.Tensor, len(ps))
	for i, p := range ps {
		ts[i] = p.Var.Value
	}
	return r.BroadcastTensors(ts)
}

// readInto copies contiguous tensor t into dst without allocating.
func readInto(t *tensor.Tensor, dst []float32) error {
	s := t.Span()
	return t.Backend().Read(s.Buf, s.Offset, dst)
}

// writeFrom copies src into contiguous tensor t.
func writeFrom(t *tensor.Tensor, src []float32) {
	s := t.Span()
	t.Backend().Write(s.Buf, s.Offset, src)
}

// floatBytes views f as bytes.
func floatBytes(f []float32) []byte {
	if len(f) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&f[0])), 4*len(f))
}
