package tensor

import "sync/atomic"

// MemStats are a backend's storage counters, for tests that look for
// leaks and for benchmarks. Byte counts are the requested sizes (4 bytes
// per element), except ReservedBytes.
type MemStats struct {
	// Allocs and Frees count the Alloc and Free calls so far; their
	// difference is the number of live storages.
	Allocs, Frees int64
	// LiveBytes is the size of the live storages, and PeakBytes its
	// highest value since the backend opened or ResetPeak.
	LiveBytes, PeakBytes int64
	// AllocatedBytes is the total size of every Alloc so far.
	AllocatedBytes int64
	// ZeroFilledBytes is the total size of the fills with 0 so far.
	ZeroFilledBytes int64
	// ReservedBytes is the memory the backend holds for storages, live or
	// kept for reuse, rounded to its allocation granularity.
	ReservedBytes int64
}

// Live is the number of live storages.
func (m MemStats) Live() int64 { return m.Allocs - m.Frees }

// Sub is m − o for the cumulative counters (Allocs, Frees,
// AllocatedBytes, ZeroFilledBytes); the other fields are m's.
func (m MemStats) Sub(o MemStats) MemStats {
	m.Allocs -= o.Allocs
	m.Frees -= o.Frees
	m.AllocatedBytes -= o.AllocatedBytes
	m.ZeroFilledBytes -= o.ZeroFilledBytes
	return m
}

// MemCounter keeps the counters of MemStats for a backend, which calls
// Alloc, Free and ZeroFill as storages come and go. It is safe for
// concurrent use.
type MemCounter struct {
	allocs, frees, live, peak, allocated, zeroed atomic.Int64
}

// Alloc counts an allocation of the given size.
func (c *MemCounter) Alloc(bytes int64) {
	c.allocs.Add(1)
	c.allocated.Add(bytes)
	live := c.live.Add(bytes)
	for {
		p := c.peak.Load()
		if live <= p || c.peak.CompareAndSwap(p, live) {
			return
		}
	}
}

// Free counts freeing a storage of the given size.
func (c *MemCounter) Free(bytes int64) {
	c.frees.Add(1)
	c.live.Add(-bytes)
}

// ZeroFill counts bytes filled with zeros.
func (c *MemCounter) ZeroFill(bytes int64) { c.zeroed.Add(bytes) }

// ResetPeak restarts the peak from the current live bytes.
func (c *MemCounter) ResetPeak() { c.peak.Store(c.live.Load()) }

// Stats returns the counters; ReservedBytes is left for the backend.
func (c *MemCounter) Stats() MemStats {
	return MemStats{Allocs: c.allocs.Load(), Frees: c.frees.Load(), LiveBytes: c.live.Load(), PeakBytes: c.peak.Load(),
		AllocatedBytes: c.allocated.Load(), ZeroFilledBytes: c.zeroed.Load()}
}
