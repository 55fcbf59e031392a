package data

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
)

// augStreamKey separates the augmentation draws from the other streams
// keyed by the training seed.
const augStreamKey = 0x6175676d656e7400 // "augment"

// LoaderOptions size a Loader's background work.
type LoaderOptions struct {
	// Workers is the number of images decoded at once (0: GOMAXPROCS).
	Workers int
	// Prefetch is the number of batches prepared ahead of the one asked
	// for (0: 1; negative: none).
	Prefetch int
}

// Loader yields the training batch of every step as a pure function of
// the seed and the step, so that a resumed run reads exactly the images,
// crops and flips an uninterrupted run would: step t is batch t mod E of
// epoch t / E (E = images / batch, the last partial batch dropped), each
// epoch a fixed permutation (Shuffler), and image k of step t augmented
// (Dataset.Augment) by draws from a generator keyed by (seed, t·batch + k).
// Images are decoded in parallel, and the batches of the next Prefetch
// steps are prepared in the background while the caller works on this one.
// A Loader is safe for use by one goroutine.
type Loader struct {
	ds    *Dataset
	batch int
	seed  uint64
	shuf  Shuffler
	opt   LoaderOptions
	sem   chan struct{}

	mu      sync.Mutex
	perms   map[int][]int // epoch → permutation, for the epochs in flight
	pending map[part]*pendingBatch
}

// part is the images [lo, hi) of step t's batch.
type part struct{ t, lo, hi int }

// pendingBatch is a batch being prepared.
type pendingBatch struct {
	done   chan struct{}
	x      []float32
	labels []int
	epoch  int
	err    error
}

// NewLoader returns a loader of batches of batch images of ds.
func NewLoader(ds *Dataset, batch int, seed uint64, opt LoaderOptions) (*Loader, error) {
	if ds == nil || ds.Len() == 0 {
		return nil, fmt.Errorf("training data: empty dataset")
	}
	if batch < 1 || batch > ds.Len() {
		return nil, fmt.Errorf("training data %s: batch %d outside [1, %d images]", ds.Name, batch, ds.Len())
	}
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	if opt.Prefetch == 0 {
		opt.Prefetch = 1
	}
	return &Loader{ds: ds, batch: batch, seed: seed, shuf: Shuffler{N: ds.Len(), Seed: seed}, opt: opt,
		sem: make(chan struct{}, opt.Workers), perms: map[int][]int{}, pending: map[part]*pendingBatch{}}, nil
}

// StepsPerEpoch is the number of full batches in one pass.
func (l *Loader) StepsPerEpoch() int { return l.ds.Len() / l.batch }

// BatchSize is the number of images of every step's batch.
func (l *Loader) BatchSize() int { return l.batch }

// Batch returns the images [batch, C, H, W] (flattened), labels and epoch
// of step t, and starts preparing the steps after it.
func (l *Loader) Batch(t int) (x []float32, labels []int, epoch int, err error) {
	return l.Part(t, 0, l.batch)
}

// Part is Batch for the images [lo, hi) of step t's batch only, the part
// of one data-parallel replica: they are the images, crops and flips the
// whole batch has at those positions, and only they are decoded. The
// steps prepared ahead are the same part of the next batches.
func (l *Loader) Part(t, lo, hi int) (x []float32, labels []int, epoch int, err error) {
	if t < 0 || lo < 0 || hi > l.batch || lo >= hi {
		return nil, nil, 0, fmt.Errorf("training data: images [%d, %d) of step %d of batches of %d", lo, hi, t, l.batch)
	}
	l.mu.Lock()
	for k := range l.pending {
		if k.t < t || k.lo != lo || k.hi != hi {
			delete(l.pending, k) // a jump, or another part: drop what is stale
		}
	}
	for s := t; s <= t+max(l.opt.Prefetch, 0); s++ {
		if _, ok := l.pending[part{s, lo, hi}]; !ok {
			l.pending[part{s, lo, hi}] = l.start(s, lo, hi)
		}
	}
	k := part{t, lo, hi}
	p := l.pending[k]
	delete(l.pending, k)
	l.mu.Unlock()
	<-p.done
	return p.x, p.labels, p.epoch, p.err
}

// indices returns the dataset indices and epoch of step t; l.mu is held.
func (l *Loader) indices(t int) ([]int, int) {
	spe := l.StepsPerEpoch()
	epoch, i := t/spe, t%spe
	perm, ok := l.perms[epoch]
	if !ok {
		for e := range l.perms {
			if e < epoch-1 || e > epoch+1 {
				delete(l.perms, e)
			}
		}
		perm = l.shuf.Epoch(epoch)
		l.perms[epoch] = perm
	}
	return perm[i*l.batch : (i+1)*l.batch], epoch
}

// draw is image k of step t's augmentation, or nil without augmentation.
func (l *Loader) draw(t, k int) *draw {
	a := l.ds.Augment
	if !a.RandomCrop && !a.Flip {
		return nil
	}
	r := rand.New(rand.NewPCG(l.seed^augStreamKey, uint64(t)*uint64(l.batch)+uint64(k)))
	d := &draw{flip: a.Flip && r.IntN(2) == 1}
	if a.RandomCrop {
		d.smaller = l.ds.H + r.IntN(maxSmaller(l.ds.H)-l.ds.H+1)
		d.fx, d.fy = r.Float64(), r.Float64()
	}
	return d
}

// start prepares images [lo, hi) of step t's batch in the background;
// l.mu is held.
func (l *Loader) start(t, lo, hi int) *pendingBatch {
	idx, epoch := l.indices(t)
	idx = idx[lo:hi]
	p := &pendingBatch{done: make(chan struct{}), epoch: epoch, labels: make([]int, len(idx))}
	n := l.ds.ImageSize()
	p.x = make([]float32, len(idx)*n)
	for k, i := range idx {
		p.labels[k] = l.ds.Labels[i]
	}
	go func() {
		defer close(p.done)
		var wg sync.WaitGroup
		errs := make([]error, len(idx))
		for k, i := range idx {
			l.sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-l.sem; wg.Done() }()
				img, err := l.ds.load(i, l.draw(t, lo+k))
				if err != nil {
					errs[k] = err
					return
				}
				copy(p.x[k*n:(k+1)*n], img)
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				p.err = fmt.Errorf("training data %s, step %d: %w", l.ds.Name, t, err)
				return
			}
		}
	}()
	return p
}
