package cpu

import (
	"fmt"
	"runtime"

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

// Buffer is CPU storage: a plain Go slice.
type Buffer struct{ Data []float32 }

// Len is the number of elements.
func (b *Buffer) Len() int { return len(b.Data) }

// Backend is the CPU device. It is safe for concurrent use by kernels that
// touch different outputs.
type Backend struct {
	workers int
	// convBudget, when positive, replaces convColBudget (tests use it to
	// cut a batch into several image groups).
	convBudget int
	// convPath, for tests, forces the convolution path: 1 takes the
	// implicit GEMM wherever it applies, -1 never; 0 chooses by shape
	// (useImplicit).
	convPath int
}

// New returns a CPU backend using GOMAXPROCS workers.
func New() *Backend { return &Backend{workers: runtime.GOMAXPROCS(0)} }

// Name is "cpu".
func (b *Backend) Name() string { return "cpu" }

// Describe names the processor count and the GEMM kernel in use.
func (b *Backend) Describe() string {
	return fmt.Sprintf("CPU, %d threads, %s/%s, GEMM kernel %s", b.workers, runtime.GOOS, runtime.GOARCH, gemmKernelName())
}

// Alloc returns a zeroed buffer.
func (b *Backend) Alloc(n int) tensor.Storage { return &Buffer{Data: make([]float32, n)} }

// Free drops the buffer; the garbage collector reclaims it.
func (b *Backend) Free(tensor.Storage) {}

// Write copies src into s at off.
func (b *Backend) Write(s tensor.Storage, off int, src []float32) { copy(data(s)[off:], src) }

// Read copies from s at off into dst.
func (b *Backend) Read(s tensor.Storage, off int, dst []float32) error {
	copy(dst, data(s)[off:off+len(dst)])
	return nil
}

// Sync has nothing to wait for on the CPU.
func (b *Backend) Sync() error { return nil }

// Err is always nil on the CPU.
func (b *Backend) Err() error { return nil }

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
