package cpu

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"sargo/tensor"
)

func init() {
	tensor.Register("cpu", func(index int) (tensor.Backend, error) {
		if index != 0 {
			return nil, fmt.Errorf("cpu: only device cpu:0 exists, got index %d", index)
		}
		return New(), nil
	})
}

// Buffer is CPU storage: a plain Go slice, recycled by size class (see
// pool).
type Buffer struct {
	Data  []float32
	class int // size class, -1 for an empty buffer
	freed bool
}

// Len is the number of elements.
func (b *Buffer) Len() int { return len(b.Data) }

// Backend is the CPU device. It is safe for concurrent use by kernels that
// touch different outputs.
type Backend struct {
	workers int
	mem     pool
	// convBudget, when positive, replaces convColBudget (tests use it to
	// cut a batch into several image groups).
	convBudget int
	// convPath, for tests, forces the convolution path: 1 takes the
	// implicit GEMM wherever it applies, -1 never; 0 chooses by shape
	// (useImplicit).
	convPath int
	// err is the sticky error: the first kernel that refused its input
	// (ids outside their table) records it.
	err atomic.Pointer[error]
	// scratchBufs holds the kernels' temporary buffers (see scratch).
	scratchBufs scratchStore
	// sampleScratch holds the candidate lists of Sample's workers.
	sampleScratch sync.Pool
	// attnVis holds the visible-prefix arrays of attention (*[]int32).
	attnVis sync.Pool
	// gemmBlocks recycles gemmBlocked's loop state, which its workers
	// share.
	gemmBlocks sync.Pool
	// taps holds the interpolation tap tables built so far.
	taps tapCache
	// pool is the worker goroutines, started by the first parallel loop.
	pool atomic.Pointer[workerPool]
	// frames holds the loop bodies of the kernels that run in parallel
	// on the training path, for reuse (see parallelRun).
	frames kernelFrames
}

// New returns a CPU backend using GOMAXPROCS workers.
func New() *Backend { return &Backend{workers: runtime.GOMAXPROCS(0)} }

// Name is "cpu".
func (b *Backend) Name() string { return "cpu" }

// Describe names the processor count and the GEMM kernel in use.
func (b *Backend) Describe() string {
	return fmt.Sprintf("CPU, %d threads, %s/%s, GEMM kernel %s", b.workers, runtime.GOOS, runtime.GOARCH, gemmKernelName())
}

// Alloc returns a buffer of n elements with undefined content, recycled
// from a freed one of its size class when there is one.
func (b *Backend) Alloc(n int) tensor.Storage { return b.mem.alloc(n) }

// Free keeps the buffer for reuse.
func (b *Backend) Free(s tensor.Storage) { b.mem.release(s.(*Buffer)) }

// MemStats returns the storage counters; ReservedBytes counts live and
// recycled buffers at their class size.
func (b *Backend) MemStats() tensor.MemStats { return b.mem.stats() }

// ResetPeak restarts MemStats' PeakBytes from the live bytes.
func (b *Backend) ResetPeak() { b.mem.counter.ResetPeak() }

// Write copies src into s at off.
func (b *Backend) Write(s tensor.Storage, off int, src []float32) { copy(data(s)[off:], src) }

// Read copies from s at off into dst, or returns the sticky error.
func (b *Backend) Read(s tensor.Storage, off int, dst []float32) error {
	if err := b.Err(); err != nil {
		return err
	}
	copy(dst, data(s)[off:off+len(dst)])
	return nil
}

// Sync has nothing to wait for on the CPU; it returns the sticky error.
func (b *Backend) Sync() error { return b.Err() }

// Err returns the sticky error: the first kernel input the backend refused
// (see tensor.IDError), or nil.
func (b *Backend) Err() error {
	if p := b.err.Load(); p != nil {
		return *p
	}
	return nil
}

// fail records err as the sticky error if there is none yet.
func (b *Backend) fail(err error) {
	err = fmt.Errorf("cpu: %w", err)
	b.err.CompareAndSwap(nil, &err)
}

func data(s tensor.Storage) []float32 {
	if s == nil {
		return nil
	}
	return s.(*Buffer).Data
}

// span returns the slice of n elements of sp.
func span(sp tensor.Span, n int) []float32 {
	if sp.Buf == nil {
		return nil
	}
	return data(sp.Buf)[sp.Offset : sp.Offset+n]
}
