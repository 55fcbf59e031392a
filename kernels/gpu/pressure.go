package gpu

import (
	"runtime"
	"time"
)

// Device memory is invisible to Go's collector: tensors dropped without
// Release hold storage that only their finalizers give back, and the
// collector may not run before a backend's pool would have to grow. A
// backend's pool calls CollectReleased before it asks the driver for more.

// PressureWait bounds how long CollectReleased waits for finalizers.
const PressureWait = 50 * time.Millisecond

// sentinel is an object whose finalizer signals that the finalizer
// goroutine has reached the queue of a collection.
type sentinel struct{ done chan struct{} }

// CollectReleased runs a garbage collection so that the finalizers of
// unreachable tensors free their storage, and waits (at most PressureWait)
// for them to run: for a sentinel finalizer queued before the collection,
// then until released (the count of storages the pool has taken back)
// stops changing. It must be called without any lock that Free takes.
func CollectReleased(released func() uint64) {
	start := time.Now()
	done := make(chan struct{})
	runtime.SetFinalizer(&sentinel{done: done}, func(s *sentinel) { close(s.done) })
	runtime.GC()
	timer := time.NewTimer(PressureWait)
	select {
	case <-done:
	case <-timer.C:
	}
	timer.Stop()
	// Finalizers queued beside the sentinel may still be running: wait
	// until releases stop arriving.
	last, quiet := released(), 0
	for quiet < 3 && time.Since(start) < PressureWait {
		runtime.Gosched()
		time.Sleep(50 * time.Microsecond)
		if n := released(); n != last {
			last, quiet = n, 0
		} else {
			quiet++
		}
	}
}
