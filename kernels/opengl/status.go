//go:build opengl && cgo

package opengl

import (
	"fmt"
	"math"

	"sargo/kernels/gpu"
	"sargo/tensor"
)

// The status storage: a few words that shaders write when they find bad
// input (kernels/gpu's id checks). It is a buffer object of its own,
// outside the pool, read back at Sync and Read when a dispatch has bound
// it since the last read, and turned into the sticky error there.

// newStatus records the creation of the status storage, zeroed. The
// caller holds b.mu (or owns b alone).
func (b *Backend) newStatus() {
	s := &Buffer{n: gpu.StatusWords, bytes: 4 * gpu.StatusWords}
	c := b.record(cmdCreate)
	c.buf = s
	c = b.record(cmdFill)
	c.buf, c.off, c.n = s, 0, gpu.StatusWords
	b.status = s
	b.statusWords = make([]float32, gpu.StatusWords)
}

// statusStorage is the status storage (gpu.Device.Status).
func (b *Backend) statusStorage() tensor.Storage { return b.status }

// readStatus records a read of the status storage into b.statusWords
// when a dispatch bound it since the last read, and reports whether it
// did; the caller then runs the batch and calls checkStatus. The caller
// holds b.mu.
func (b *Backend) readStatus() bool {
	if !b.statusPending || b.stopped() {
		return false
	}
	b.statusPending = false
	c := b.record(cmdDownload)
	c.buf, c.off, c.n, c.data = b.status, 0, gpu.StatusWords, b.statusWords
	c.barrier = b.trackTransfer(b.status)
	return true
}

// checkStatus turns what the status storage held when readStatus's read
// ran into the sticky error. The caller holds b.mu.
func (b *Backend) checkStatus() {
	var w [gpu.StatusWords]uint32
	for i, f := range b.statusWords {
		w[i] = math.Float32bits(f)
	}
	if err := gpu.StatusError(w); err != nil {
		b.fail(fmt.Errorf("opengl: %w", err))
	}
}
