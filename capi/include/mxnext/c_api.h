/* mxnext C ABI: the one public header. Every front end (Python, R, Julia, JavaScript) talks to
 * the library through these functions and nothing else.
 *
 * A worked example: create two arrays, add them, read the result back, handle an error.
 *
 *   #include <mxnext/c_api.h>
 *   #include <stdio.h>
 *
 *   int main(void) {
 *     if (mxn_abi_version() / 10000 != MXN_ABI_VERSION / 10000) return 1;  // major differs
 *     int64_t shape[2] = {2, 3};
 *     float ones[6] = {1, 1, 1, 1, 1, 1};
 *     mxn_ndarray *a = NULL, *b = NULL, *c = NULL;
 *     if (mxn_ndarray_from_data(shape, 2, MXN_DTYPE_FLOAT32, MXN_DEVICE_CPU, 0,
 *                               ones, sizeof(ones), &a) != MXN_OK) goto fail;
 *     if (mxn_ndarray_from_data(shape, 2, MXN_DTYPE_FLOAT32, MXN_DEVICE_CPU, 0,
 *                               ones, sizeof(ones), &b) != MXN_OK) goto fail;
 *
 *     const mxn_op* add = NULL;                       // operators are found by name
 *     if (mxn_op_find("broadcast_add", &add) != MXN_OK) goto fail;
 *     mxn_ndarray* inputs[2] = {a, b};
 *     int32_t n_out = 0;
 *     if (mxn_op_invoke(add, 2, inputs, 0, NULL, NULL, 1, &c, &n_out) != MXN_OK) goto fail;
 *
 *     float out[6];                                   // waits for the result, then copies
 *     if (mxn_ndarray_copy_to_host(c, out, sizeof(out)) != MXN_OK) goto fail;
 *     printf("%g\n", out[0]);                         // 2
 *
 *     const char* keys[1] = {"scalar"};               // parameters are typed values
 *     mxn_value vals[1] = {{.type = MXN_VALUE_FLOAT, .u.f = 0.5}};
 *     const mxn_op* plus = NULL;
 *     if (mxn_op_find("_plus_scalar", &plus) != MXN_OK) goto fail;
 *     mxn_ndarray* none = NULL;                       // 2 inputs where 1 is expected:
 *     if (mxn_op_invoke(plus, 2, inputs, 1, keys, vals, 1, &none, &n_out) != MXN_OK) {
 *       mxn_error_info err = {.struct_size = sizeof(mxn_error_info)};
 *       mxn_last_error(&err);                        // code, kind, message, op, arg, axis
 *       printf("%s: %s\n", err.kind, err.message);    // InvalidArgument: _plus_scalar: ...
 *     }
 *     mxn_ndarray_free(none);                         // NULL: nothing was written
 *     mxn_ndarray_free(c); mxn_ndarray_free(b); mxn_ndarray_free(a);
 *     return 0;
 *   fail:
 *     fprintf(stderr, "%s\n", mxn_last_error_message());
 *     mxn_ndarray_free(c); mxn_ndarray_free(b); mxn_ndarray_free(a);
 *     return 1;
 *   }
 *
 * Rules that hold for every function (DESIGN §3):
 * - Fallible calls return int: MXN_OK (0) or an MXN_ERR_* code. Details of the last failure on
 *   the calling thread are in mxn_last_error(). On failure, out-parameters are left untouched
 *   and nothing is leaked.
 * - Handles are opaque. Every handle type has one mxn_<type>_free that accepts NULL.
 * - Operations are asynchronous: mxn_op_invoke returns once the work is queued. Reading data
 *   (copy_to_host, wait_to_read, mxn_wait_all) waits; errors of queued work surface there.
 * - Structs the caller fills begin with their size (struct_size), so they can grow.
 * - Ownership is stated on each function. "Borrowed" pointers stay valid for the stated time.
 */
#ifndef MXNEXT_C_API_H_
#define MXNEXT_C_API_H_

#include <stddef.h>
#include <stdint.h>

#include "mxnext/dlpack.h"

#if defined(_WIN32)
#define MXN_API __declspec(dllexport)
#else
#define MXN_API __attribute__((visibility("default")))
#endif
#ifdef __cplusplus
extern "C" {
#endif

/* ABI version: major * 10000 + minor. A front end refuses a library whose major differs.
 * Minor versions only append (functions, enum values, struct fields at the end). */
enum { MXN_ABI_VERSION = 10000 };

/* ---------------------------------------------------------------------------------------- */
/* Status codes                                                                              */

typedef enum mxn_status {
  MXN_OK = 0,
  MXN_ERR_INVALID_ARG = 1,     /* a bad value, a NULL or wrong handle, an unknown name */
  MXN_ERR_SHAPE = 2,           /* shapes that do not fit together */
  MXN_ERR_DTYPE = 3,           /* dtypes that do not fit together, an unknown dtype */
  MXN_ERR_OOM = 4,             /* out of memory; the message names bytes and device */
  MXN_ERR_IO = 5,              /* a file could not be read or written */
  MXN_ERR_FORMAT = 6,          /* bytes that are not the format they claim */
  MXN_ERR_DEVICE = 7,          /* a device that does not exist or is not built in */
  MXN_ERR_NOT_IMPLEMENTED = 8, /* a valid request this build cannot do */
  MXN_ERR_PEER_LOST = 9,       /* a distributed peer died */
  MXN_ERR_TIMEOUT = 10,        /* a wait ran past its limit */
  MXN_ERR_INTERRUPTED = 11,    /* stopped on request */
  MXN_ERR_INTERNAL = 12        /* a bug in mxnext: please report it */
} mxn_status;

/* Marks an integer error field that does not apply. */
enum { MXN_NO_FIELD = (-2147483647 - 1) };

/* Details of the last failed call on the calling thread. */
typedef struct mxn_error_info {
  uint32_t struct_size; /* caller sets: sizeof(mxn_error_info) */
  int32_t code;         /* an mxn_status */
  int32_t arg_index;    /* 0-based index of the offending input/argument, or MXN_NO_FIELD */
  int32_t axis;         /* the offending axis as given, or MXN_NO_FIELD */
  const char* kind;     /* "ShapeError", "InvalidArgument", ... */
  const char* message;  /* full text, naming the operator, the argument and the shapes */
  const char* op_name;  /* operator name, or "" */
} mxn_error_info;

/* Fills *info with the last failure on this thread (code MXN_OK if there was none).
 * The strings are borrowed: valid until the next failing mxn_* call on this thread.
 * Returns MXN_ERR_INVALID_ARG if info is NULL or info->struct_size is too small. */
MXN_API int mxn_last_error(mxn_error_info* info);
/* The last failure's message ("" if none); borrowed like the fields above. Never fails. */
MXN_API const char* mxn_last_error_message(void);
/* Forgets the last failure on this thread. */
MXN_API void mxn_clear_error(void);

/* ---------------------------------------------------------------------------------------- */
/* Library                                                                                    */

/* The ABI version of the loaded library (compare with MXN_ABI_VERSION). Never fails. */
MXN_API uint32_t mxn_abi_version(void);
/* "major.minor.patch" of the library; a static string. Never fails. */
MXN_API const char* mxn_version_string(void);

/* ---------------------------------------------------------------------------------------- */
/* Element types and devices (numbered as Apache MXNet numbers them)                         */

typedef enum mxn_dtype {
  MXN_DTYPE_FLOAT32 = 0,
  MXN_DTYPE_FLOAT64 = 1,
  MXN_DTYPE_FLOAT16 = 2,
  MXN_DTYPE_UINT8 = 3,
  MXN_DTYPE_INT32 = 4,
  MXN_DTYPE_INT8 = 5,
  MXN_DTYPE_INT64 = 6,
  MXN_DTYPE_BOOL = 7
} mxn_dtype;

typedef enum mxn_device_type {
  MXN_DEVICE_CPU = 1,
  MXN_DEVICE_GPU = 2,
  MXN_DEVICE_CPU_PINNED = 3
} mxn_device_type;

/* Number of devices of a type: 1 CPU device per id asked for, 0 GPUs without CUDA. */
MXN_API int mxn_device_count(int32_t device_type, int32_t* out);

/* ---------------------------------------------------------------------------------------- */
/* Typed values: how operator parameters cross the boundary (never as strings)              */

typedef enum mxn_value_type {
  MXN_VALUE_NONE = 0,   /* None / not given */
  MXN_VALUE_INT = 1,    /* u.i */
  MXN_VALUE_FLOAT = 2,  /* u.f */
  MXN_VALUE_BOOL = 3,   /* u.i (0 or 1) */
  MXN_VALUE_STRING = 4, /* u.s, NUL-terminated; enumerations such as act_type */
  MXN_VALUE_SHAPE = 5,  /* u.dims with len entries: tuples of ints (shape, axes, kernel) */
  MXN_VALUE_DTYPE = 6,  /* u.i, an mxn_dtype */
  MXN_VALUE_DEVICE = 7  /* u.i = device type, len = device id */
} mxn_value_type;

/* 16 bytes: a tag, a length, and an 8-byte payload. Pointers are borrowed for the call. */
typedef struct mxn_value {
  int32_t type; /* an mxn_value_type */
  int32_t len;  /* SHAPE: number of dims; DEVICE: device id; otherwise 0 */
  union {
    int64_t i;
    double f;
    const char* s;
    const int64_t* dims;
  } u;
} mxn_value;

/* ---------------------------------------------------------------------------------------- */
/* NDArray                                                                                    */

typedef struct mxn_ndarray mxn_ndarray;

/* Creates an array of the given shape (ndim 0..16, dims >= 0), dtype and device with
 * unspecified contents. *out is owned by the caller: release it with mxn_ndarray_free. */
MXN_API int mxn_ndarray_create(const int64_t* dims, int32_t ndim, int32_t dtype,
                               int32_t device_type, int32_t device_id, mxn_ndarray** out);
/* Like mxn_ndarray_create, then copies nbytes (must equal the array's byte size) from data,
 * which is borrowed for the call. */
MXN_API int mxn_ndarray_from_data(const int64_t* dims, int32_t ndim, int32_t dtype,
                                  int32_t device_type, int32_t device_id, const void* data,
                                  size_t nbytes, mxn_ndarray** out);
/* Releases the handle. Storage is freed when no handle, view or queued operation uses it.
 * Accepts NULL. */
MXN_API void mxn_ndarray_free(mxn_ndarray* array);

/* Shape: *ndim and a borrowed pointer to the dims, valid until the handle is freed. */
MXN_API int mxn_ndarray_shape(const mxn_ndarray* array, int32_t* ndim, const int64_t** dims);
MXN_API int mxn_ndarray_dtype(const mxn_ndarray* array, int32_t* out);
MXN_API int mxn_ndarray_device(const mxn_ndarray* array, int32_t* device_type,
                               int32_t* device_id);
/* Number of elements (1 for 0-d arrays). */
MXN_API int mxn_ndarray_size(const mxn_ndarray* array, int64_t* out);
/* Borrowed pointer to the first element. Does not wait: call mxn_ndarray_wait_to_read (or
 * wait_to_write before writing) first. Valid while the storage lives. */
MXN_API int mxn_ndarray_data(const mxn_ndarray* array, void** out);

/* Copies the whole array into dst (nbytes must equal its byte size), waiting for pending
 * writes first. */
MXN_API int mxn_ndarray_copy_to_host(const mxn_ndarray* array, void* dst, size_t nbytes);
/* Overwrites the whole array from src (nbytes must equal its byte size), ordered after
 * pending operations on it; returns when done. */
MXN_API int mxn_ndarray_copy_from_host(mxn_ndarray* array, const void* src, size_t nbytes);
/* Queues an element-wise copy (same shape; converts dtype) from src into dst. */
MXN_API int mxn_ndarray_copy_to(const mxn_ndarray* src, mxn_ndarray* dst);

/* Views that share storage with the array; *out is owned by the caller. */
/* Rows [begin, end) of the first axis. */
MXN_API int mxn_ndarray_slice(const mxn_ndarray* array, int64_t begin, int64_t end,
                              mxn_ndarray** out);
/* Row `index` of the first axis (negative counts from the end), with that axis dropped. */
MXN_API int mxn_ndarray_at(const mxn_ndarray* array, int64_t index, mxn_ndarray** out);
/* Same elements, new shape. dims may use MXNet's reshape codes (0 copy, -1 infer, -2 copy the
 * rest, -3 merge two, -4 split one); reverse applies them from the right. */
MXN_API int mxn_ndarray_reshape(const mxn_ndarray* array, const int64_t* dims, int32_t ndim,
                                int32_t reverse, mxn_ndarray** out);

/* Waits until pending writes to the array completed (to_write: and pending reads). A failure
 * of that work is returned here with its original message. */
MXN_API int mxn_ndarray_wait_to_read(const mxn_ndarray* array);
MXN_API int mxn_ndarray_wait_to_write(mxn_ndarray* array);
/* Waits for all queued work; returns the first failure not already reported. */
MXN_API int mxn_wait_all(void);

/* ---------------------------------------------------------------------------------------- */
/* DLPack (versioned, 1.x) zero-copy exchange                                                */

/* Exports the array without copying. *out is owned by the caller, who must call its deleter
 * exactly once; the storage stays alive until then. Waits for pending writes first. */
MXN_API int mxn_ndarray_to_dlpack(const mxn_ndarray* array, DLManagedTensorVersioned** out);
/* The same as a pre-1.0 DLManagedTensor, for consumers that ask for the old ABI. */
MXN_API int mxn_ndarray_to_dlpack_legacy(const mxn_ndarray* array, DLManagedTensor** out);
/* Imports a tensor. On success mxnext owns `tensor` and calls its deleter when the storage
 * is released; on failure the caller still owns it. Compact row-major tensors are shared;
 * other strides, and READ_ONLY tensors, are copied (then the deleter runs before return). */
MXN_API int mxn_ndarray_from_dlpack(DLManagedTensorVersioned* tensor, mxn_ndarray** out);
MXN_API int mxn_ndarray_from_dlpack_legacy(DLManagedTensor* tensor, mxn_ndarray** out);

/* ---------------------------------------------------------------------------------------- */
/* Operators                                                                                  */

typedef struct mxn_op mxn_op;

/* The registry as JSON: every operator with inputs, typed parameters (defaults, choices,
 * docs), outputs. A static string, valid for the life of the process. Never fails. */
MXN_API const char* mxn_op_schema_json(void);
/* Number of registered operators and the i-th one (sorted by name). Op handles belong to the
 * library and stay valid for the life of the process (no free). */
MXN_API int mxn_op_count(int32_t* out);
MXN_API int mxn_op_at(int32_t index, const mxn_op** out);
/* Looks an operator up by MXNet name or alias. */
MXN_API int mxn_op_find(const char* name, const mxn_op** out);
/* The operator's canonical name; a static string. */
MXN_API int mxn_op_name(const mxn_op* op, const char** out);

/* Runs an operator on inputs (borrowed) with typed parameters (keys and values borrowed).
 * Creates its outputs: up to max_outputs handles are written to outputs (owned by the
 * caller) and their number to *num_outputs. Returns once the work is queued. */
MXN_API int mxn_op_invoke(const mxn_op* op, int32_t num_inputs, mxn_ndarray* const* inputs,
                          int32_t num_params, const char* const* keys, const mxn_value* values,
                          int32_t max_outputs, mxn_ndarray** outputs, int32_t* num_outputs);
/* The same, writing into existing arrays (MXNet's out=): their shapes and dtypes must match. */
MXN_API int mxn_op_invoke_into(const mxn_op* op, int32_t num_inputs, mxn_ndarray* const* inputs,
                               int32_t num_params, const char* const* keys,
                               const mxn_value* values, int32_t num_outputs,
                               mxn_ndarray* const* outputs);

/* ---------------------------------------------------------------------------------------- */
/* Randomness, engine, memory                                                                 */

/* Seeds the counter-based generator: the same seed gives the same numbers on any number of
 * threads. */
MXN_API int mxn_random_seed(uint64_t seed);

/* The engine in use ("threaded" or "naive") and its worker count; a static string. */
MXN_API int mxn_engine_info(const char** name, int32_t* num_workers);

typedef struct mxn_memory_stats {
  uint32_t struct_size;  /* caller sets: sizeof(mxn_memory_stats) */
  uint32_t reserved;
  int64_t live_bytes;    /* in use by arrays */
  int64_t peak_bytes;    /* highest live_bytes */
  int64_t cached_bytes;  /* freed, kept in the pool for reuse */
  int64_t alloc_count;   /* allocations served */
  int64_t limit_bytes;   /* 0 = no limit */
} mxn_memory_stats;

/* Allocator statistics of a device. */
MXN_API int mxn_memory_stats_get(int32_t device_type, int32_t device_id, mxn_memory_stats* out);
/* Returns cached blocks of the device's pool to the system. */
MXN_API int mxn_memory_release_cached(int32_t device_type, int32_t device_id);
/* Caps live + cached bytes of the device's pool (0 = none); beyond it allocations fail with
 * MXN_ERR_OOM. Also set by MXNEXT_CPU_MEMORY_LIMIT. */
MXN_API int mxn_memory_set_limit(int32_t device_type, int32_t device_id, int64_t limit_bytes);

/* ---------------------------------------------------------------------------------------- */
/* New sections are inserted above this line, one per handle family.                        */

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MXNEXT_C_API_H_ */
