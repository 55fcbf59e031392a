package train

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"sargo/autograd"
	"sargo/dist"
	"sargo/nn"
	"sargo/tensor"
)

// Parallel makes a Setup train data-parallel (package dist): the Setup's
// network is replica 0 of this process, Replicas are copies on the other
// local devices, and World joins the replicas of every process of an MPI
// job. Each of the World.Size()·(1+len(Replicas)) replicas trains on its
// shard of every batch (Batch must split evenly), and their gradients are
// averaged in buckets during the backward pass. Global replica 0 (rank 0's
// first device) writes the run directory; Run on the other ranks only
// trains.
type Parallel struct {
	World *dist.World
	// Replicas are the network and tokenizer on each further local
	// device, built like the Setup's own (same configuration and seed).
	Replicas []Replica
	// BucketBytes caps a gradient bucket (0: dist.DefaultBucketBytes).
	BucketBytes int
	// Trace, when set, records the timing of the gradient buckets.
	Trace *dist.Trace
}

// Replica is one further local device's copy of the model.
type Replica struct {
	Net Network
	Tok Tokenizer
	Dev tensor.Backend
}

// lead reports whether this process writes the run directory.
func (p *Parallel) lead() bool { return p == nil || p.World == nil || p.World.Rank() == 0 }

// ErrStopped is what a data-parallel run returns when it stopped because
// some replica was interrupted (a signal on any rank stops all of them
// after the same step).
var ErrStopped = errors.New("stopped: a rank was interrupted")

// parallelState is a Trainer's part in data-parallel training.
type parallelState struct {
	rep   *dist.Replica
	peers []*Trainer // the other local replicas, driven by replica 0
	ctx   context.Context
	stop  bool // the replicas agreed, at the last step, to stop
	// closeScopes frees the other local replicas' state (replica 0 only).
	closeScopes func()
}

// joinParallel builds the other local replicas' trainers and the group.
func (t *Trainer) joinParallel(s Setup) error {
	p := s.Parallel
	world := p.World
	if world == nil {
		world = dist.Alone()
	}
	params := [][]nn.NamedParam{t.params}
	var peers []*Trainer
	// Each further replica's state (its optimiser moments) belongs to a
	// scope on its device, closed with the group (releaseParallel).
	var scopes []*tensor.Scope
	closeScopes := func() {
		for i := len(scopes) - 1; i >= 0; i-- {
			scopes[i].Close()
		}
	}
	for i, r := range p.Replicas {
		rs := s
		rs.Net, rs.Tok, rs.Dev, rs.Parallel = r.Net, r.Tok, r.Dev, nil
		scopes = append(scopes, tensor.NewScope(r.Dev))
		peer, err := NewTrainer(rs)
		if err != nil {
			closeScopes()
			return fmt.Errorf("trainer: replica %d (%s): %w", i+1, r.Dev.Name(), err)
		}
		peers = append(peers, peer)
		params = append(params, peer.params)
	}
	g, err := dist.NewGroup(world, params, dist.Options{BucketBytes: p.BucketBytes, Trace: p.Trace})
	if err != nil {
		closeScopes()
		return fmt.Errorf("trainer: %w", err)
	}
	if _, _, err := dist.Shard(s.Cfg.Batch, g.Size(), 0); err != nil {
		g.Close()
		closeScopes()
		return fmt.Errorf("trainer: %s: %w", g.Describe(), err)
	}
	t.par = &parallelState{rep: g.Replica(0), peers: peers, closeScopes: closeScopes}
	for i, peer := range peers {
		peer.par = &parallelState{rep: g.Replica(i + 1)}
	}
	return nil
}

// releaseParallel frees the group's host buffers and the other local
// replicas' optimiser state (data-parallel only).
func (t *Trainer) releaseParallel() {
	if t.par != nil && t.par.rep.Local() == 0 {
		t.par.rep.Group().Close()
		t.par.closeScopes()
	}
}

// shard returns this replica's part [lo, hi) of a global batch of n
// images (the loader decodes only those).
func (t *Trainer) shard(n int) (lo, hi int) {
	if t.par == nil {
		return 0, n
	}
	g := t.par.rep.Group()
	lo, hi, _ = dist.Shard(n, g.Size(), t.par.rep.Index()) // checked by joinParallel
	return lo, hi
}

// streamShift separates the replicas' drop-path streams: global replica r
// draws from its own 2^26 offsets of the step's drop-path range.
func (t *Trainer) streamShift() uint64 {
	if t.par == nil {
		return 0
	}
	return uint64(t.par.rep.Index()) << 26
}

// attach hooks the step's backward pass to the gradient buckets.
func (t *Trainer) attach(g *autograd.Graph) {
	if t.par != nil {
		t.par.rep.Attach(g)
	}
}

// syncGradients waits for the averaged gradients.
func (t *Trainer) syncGradients() error {
	if t.par == nil {
		return nil
	}
	return t.par.rep.Finish()
}

// agree averages the step's host scalars (loss terms and the squared
// gradient norm) over the replicas, sums the tokens and settles whether
// to stop: every replica then takes the same decisions (non-finite values,
// clipping, stopping).
func (t *Trainer) agree(host []float32, res *StepResult) ([]float32, error) {
	if t.par == nil {
		return host, nil
	}
	vals := make([]float64, 0, len(host)+2)
	for _, v := range host {
		vals = append(vals, float64(v))
	}
	stop := 0.0
	if t.par.ctx != nil && t.par.ctx.Err() != nil {
		stop = 1
	}
	vals = append(vals, float64(res.Tokens), stop)
	sum, err := t.par.rep.Sum(vals)
	if err != nil {
		return nil, err
	}
	n := float64(t.par.rep.Group().Size())
	out := make([]float32, len(host))
	for i := range host {
		out[i] = float32(sum[i] / n)
	}
	res.Tokens = int(sum[len(host)])
	t.par.stop = sum[len(host)+1] > 0
	return out, nil
}

// interrupted reports whether the run must stop before the next step:
// alone, as soon as ctx is done; data-parallel, when some replica's ctx
// was done at the last step's agreement, so that all stop after the same
// step.
func (t *Trainer) interrupted(ctx context.Context) error {
	if t.par == nil {
		return ctx.Err()
	}
	t.par.ctx = ctx
	for _, p := range t.par.peers {
		p.par.ctx = ctx
	}
	if !t.par.stop {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrStopped, err)
	}
	return ErrStopped
}

// eachReplica runs f on this trainer and its local peers concurrently. A
// failure aborts the group so that no replica waits for a failed one; the
// error returned is this trainer's own, else the first peer's.
func (t *Trainer) eachReplica(f func(r *Trainer) error) error {
	if t.par == nil || len(t.par.peers) == 0 {
		return f(t)
	}
	g := t.par.rep.Group()
	errs := make([]error, len(t.par.peers))
	var wg sync.WaitGroup
	for i, p := range t.par.peers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if errs[i] = f(p); errs[i] != nil {
				g.Abort(errs[i])
			}
		}()
	}
	own := f(t)
	if own != nil {
		g.Abort(own)
	}
	wg.Wait()
	if own != nil {
		return own
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// stepReplicas runs one step on every local replica at once and returns
// replica 0's result (all replicas agree on it).
func (t *Trainer) stepReplicas() (StepResult, error) {
	var res StepResult
	err := t.eachReplica(func(r *Trainer) error {
		rr, err := r.step()
		if r == t {
			res = rr
		}
		return err
	})
	return res, err
}

// broadcastState checks that every replica trains the same run and gives
// all of them global replica 0's step, weights and optimiser moments.
func (t *Trainer) broadcastState() error {
	if t.par == nil {
		return nil
	}
	return t.eachReplica(func(r *Trainer) error { return r.receiveState() })
}

func (t *Trainer) receiveState() error {
	rep := t.par.rep
	g := rep.Group()
	// Every rank must run as many replicas (the sizes of the collective
	// calls below depend on it): with l_r replicas on rank r, each replica
	// adds (1, l_r), and (Σ l_r)² = N·Σ l_r² holds only when all l_r agree.
	local := float64(g.Local())
	counts, err := rep.Sum([]float64{1, local})
	if err != nil {
		return fmt.Errorf("trainer: start: %w", err)
	}
	if ranks := float64(g.World().Size()); counts[0]*counts[0] != ranks*counts[1] {
		return fmt.Errorf("trainer: the %g ranks run %g replicas in all, this one %g: every rank needs the same number of devices",
			ranks, counts[0], local)
	}
	own := t.fingerprint()
	lead := slices.Clone(own)
	if err := rep.BroadcastBytes(lead); err != nil {
		return fmt.Errorf("trainer: start: %w", err)
	}
	differs := make([]float64, g.Size())
	if !slices.Equal(own, lead) {
		differs[rep.Index()] = 1
	}
	sum, err := rep.Sum(differs)
	if err != nil {
		return fmt.Errorf("trainer: start: %w", err)
	}
	var bad []string
	for r, v := range sum {
		if v > 0 {
			bad = append(bad, fmt.Sprint(r))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("trainer: replica %s of %s differs from replica 0 in the training configuration, data or model shape",
			strings.Join(bad, ", "), g.Describe())
	}
	var steps [16]byte
	binary.LittleEndian.PutUint64(steps[:], uint64(t.Step))
	binary.LittleEndian.PutUint64(steps[8:], uint64(t.Opt.Step))
	if err := rep.BroadcastBytes(steps[:]); err != nil {
		return fmt.Errorf("trainer: start: %w", err)
	}
	t.Step = int(binary.LittleEndian.Uint64(steps[:]))
	t.Opt.Step = int(binary.LittleEndian.Uint64(steps[8:]))
	ts := make([]*tensor.Tensor, 0, 3*len(t.params))
	for i, p := range t.params {
		m, v := t.Opt.Moments(i)
		ts = append(ts, p.Var.Value, m, v)
	}
	if err := rep.BroadcastTensors(ts); err != nil {
		return fmt.Errorf("trainer: broadcast weights and optimiser state: %w", err)
	}
	return nil
}

// fingerprint hashes what every replica must share: the configuration,
// the data set's name and size, and the parameters' names and shapes.
func (t *Trainer) fingerprint() []byte {
	type shape struct {
		Name  string
		Shape []int
	}
	var ps []shape
	for _, p := range t.params {
		ps = append(ps, shape{p.Name, p.Var.Value.Shape()})
	}
	b, _ := json.Marshal(struct {
		Cfg    Config
		Data   string
		Images int
		Params []shape
	}{t.Cfg, t.setup.Data.Name, t.setup.Data.Len(), ps})
	h := sha256.Sum256(b)
	return h[:]
}

// parallelNote describes the data-parallel layout for the progress log
// ("" alone).
func (t *Trainer) parallelNote() string {
	if t.par == nil {
		return ""
	}
	g := t.par.rep.Group()
	return fmt.Sprintf("data-parallel: %s, %d images each per step; gradients averaged in %d bucket(s) of up to %.3g MiB",
		g.Describe(), t.Cfg.Batch/g.Size(), g.Buckets(), float64(g.BucketBytes())/(1<<20))
}

// follow is Run on a rank other than 0: it trains in step with rank 0
// and writes nothing.
func follow(ctx context.Context, s Setup, o RunOptions) (Summary, error) {
	sum := Summary{Dir: o.Out}
	sc := tensor.NewScope(s.Dev) // the run's state: optimiser moments
	defer sc.Close()
	tr, err := NewTrainer(s)
	if err != nil {
		return sum, err
	}
	defer tr.releaseParallel()
	if err := tr.broadcastState(); err != nil {
		return sum, err
	}
	until := tr.Total
	if o.Until > 0 && o.Until < until {
		until = o.Until
	}
	sum.Total = tr.Total
	for tr.Step < until {
		if err := tr.interrupted(ctx); err != nil {
			sum.Step = tr.Step
			return sum, err
		}
		if _, err := tr.TrainStep(); err != nil {
			sum.Step = tr.Step
			return sum, err
		}
	}
	sum.Step = tr.Step
	return sum, nil
}

// drawOffset is where, relative to the objective's offset, the random
// draws for this batch's rows at one scale begin (tok: the scale's first
// token, s2: its tokens per image). The draws of a scale are laid out
// over the global batch, one per image and token, so a data-parallel
// shard draws what its images draw in one process.
func (b *Batch) drawOffset(tok, s2 int) uint64 {
	global := b.Global
	if global == 0 {
		global = b.Size()
	}
	return uint64(tok*global + b.Start*s2)
}
