package mpi

/*
#cgo LDFLAGS: -ldl
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"unsafe"
)

// Library is the shared library Load opens: Open MPI's libmpi, soname 40.
// The environment variable SARGO_MPI_LIBRARY names another file.
const Library = "libmpi.so.40"

// The thread support levels of MPI_Init_thread, in Open MPI's numbering.
const (
	threadSingle = iota
	threadFunneled
)

var load struct {
	once sync.Once
	err  error
}

// Launched reports whether this process was started by Open MPI's mpirun
// (or another launcher that sets OMPI_COMM_WORLD_SIZE), that is, whether
// Init is expected to join a job rather than start a singleton.
func Launched() bool {
	_, ok := os.LookupEnv("OMPI_COMM_WORLD_SIZE")
	return ok
}

// Load opens Library (or $SARGO_MPI_LIBRARY) once; later calls return the
// first result. It fails, naming the library and dlopen's message, where
// Open MPI is not installed.
func Load() error {
	load.once.Do(func() {
		lib := Library
		if l := os.Getenv("SARGO_MPI_LIBRARY"); l != "" {
			lib = l
		}
		name := C.CString(lib)
		defer C.free(unsafe.Pointer(name))
		var msg [512]C.char
		if C.sm_load(name, &msg[0], C.int(len(msg))) != 0 {
			load.err = fmt.Errorf("mpi: load %s (install Open MPI: apt-get install openmpi-bin libopenmpi-dev, or scripts/setup.sh --mpi): %s",
				lib, C.GoString(&msg[0]))
		}
	})
	return load.err
}

// Error is a failed MPI call.
type Error struct {
	Call string
	Code int
	Msg  string
}

func (e *Error) Error() string {
	return fmt.Sprintf("mpi: %s: %s (error %d)", e.Call, e.Msg, e.Code)
}

func check(call string, rc C.int) error {
	if rc == 0 {
		return nil
	}
	var msg [512]C.char
	C.sm_error_string(rc, &msg[0], C.int(len(msg)))
	return &Error{Call: call, Code: int(rc), Msg: C.GoString(&msg[0])}
}

// World is MPI_COMM_WORLD of an initialised MPI library. Its methods must
// be called from the thread that called Init.
type World struct {
	rank, size int
	finalized  bool
}

// Init loads the library, initialises MPI with MPI_THREAD_FUNNELED, sets
// MPI_ERRORS_RETURN on MPI_COMM_WORLD and returns it. MPI can be
// initialised once per process: a second Init fails.
func Init() (*World, error) {
	if err := Load(); err != nil {
		return nil, err
	}
	var flag C.int
	if err := check("MPI_Initialized", C.sm_initialized(&flag)); err != nil {
		return nil, err
	}
	if flag != 0 {
		return nil, errors.New("mpi: Init: MPI is already initialised in this process")
	}
	if _, set := os.LookupEnv("OMPI_MCA_opal_signal"); !set {
		if err := os.Setenv("OMPI_MCA_opal_signal", ""); err != nil {
			return nil, fmt.Errorf("mpi: Init: %w", err)
		}
	}
	var provided C.int
	if err := check("MPI_Init_thread", C.sm_init_thread(threadFunneled, &provided)); err != nil {
		return nil, err
	}
	if provided < threadFunneled {
		return nil, fmt.Errorf("mpi: Init: the library provides thread level %d, want MPI_THREAD_FUNNELED (%d)", provided, threadFunneled)
	}
	if err := check("MPI_Comm_set_errhandler", C.sm_errors_return()); err != nil {
		return nil, err
	}
	w := &World{}
	var r, s C.int
	if err := check("MPI_Comm_rank", C.sm_world_rank(&r)); err != nil {
		return nil, err
	}
	if err := check("MPI_Comm_size", C.sm_world_size(&s)); err != nil {
		return nil, err
	}
	w.rank, w.size = int(r), int(s)
	return w, nil
}

// Version is MPI_Get_library_version: the library's own description.
func Version() (string, error) {
	if err := Load(); err != nil {
		return "", err
	}
	var buf [512]C.char
	if err := check("MPI_Get_library_version", C.sm_library_version(&buf[0], C.int(len(buf)))); err != nil {
		return "", err
	}
	return C.GoString(&buf[0]), nil
}

// Rank is this process's rank in MPI_COMM_WORLD.
func (w *World) Rank() int { return w.rank }

// Size is the number of processes in MPI_COMM_WORLD.
func (w *World) Size() int { return w.size }

// maxCount is the largest element count of one MPI call (an int).
const maxCount = 1<<31 - 1

func countOf(call string, n int) (C.int, error) {
	if n > maxCount {
		return 0, fmt.Errorf("mpi: %s: %d elements exceed MPI's count limit %d; split the buffer", call, n, maxCount)
	}
	return C.int(n), nil
}

// AllreduceFloat64 sums buf element-wise over all ranks, in place
// (MPI_Allreduce with MPI_IN_PLACE, MPI_DOUBLE, MPI_SUM).
func (w *World) AllreduceFloat64(buf []float64) error {
	if len(buf) == 0 {
		return nil
	}
	n, err := countOf("MPI_Allreduce", len(buf))
	if err != nil {
		return err
	}
	return check("MPI_Allreduce", C.sm_allreduce(C.sm_in_place(), unsafe.Pointer(&buf[0]), n, C.SM_DOUBLE, C.SM_SUM))
}

// MaxFloat64 takes the element-wise maximum of buf over all ranks, in
// place (MPI_Allreduce with MPI_MAX).
func (w *World) MaxFloat64(buf []float64) error {
	if len(buf) == 0 {
		return nil
	}
	n, err := countOf("MPI_Allreduce", len(buf))
	if err != nil {
		return err
	}
	return check("MPI_Allreduce", C.sm_allreduce(C.sm_in_place(), unsafe.Pointer(&buf[0]), n, C.SM_DOUBLE, C.SM_MAX))
}

// Bcast sends buf from root to every other rank, which receive into their
// buf of the same length (MPI_Bcast of MPI_BYTE).
func (w *World) Bcast(buf []byte, root int) error {
	for len(buf) > 0 {
		n := min(len(buf), maxCount)
		if err := check("MPI_Bcast", C.sm_bcast(unsafe.Pointer(&buf[0]), C.int(n), C.SM_BYTE, C.int(root))); err != nil {
			return err
		}
		buf = buf[n:]
	}
	return nil
}

// Barrier waits until every rank has called it.
func (w *World) Barrier() error { return check("MPI_Barrier", C.sm_barrier()) }

// Abort asks the launcher to end every process of the job with code
// (MPI_Abort). It normally does not return.
func (w *World) Abort(code int) error { return check("MPI_Abort", C.sm_abort(C.int(code))) }

// Finalize shuts MPI down; no MPI call may follow. Every rank must call it
// (after completing its requests) for the job to end cleanly.
func (w *World) Finalize() error {
	if w.finalized {
		return nil
	}
	w.finalized = true
	return check("MPI_Finalize", C.sm_finalize())
}

// Type is the element type of a reduction.
type Type int

// The element types.
const (
	Float32 Type = C.SM_FLOAT
	Float64 Type = C.SM_DOUBLE
)

func (t Type) size() int {
	if t == Float64 {
		return 8
	}
	return 4
}

func (t Type) String() string {
	if t == Float64 {
		return "MPI_DOUBLE"
	}
	return "MPI_FLOAT"
}

// Buffer is memory from C's malloc that non-blocking operations may use
// after the call that started them returns.
type Buffer struct {
	p     unsafe.Pointer
	bytes int
}

// NewBuffer allocates n bytes of zeroed C memory.
func NewBuffer(n int) *Buffer {
	if n <= 0 {
		return &Buffer{}
	}
	p := C.calloc(C.size_t(n), 1)
	if p == nil {
		panic(fmt.Sprintf("mpi: out of memory allocating a %d-byte buffer", n))
	}
	return &Buffer{p: p, bytes: n}
}

// Len is the size in bytes.
func (b *Buffer) Len() int { return b.bytes }

// Float32s views the buffer as float32s (valid until Free).
func (b *Buffer) Float32s() []float32 {
	if b.p == nil {
		return nil
	}
	return unsafe.Slice((*float32)(b.p), b.bytes/4)
}

// Float64s views the buffer as float64s (valid until Free).
func (b *Buffer) Float64s() []float64 {
	if b.p == nil {
		return nil
	}
	return unsafe.Slice((*float64)(b.p), b.bytes/8)
}

// Free releases the memory; the buffer must not be in use by a request.
// Freeing a nil Buffer does nothing.
func (b *Buffer) Free() {
	if b != nil && b.p != nil {
		C.free(b.p)
		b.p, b.bytes = nil, 0
	}
}

// Request is a pending non-blocking operation.
type Request struct {
	h    C.sm_handle
	call string
	done bool
}

// Iallreduce starts summing n elements of type t of send over all ranks
// into recv (MPI_Iallreduce with MPI_SUM). send and recv must differ and
// stay untouched until the request completes.
func (w *World) Iallreduce(send, recv *Buffer, n int, t Type) (*Request, error) {
	const call = "MPI_Iallreduce"
	if send == recv {
		return nil, fmt.Errorf("mpi: %s: send and receive buffers are the same", call)
	}
	if need := n * t.size(); need > send.bytes || need > recv.bytes {
		return nil, fmt.Errorf("mpi: %s: %d %s need %d bytes, buffers hold %d and %d", call, n, t, need, send.bytes, recv.bytes)
	}
	cn, err := countOf(call, n)
	if err != nil {
		return nil, err
	}
	r := &Request{call: call}
	if err := check(call, C.sm_iallreduce(send.p, recv.p, cn, C.int(t), C.SM_SUM, &r.h)); err != nil {
		return nil, err
	}
	return r, nil
}

// Test reports whether the request has completed (MPI_Test); after it
// has, the buffers may be used again.
func (r *Request) Test() (bool, error) {
	if r.done {
		return true, nil
	}
	var flag C.int
	if err := check("MPI_Test", C.sm_test(&r.h, &flag)); err != nil {
		r.done = true
		return true, fmt.Errorf("%s: %w", r.call, err)
	}
	r.done = flag != 0
	return r.done, nil
}

// Wait blocks until the request completes (MPI_Wait).
func (r *Request) Wait() error {
	if r.done {
		return nil
	}
	r.done = true
	if err := check("MPI_Wait", C.sm_wait(&r.h)); err != nil {
		return fmt.Errorf("%s: %w", r.call, err)
	}
	return nil
}
