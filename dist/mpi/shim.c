#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "shim.h"

// Open MPI's values of the constants used here (mpi.h of Open MPI 4.x and
// 5.x, both libmpi.so.40).
#define OMPI_SUCCESS 0
#define OMPI_MAX_ERROR_STRING 256
#define OMPI_MAX_LIBRARY_VERSION_STRING 256
#define OMPI_IN_PLACE ((void *)1)
#define OMPI_STATUS_IGNORE ((void *)0)

static void *lib;

static int (*p_init_thread)(int *, char ***, int, int *);
static int (*p_initialized)(int *);
static int (*p_finalized)(int *);
static int (*p_comm_rank)(sm_handle, int *);
static int (*p_comm_size)(sm_handle, int *);
static int (*p_comm_set_errhandler)(sm_handle, sm_handle);
static int (*p_allreduce)(const void *, void *, int, sm_handle, sm_handle, sm_handle);
static int (*p_iallreduce)(const void *, void *, int, sm_handle, sm_handle, sm_handle, sm_handle *);
static int (*p_test)(sm_handle *, int *, void *);
static int (*p_wait)(sm_handle *, void *);
static int (*p_bcast)(void *, int, sm_handle, int, sm_handle);
static int (*p_barrier)(sm_handle);
static int (*p_abort)(sm_handle, int);
static int (*p_finalize)(void);
static int (*p_error_string)(int, char *, int *);
static int (*p_get_library_version)(char *, int *);

static sm_handle comm_world, errors_return;
static sm_handle dtypes[3];
static sm_handle ops[2];

static int resolve(void **dst, const char *name, char *err, int errlen) {
  *dst = dlsym(lib, name);
  if (*dst == NULL) {
    snprintf(err, errlen, "symbol %s not found", name);
    return -1;
  }
  return 0;
}

int sm_load(const char *name, char *err, int errlen) {
  if (lib != NULL) {
    return 0;
  }
  // RTLD_GLOBAL: Open MPI's components are plugins that it opens itself
  // and that resolve libmpi's symbols through the global namespace.
  void *h = dlopen(name, RTLD_NOW | RTLD_GLOBAL);
  if (h == NULL) {
    const char *e = dlerror();
    snprintf(err, errlen, "%s", e ? e : "dlopen failed");
    return -1;
  }
  lib = h;
  struct {
    void **dst;
    const char *name;
  } syms[] = {
      {(void **)&p_init_thread, "MPI_Init_thread"},
      {(void **)&p_initialized, "MPI_Initialized"},
      {(void **)&p_finalized, "MPI_Finalized"},
      {(void **)&p_comm_rank, "MPI_Comm_rank"},
      {(void **)&p_comm_size, "MPI_Comm_size"},
      {(void **)&p_comm_set_errhandler, "MPI_Comm_set_errhandler"},
      {(void **)&p_allreduce, "MPI_Allreduce"},
      {(void **)&p_iallreduce, "MPI_Iallreduce"},
      {(void **)&p_test, "MPI_Test"},
      {(void **)&p_wait, "MPI_Wait"},
      {(void **)&p_bcast, "MPI_Bcast"},
      {(void **)&p_barrier, "MPI_Barrier"},
      {(void **)&p_abort, "MPI_Abort"},
      {(void **)&p_finalize, "MPI_Finalize"},
      {(void **)&p_error_string, "MPI_Error_string"},
      {(void **)&p_get_library_version, "MPI_Get_library_version"},
      {&comm_world, "ompi_mpi_comm_world"},
      {&errors_return, "ompi_mpi_errors_return"},
      {&dtypes[SM_FLOAT], "ompi_mpi_float"},
      {&dtypes[SM_DOUBLE], "ompi_mpi_double"},
      {&dtypes[SM_BYTE], "ompi_mpi_byte"},
      {&ops[SM_SUM], "ompi_mpi_op_sum"},
      {&ops[SM_MAX], "ompi_mpi_op_max"},
  };
  for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
    if (resolve(syms[i].dst, syms[i].name, err, errlen) != 0) {
      dlclose(h);
      lib = NULL;
      return -1;
    }
  }
  return 0;
}

int sm_init_thread(int required, int *provided) { return p_init_thread(NULL, NULL, required, provided); }
int sm_initialized(int *flag) { return p_initialized(flag); }
int sm_finalized(int *flag) { return p_finalized(flag); }
int sm_world_rank(int *rank) { return p_comm_rank(comm_world, rank); }
int sm_world_size(int *size) { return p_comm_size(comm_world, size); }
int sm_errors_return(void) { return p_comm_set_errhandler(comm_world, errors_return); }

int sm_allreduce(const void *send, void *recv, int count, int dtype, int op) {
  return p_allreduce(send, recv, count, dtypes[dtype], ops[op], comm_world);
}

int sm_iallreduce(const void *send, void *recv, int count, int dtype, int op, sm_handle *req) {
  return p_iallreduce(send, recv, count, dtypes[dtype], ops[op], comm_world, req);
}

int sm_test(sm_handle *req, int *done) { return p_test(req, done, OMPI_STATUS_IGNORE); }
int sm_wait(sm_handle *req) { return p_wait(req, OMPI_STATUS_IGNORE); }
int sm_bcast(void *buf, int count, int dtype, int root) { return p_bcast(buf, count, dtypes[dtype], root, comm_world); }
int sm_barrier(void) { return p_barrier(comm_world); }
int sm_abort(int code) { return p_abort(comm_world, code); }
int sm_finalize(void) { return p_finalize(); }

void sm_error_string(int code, char *buf, int len) {
  int n = 0;
  if (len < OMPI_MAX_ERROR_STRING || p_error_string == NULL || p_error_string(code, buf, &n) != OMPI_SUCCESS) {
    snprintf(buf, len, "MPI error %d", code);
  }
}

int sm_library_version(char *buf, int len) {
  int n = 0;
  if (len < OMPI_MAX_LIBRARY_VERSION_STRING) {
    return -1;
  }
  return p_get_library_version(buf, &n);
}

void *sm_in_place(void) { return OMPI_IN_PLACE; }
