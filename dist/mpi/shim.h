// The C side of package mpi: Open MPI's libmpi.so.40 opened with dlopen
// and its entry points and predefined handles looked up with dlsym, so
// that nothing links against MPI at build time.
#ifndef SARGO_MPI_SHIM_H
#define SARGO_MPI_SHIM_H

#include <stddef.h>

// Open MPI's handles (MPI_Comm, MPI_Datatype, MPI_Op, MPI_Request,
// MPI_Errhandler) are pointers to its internal structures; the predefined
// ones (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, ...) are the addresses of
// exported globals (mpi.h: OMPI_PREDEFINED_GLOBAL).
typedef void *sm_handle;

// The datatypes and operations the Go side names by index.
enum { SM_FLOAT = 0, SM_DOUBLE = 1, SM_BYTE = 2 };
enum { SM_SUM = 0, SM_MAX = 1 };

// sm_load opens lib and resolves every symbol; it returns 0, or -1 with
// a message in err.
int sm_load(const char *lib, char *err, int errlen);

int sm_init_thread(int required, int *provided);
int sm_initialized(int *flag);
int sm_finalized(int *flag);
int sm_world_rank(int *rank);
int sm_world_size(int *size);
int sm_errors_return(void);
int sm_allreduce(const void *send, void *recv, int count, int dtype, int op);
int sm_iallreduce(const void *send, void *recv, int count, int dtype, int op, sm_handle *req);
int sm_test(sm_handle *req, int *done);
int sm_wait(sm_handle *req);
int sm_bcast(void *buf, int count, int dtype, int root);
int sm_barrier(void);
int sm_abort(int code);
int sm_finalize(void);
void sm_error_string(int code, char *buf, int len);
int sm_library_version(char *buf, int len);

// sm_in_place is MPI_IN_PLACE.
void *sm_in_place(void);

#endif
