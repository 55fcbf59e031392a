// Package mpi is a small binding of the MPI calls that data-parallel
// training needs: MPI_Init_thread, MPI_Comm_rank and MPI_Comm_size on
// MPI_COMM_WORLD, MPI_Allreduce, the non-blocking MPI_Iallreduce with
// MPI_Test and MPI_Wait, MPI_Bcast, MPI_Barrier, MPI_Abort and
// MPI_Finalize.
//
// # Loading
//
// The library is Open MPI (Debian's openmpi-bin and libopenmpi-dev), and it
// is opened at run time with dlopen("libmpi.so.40") rather than linked, the
// way kernels/vulkan opens the Vulkan loader. The build therefore needs
// neither MPI's headers nor its library, one sargo binary runs both alone
// and under mpirun, and a machine without Open MPI only fails when a run
// asks for MPI (Load names the missing library). A build tag would have
// given two binaries, and a default build that could not join an MPI job.
// The price is that the binding speaks Open MPI's ABI (libmpi.so.40, Open
// MPI 3.0 to 5.x) rather than the MPI standard's source interface: handles
// are pointers and the predefined ones (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM,
// MPI_ERRORS_RETURN) are the addresses of the exported globals that
// Open MPI's mpi.h names, looked up with dlsym. MPICH's libmpi.so.12 has a
// different ABI and is not supported.
//
// # Threads
//
// Init asks for MPI_THREAD_FUNNELED: every call must come from the thread
// that called Init. A Go caller locks one goroutine to its thread
// (runtime.LockOSThread), calls Init there and makes every later call from
// it; package dist does so with one communication goroutine. Non-blocking
// operations only progress inside MPI calls, so that goroutine polls Test
// while requests are outstanding.
//
// Init sets OMPI_MCA_opal_signal to the empty list unless it is already
// set: Open MPI otherwise installs handlers for SIGSEGV, SIGBUS, SIGFPE
// and SIGILL that print a backtrace and abort, which would take those
// signals from the Go runtime (it turns SIGSEGV into nil-pointer panics).
//
// # Buffers
//
// A non-blocking operation reads and writes its buffers after the call
// returns, which cgo forbids for Go memory, so Iallreduce takes Buffers:
// memory allocated with C's malloc and viewed from Go as a slice. Blocking
// calls take Go slices.
//
// # Errors
//
// Init sets MPI_ERRORS_RETURN on MPI_COMM_WORLD, so a failed call returns
// an error carrying MPI's own message (MPI_Error_string) instead of
// aborting the job.
//
// Layering: a leaf binding to the MPI library; it imports no package of the
// module.
package mpi
