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
enum { MXN_ABI_VERSION = 10006 };

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
/* Autograd (imperative differentiation)                                                     */

/* Turns recording (of operator calls on arrays that need a gradient) on or off for the calling
 * thread; *previous (may be NULL) receives the old setting. */
MXN_API int mxn_autograd_set_recording(int32_t recording, int32_t* previous);
/* Turns training mode (Dropout drops, BatchNorm uses batch statistics) on or off for the
 * calling thread; *previous (may be NULL) receives the old setting. */
MXN_API int mxn_autograd_set_training(int32_t training, int32_t* previous);
MXN_API int mxn_autograd_is_recording(int32_t* out);
MXN_API int mxn_autograd_is_training(int32_t* out);

/* Marks arrays as variables. grad_reqs[i]: 0 null, 1 write, 3 add (MXNet's numbering);
 * grads[i] (borrowed, same shape and dtype as variables[i]) receives the gradient. */
MXN_API int mxn_autograd_mark_variables(int32_t num, mxn_ndarray* const* variables,
                                        const int32_t* grad_reqs, mxn_ndarray* const* grads);
/* The gradient buffer of a marked variable (a new handle owned by the caller), or *out = NULL
 * when the array is not a variable. */
MXN_API int mxn_ndarray_get_grad(const mxn_ndarray* array, mxn_ndarray** out);
/* A new handle on the same storage that autograd does not track (owned by the caller). */
MXN_API int mxn_ndarray_detach(const mxn_ndarray* array, mxn_ndarray** out);

/* Differentiates the heads (recorded arrays). head_grads may be NULL, or hold NULL entries,
 * for gradients of ones. With num_variables == 0, writes into every marked variable's gradient
 * reachable from the heads (by its grad_req). Otherwise writes nothing and returns the
 * gradients of variables[i] as new handles in grads_out[i] (owned by the caller). Without
 * retain_graph the recorded values are released. */
MXN_API int mxn_autograd_backward(int32_t num_heads, mxn_ndarray* const* heads,
                                  mxn_ndarray* const* head_grads, int32_t num_variables,
                                  mxn_ndarray* const* variables, int32_t retain_graph,
                                  int32_t train_mode, mxn_ndarray** grads_out);

/* ---------------------------------------------------------------------------------------- */
/* RecordIO (.rec files, byte-compatible with Apache MXNet) and image codecs                 */

typedef struct mxn_recordio mxn_recordio;

/* Opens a RecordIO file: mode "r" reads, "w" creates or truncates it for writing. *out is
 * owned by the caller: release it with mxn_recordio_free. A missing file is MXN_ERR_IO. */
MXN_API int mxn_recordio_open(const char* path, const char* mode, mxn_recordio** out);
/* Opens part part_index of num_parts of a file for reading: the records that start in the
 * part's byte range (boundaries found by scanning for the record magic, as MXNet splits). */
MXN_API int mxn_recordio_open_part(const char* path, int32_t num_parts, int32_t part_index,
                                   mxn_recordio** out);
/* Flushes and closes (a failed flush is MXN_ERR_IO); the handle stays valid until freed and
 * refuses further reads and writes. Closing twice is allowed. */
MXN_API int mxn_recordio_close(mxn_recordio* rec);
/* Closes (ignoring errors) and releases the handle. Accepts NULL. */
MXN_API void mxn_recordio_free(mxn_recordio* rec);
/* Appends one record of size bytes (borrowed for the call; size < 2^29). */
MXN_API int mxn_recordio_write(mxn_recordio* rec, const void* data, size_t size);
/* Reads the next record. *has_record = 0 at the end (then *data and *size are untouched),
 * else 1 with *data borrowed (valid until the next read, seek, reset or free of this handle)
 * and *size its length. A corrupt record is MXN_ERR_FORMAT naming the file and offset. */
MXN_API int mxn_recordio_read(mxn_recordio* rec, const void** data, size_t* size,
                              int32_t* has_record);
/* The byte offset of the next record to be read or written (what .idx files store). */
MXN_API int mxn_recordio_tell(const mxn_recordio* rec, int64_t* out);
/* Read mode: continues reading at a byte offset (a record start, as from tell or an .idx). */
MXN_API int mxn_recordio_seek(mxn_recordio* rec, int64_t offset);
/* Read mode: back to the first record (of the part). */
MXN_API int mxn_recordio_reset(mxn_recordio* rec);

/* Decodes a JPEG or PNG image (data borrowed for the call) into a new uint8 array of shape
 * (height, width, channels), RGB; channels: 3, 1 (gray) or 0 (as stored). *out is owned by
 * the caller. Corrupt data is MXN_ERR_FORMAT. */
MXN_API int mxn_image_decode(const void* data, size_t size, int32_t channels,
                             mxn_ndarray** out);
/* Encodes a uint8 (height, width, channels) RGB or (height, width) gray array as "jpeg"
 * (quality 1..100) or "png" (quality = compression 0..9) into a new 1-d uint8 array of the
 * encoded bytes, owned by the caller. */
MXN_API int mxn_image_encode(const mxn_ndarray* image, const char* format, int32_t quality,
                             mxn_ndarray** out);

/* ---------------------------------------------------------------------------------------- */
/* Data iterators (created by name with typed parameters, like operators)                    */

typedef struct mxn_dataiter mxn_dataiter;

/* Every iterator with its typed parameters (defaults, docs) as JSON, for the generators of
 * every front end. A static string, valid for the life of the process. Never fails. */
MXN_API const char* mxn_dataiter_schema_json(void);
/* Creates an iterator ("ImageRecordIter", "ImageRecordUInt8Iter", "MNISTIter", "CSVIter")
 * with typed parameters (keys and values borrowed for the call). Worker threads start
 * prefetching at once. *out is owned by the caller: release it with mxn_dataiter_free. */
MXN_API int mxn_dataiter_create(const char* name, int32_t num_params, const char* const* keys,
                                const mxn_value* values, mxn_dataiter** out);
/* Stops the iterator's threads and releases it. Arrays of earlier batches stay valid.
 * Accepts NULL. */
MXN_API void mxn_dataiter_free(mxn_dataiter* iter);
/* Advances to the next batch: *has_batch = 1, or 0 at the end of the epoch. Errors of the
 * worker threads surface here (MXN_ERR_FORMAT for a corrupt record, MXN_ERR_IO for a failed
 * read, the message naming the file and the record); the iterator stays usable. */
MXN_API int mxn_dataiter_next(mxn_dataiter* iter, int32_t* has_batch);
/* Starts the next epoch. */
MXN_API int mxn_dataiter_reset(mxn_dataiter* iter);
/* The current batch's data, label and index (int64 record ids) as new handles owned by the
 * caller; every batch has fresh arrays. MXN_ERR_INVALID_ARG when there is no current batch. */
MXN_API int mxn_dataiter_data(const mxn_dataiter* iter, mxn_ndarray** out);
MXN_API int mxn_dataiter_label(const mxn_dataiter* iter, mxn_ndarray** out);
MXN_API int mxn_dataiter_index(const mxn_dataiter* iter, mxn_ndarray** out);
/* Trailing samples of the current batch that are padding. */
MXN_API int mxn_dataiter_pad(const mxn_dataiter* iter, int32_t* out);
/* Shape and dtype of every batch's data (which = 0) or label (which = 1), known before the
 * first batch; *dims is borrowed until the iterator is freed. */
MXN_API int mxn_dataiter_batch_shape(const mxn_dataiter* iter, int32_t which, int32_t* ndim,
                                     const int64_t** dims, int32_t* dtype);

/* ---------------------------------------------------------------------------------------- */
/* String lists (names, JSON) returned by the library                                        */

typedef struct mxn_strings mxn_strings;

/* Number of strings in the list. */
MXN_API int mxn_strings_size(const mxn_strings* list, int32_t* out);
/* The i-th string, borrowed: valid until the list is freed. */
MXN_API int mxn_strings_get(const mxn_strings* list, int32_t index, const char** out);
/* Releases the list. Accepts NULL. */
MXN_API void mxn_strings_free(mxn_strings* list);

/* ---------------------------------------------------------------------------------------- */
/* Symbol (declarative graphs, MXNet's symbol JSON)                                          */

typedef struct mxn_symbol mxn_symbol;

typedef enum mxn_symbol_list_kind {
  MXN_LIST_ARGUMENTS = 0, /* variables that are not auxiliary states */
  MXN_LIST_OUTPUTS = 1,   /* "fc1_output", ... */
  MXN_LIST_AUX_STATES = 2,
  MXN_LIST_INPUTS = 3     /* all variables */
} mxn_symbol_list_kind;

/* A variable named `name`. *out is owned by the caller (mxn_symbol_free). */
MXN_API int mxn_symbol_variable(const char* name, mxn_symbol** out);
/* Applies an operator: typed parameters as for mxn_op_invoke; name NULL or "" for an
 * automatic name ("fullyconnected0"); args (borrowed, single-output symbols) fill the inputs
 * by position, or by the names in arg_names (NULL, or "" entries, for positional); missing
 * inputs become variables "<name>_<input>"; attrs are user attributes (key/value strings). */
MXN_API int mxn_symbol_compose(const mxn_op* op, int32_t num_params, const char* const* keys,
                               const mxn_value* values, const char* name, int32_t num_args,
                               mxn_symbol* const* args, const char* const* arg_names,
                               int32_t num_attrs, const char* const* attr_keys,
                               const char* const* attr_values, mxn_symbol** out);
/* The outputs of several symbols as one symbol. */
MXN_API int mxn_symbol_group(int32_t num, mxn_symbol* const* symbols, mxn_symbol** out);
/* Releases the handle (the graph lives while any symbol uses it). Accepts NULL. */
MXN_API void mxn_symbol_free(mxn_symbol* symbol);
MXN_API int mxn_symbol_num_outputs(const mxn_symbol* symbol, int32_t* out);
/* The index-th output as a symbol. */
MXN_API int mxn_symbol_output(const mxn_symbol* symbol, int32_t index, mxn_symbol** out);
/* Every output of every node (MXNet's get_internals). */
MXN_API int mxn_symbol_internals(const mxn_symbol* symbol, mxn_symbol** out);
/* The inputs of the head node(s); *out = NULL for a variable. */
MXN_API int mxn_symbol_children(const mxn_symbol* symbol, mxn_symbol** out);
/* Names of the arguments, outputs, auxiliary states or inputs (mxn_symbol_list_kind). */
MXN_API int mxn_symbol_list(const mxn_symbol* symbol, int32_t kind, mxn_strings** out);
/* The head node's name ("" for a group); borrowed: valid while the symbol lives. */
MXN_API int mxn_symbol_name(const mxn_symbol* symbol, const char** out);
/* A user attribute of the head node: *found = 0 when it has none. The value is copied into a
 * one-string list owned by the caller (*out NULL when not found). */
MXN_API int mxn_symbol_get_attr(const mxn_symbol* symbol, const char* key, int32_t* found,
                                mxn_strings** out);
/* Sets a user attribute on the head node (every head of a group). */
MXN_API int mxn_symbol_set_attr(mxn_symbol* symbol, const char* key, const char* value);
/* Attributes as a flat key, value, key, value ... list: the head node's (recursive = 0) or
 * every node's with keys "<node>$<key>" (recursive = 1). */
MXN_API int mxn_symbol_list_attr(const mxn_symbol* symbol, int32_t recursive, mxn_strings** out);
/* MXNet's symbol JSON, as a one-string list owned by the caller. */
MXN_API int mxn_symbol_to_json(const mxn_symbol* symbol, mxn_strings** out);
/* Reads MXNet's symbol JSON (any 1.x version). */
MXN_API int mxn_symbol_from_json(const char* json, mxn_symbol** out);

typedef struct mxn_shapes mxn_shapes;

/* Shape inference from the shapes of some arguments (names[i], ndims[i] dims read in turn
 * from the concatenated `dims`). Fills three lists owned by the caller: argument, output and
 * auxiliary-state shapes in list order. With partial = 0, an unknown result is MXN_ERR_SHAPE
 * naming it; with partial = 1 unknown shapes have ndim -1. */
MXN_API int mxn_symbol_infer_shape(const mxn_symbol* symbol, int32_t num_known,
                                   const char* const* names, const int32_t* ndims,
                                   const int64_t* dims, int32_t partial, mxn_shapes** args,
                                   mxn_shapes** outputs, mxn_shapes** aux);
MXN_API int mxn_shapes_size(const mxn_shapes* list, int32_t* out);
/* The index-th shape: ndim (-1: unknown) and a borrowed pointer to its dims, valid until the
 * list is freed. */
MXN_API int mxn_shapes_get(const mxn_shapes* list, int32_t index, int32_t* ndim,
                           const int64_t** dims);
MXN_API void mxn_shapes_free(mxn_shapes* list);
/* Dtype inference from the dtypes of some arguments; unknown ones take the first given dtype
 * (float32 if none). Writes up to `capacity` dtypes into each of arg_types, out_types and
 * aux_types and the counts into num_args, num_outputs and num_aux (MXN_ERR_INVALID_ARG, with
 * nothing written, if a list does not fit: size them with mxn_symbol_list). */
MXN_API int mxn_symbol_infer_type(const mxn_symbol* symbol, int32_t num_known,
                                  const char* const* names, const int32_t* dtypes,
                                  int32_t capacity, int32_t* arg_types, int32_t* num_args,
                                  int32_t* out_types, int32_t* num_outputs, int32_t* aux_types,
                                  int32_t* num_aux);

/* ---------------------------------------------------------------------------------------- */
/* NDArray files (Apache MXNet's mx.nd.save / .params format, byte-compatible)              */

/* Files hold a list of arrays, optionally named (a dict), written as MXNet 1.x writes them by
 * default (V2 records), or, when some array is 0-d, as it writes them with NumPy shape
 * semantics on (V3 records for every array; MXNet loads those inside np_shape(True)).
 * Loading also reads V1 and pre-V1 (legacy) records. Corrupt or truncated input is
 * MXN_ERR_FORMAT with a message naming the array and byte offset (nothing is allocated before
 * the bytes it needs are known to be there); sparse arrays and dtypes mxnext lacks are
 * MXN_ERR_NOT_IMPLEMENTED naming the array; a file that cannot be opened or written is
 * MXN_ERR_IO. Arrays load on the CPU whatever device they were saved from. */

typedef struct mxn_ndarray_list mxn_ndarray_list;

/* Saves num arrays (borrowed; waits for their pending writes, whose failures are returned
 * before anything is written) to path. names is NULL for a list, else num NUL-terminated
 * names (borrowed). The file is replaced atomically: written to a temporary file in the same
 * directory, synced, then renamed over path; on failure an existing file is left unchanged. */
MXN_API int mxn_ndarray_save(const char* path, int32_t num, mxn_ndarray* const* arrays,
                             const char* const* names);
/* The same bytes in memory: *out is a new 1-d uint8 array holding the file's bytes, owned by
 * the caller (mxn_ndarray_free). */
MXN_API int mxn_ndarray_save_to_buffer(int32_t num, mxn_ndarray* const* arrays,
                                       const char* const* names, mxn_ndarray** out);
/* Loads a file, or size bytes at data (borrowed for the call), into a new list owned by the
 * caller (mxn_ndarray_list_free). */
MXN_API int mxn_ndarray_load(const char* path, mxn_ndarray_list** out);
MXN_API int mxn_ndarray_load_from_buffer(const void* data, size_t size, mxn_ndarray_list** out);
/* Number of arrays and of names (0 for a list, else equal to the number of arrays). */
MXN_API int mxn_ndarray_list_size(const mxn_ndarray_list* list, int32_t* num_arrays,
                                  int32_t* num_names);
/* The index-th array as a new handle owned by the caller; it stays valid after the list is
 * freed. */
MXN_API int mxn_ndarray_list_get(const mxn_ndarray_list* list, int32_t index, mxn_ndarray** out);
/* The index-th name: *name borrowed, valid until the list is freed, NUL-terminated; *length
 * (length may be NULL) its byte length (names may hold NUL bytes). MXN_ERR_INVALID_ARG when
 * the list has no names. */
MXN_API int mxn_ndarray_list_name(const mxn_ndarray_list* list, int32_t index, const char** name,
                                  size_t* length);
/* Releases the list (arrays taken from it stay valid). Accepts NULL. */
MXN_API void mxn_ndarray_list_free(mxn_ndarray_list* list);

/* ---------------------------------------------------------------------------------------- */
/* Executor (a symbol bound to arrays)                                                      */

typedef struct mxn_executor mxn_executor;

/* Binds a symbol: args[i] (borrowed; the executor keeps references) for the i-th of
 * list_arguments, arg_grads[i] (NULL entries, or the whole array NULL, for no gradient) with
 * grad_reqs[i] (0 null, 1 write, 3 add; NULL: write wherever a gradient array is given), aux[i]
 * for the i-th auxiliary state. Shapes are checked by shape inference; the output arrays are
 * allocated here. *out is owned by the caller (mxn_executor_free). */
MXN_API int mxn_executor_bind(const mxn_symbol* symbol, int32_t num_args, mxn_ndarray* const* args,
                              mxn_ndarray* const* arg_grads, const int32_t* grad_reqs,
                              int32_t num_aux, mxn_ndarray* const* aux, mxn_executor** out);
MXN_API void mxn_executor_free(mxn_executor* executor);
/* Runs the graph (queued on the engine; read the outputs to wait). Training mode updates
 * auxiliary states (BatchNorm) and keeps what backward needs. */
MXN_API int mxn_executor_forward(mxn_executor* executor, int32_t is_train);
/* Gradients into the bound gradient arrays; head_grads (num_head_grads == 0 for ones) has one
 * array per output. Needs a forward with is_train = 1 first. */
MXN_API int mxn_executor_backward(mxn_executor* executor, int32_t num_head_grads,
                                  mxn_ndarray* const* head_grads);
MXN_API int mxn_executor_num_outputs(const mxn_executor* executor, int32_t* out);
/* A new handle (owned by the caller) on the index-th output array; the same storage after
 * every forward. */
MXN_API int mxn_executor_output(const mxn_executor* executor, int32_t index, mxn_ndarray** out);
/* The memory plan as JSON (a one-string list owned by the caller): storage blocks with the
 * values sharing each (in place or co-shared), bytes saved by each, argument, gradient,
 * auxiliary-state and output bytes, and the peak. MXNEXT_MEMORY_PLAN=0 at bind turns planning
 * off (every value its own block) for comparison. */
MXN_API int mxn_executor_memory_report(const mxn_executor* executor, mxn_strings** out);

/* ---------------------------------------------------------------------------------------- */
/* Training: optimizers, learning-rate schedulers, initializers, metrics (Apache MXNet 1.x's  */
/* rules, written once in the core for every front end)                                      */

typedef struct mxn_optimizer mxn_optimizer;
typedef struct mxn_lr_scheduler mxn_lr_scheduler;
typedef struct mxn_initializer mxn_initializer;
typedef struct mxn_metric mxn_metric;

/* Every optimizer, learning-rate scheduler, initializer and metric with its typed parameters
 * as JSON, for the generators of every front end: {"schema_version":1, "optimizer":[...],
 * "lr_scheduler":[...], "initializer":[...], "metric":[...]}, each entry {name, aliases, doc,
 * params:[{name, type, type_code, required, nullable, default, choices, doc}]}. Names are
 * matched case-insensitively, aliases too (MXNet's "SGD", "acc", "ce", ...). A static string,
 * valid for the life of the process. Never fails. */
MXN_API const char* mxn_train_schema_json(void);

/* Learning-rate schedulers ("factor", "multifactor", "poly", "cosine") with typed parameters
 * (keys and values borrowed for the call). *out is owned by the caller (mxn_lr_scheduler_free);
 * an optimizer given the scheduler shares it. */
MXN_API int mxn_lr_scheduler_create(const char* name, int32_t num_params, const char* const* keys,
                                    const mxn_value* values, mxn_lr_scheduler** out);
MXN_API void mxn_lr_scheduler_free(mxn_lr_scheduler* scheduler);
/* The learning rate after num_update updates. Stateful as in MXNet (factor schedules advance
 * their base_lr as num_update grows). */
MXN_API int mxn_lr_scheduler_get(mxn_lr_scheduler* scheduler, int64_t num_update, double* out);
MXN_API int mxn_lr_scheduler_base_lr(const mxn_lr_scheduler* scheduler, double* out);
MXN_API int mxn_lr_scheduler_set_base_lr(mxn_lr_scheduler* scheduler, double base_lr);

/* Optimizers ("sgd", "nag", "adam", "rmsprop", "adagrad", "adadelta", "ftrl", "signum") with
 * typed parameters. The per-parameter state lives in the optimizer. *out is owned by the
 * caller (mxn_optimizer_free); a kvstore given it shares it. */
MXN_API int mxn_optimizer_create(const char* name, int32_t num_params, const char* const* keys,
                                 const mxn_value* values, mxn_optimizer** out);
MXN_API void mxn_optimizer_free(mxn_optimizer* optimizer);
/* Sets one hyper-parameter by its schema name (learning_rate, wd, rescale_grad, momentum ...);
 * value borrowed for the call. */
MXN_API int mxn_optimizer_set_param(mxn_optimizer* optimizer, const char* key,
                                    const mxn_value* value);
/* Reads one hyper-parameter; learning_rate with a scheduler is the scheduler's current rate.
 * Writes *out (MXN_VALUE_FLOAT, INT, BOOL or NONE; a STRING's u.s is borrowed until the
 * optimizer is freed). */
MXN_API int mxn_optimizer_get_param(const mxn_optimizer* optimizer, const char* key,
                                    mxn_value* out);
/* Shares a scheduler (NULL: none); its base_lr becomes the optimizer's learning_rate. */
MXN_API int mxn_optimizer_set_lr_scheduler(mxn_optimizer* optimizer, mxn_lr_scheduler* scheduler);
/* A parameter is an integer index (name NULL) or a name (name non-NULL, index ignored).
 * set_param_name records index -> name (MXNet's idx2name): a named parameter not ending in
 * "_weight" or "_gamma" then gets wd_mult 0 unless one is set. */
MXN_API int mxn_optimizer_set_param_name(mxn_optimizer* optimizer, int64_t index,
                                         const char* name);
/* which: 0 lr_mult, 1 wd_mult, for the parameter (index, name) as above. */
MXN_API int mxn_optimizer_set_mult(mxn_optimizer* optimizer, int32_t which, int64_t index,
                                   const char* name, double value);
/* Forgets every lr_mult (which 0) or wd_mult (which 1). */
MXN_API int mxn_optimizer_clear_mults(mxn_optimizer* optimizer, int32_t which);
/* One update of `weight` (in place, queued on the engine) from `grad` (both borrowed): counts
 * the update, creates the parameter's state on first use, runs the fused update operator. */
MXN_API int mxn_optimizer_update(mxn_optimizer* optimizer, int64_t index, const char* name,
                                 mxn_ndarray* weight, const mxn_ndarray* grad);
/* The learning rate and weight decay the parameter's next update would use (lr or wd may be
 * NULL). */
MXN_API int mxn_optimizer_rates(const mxn_optimizer* optimizer, int64_t index, const char* name,
                                double* lr, double* wd);
/* The largest update count over all parameters (MXNet's num_update) and one parameter's. */
MXN_API int mxn_optimizer_num_update(const mxn_optimizer* optimizer, int64_t* out);
MXN_API int mxn_optimizer_update_count(const mxn_optimizer* optimizer, int64_t index,
                                       const char* name, int64_t* out);
/* The parameter's state arrays (0 before its first update): *num, then the k-th as a new
 * handle owned by the caller (shares the state's storage). */
MXN_API int mxn_optimizer_num_states(const mxn_optimizer* optimizer, int64_t index,
                                     const char* name, int32_t* num);
MXN_API int mxn_optimizer_state(const mxn_optimizer* optimizer, int64_t index, const char* name,
                                int32_t k, mxn_ndarray** out);
/* Every state and update count as bytes: *out is a new 1-d uint8 array owned by the caller.
 * Format (little-endian): "MXNOPTS1", uint32 version 1, uint32 0, uint32 n + optimizer name,
 * int64 num_update, uint64 entries; per entry uint8 named, int64 index, uint32 n + name, int64
 * update count, uint32 number of states; then uint64 n + an NDArray file (mxn_ndarray_save's
 * format) holding every entry's states in order. Waits for pending updates. */
MXN_API int mxn_optimizer_save_states(const mxn_optimizer* optimizer, mxn_ndarray** out);
/* Replaces every state from such bytes (borrowed for the call). Another optimizer's states
 * are MXN_ERR_INVALID_ARG; corrupt bytes MXN_ERR_FORMAT (nothing changes on failure). */
MXN_API int mxn_optimizer_load_states(mxn_optimizer* optimizer, const void* data, size_t size);

/* Initializers ("uniform", "normal", "constant", "zero", "one", "xavier", "msraprelu",
 * "orthogonal", "bilinear") with typed parameters. *out is owned by the caller
 * (mxn_initializer_free); composites share their parts. */
MXN_API int mxn_initializer_create(const char* name, int32_t num_params, const char* const* keys,
                                   const mxn_value* values, mxn_initializer** out);
/* From MXNet's JSON form ('["xavier", {"magnitude": 2}]' or '"zero"' or a bare name), as in
 * an `__init__` attribute. */
MXN_API int mxn_initializer_from_json(const char* json, mxn_initializer** out);
/* MXNet's Mixed: num regular expressions (matched at the start of the name) and initializers
 * (borrowed; shared by the result), first match wins. */
MXN_API int mxn_initializer_mixed(int32_t num, const char* const* patterns,
                                  mxn_initializer* const* inits, mxn_initializer** out);
/* MXNet's Load: arrays by name ("arg:"/"aux:" prefixes dropped; arrays shared), else
 * default_init (NULL: a missing name is an error). */
MXN_API int mxn_initializer_load(int32_t num, const char* const* names,
                                 mxn_ndarray* const* arrays, const mxn_initializer* default_init,
                                 mxn_initializer** out);
MXN_API void mxn_initializer_free(mxn_initializer* init);
/* Initialises `array` in place as MXNet's initializer(InitDesc(name, {"__init__": init_attr}),
 * array) does: init_attr (NULL or "" for none) first, else the name's suffix (weight, bias,
 * gamma, beta, moving_mean, moving_var, ...); an unknown suffix is MXN_ERR_INVALID_ARG. */
MXN_API int mxn_initializer_apply(const mxn_initializer* init, const char* name,
                                  const char* init_attr, mxn_ndarray* array);
/* The initializer's weight rule whatever the name (a Variable's init=). */
MXN_API int mxn_initializer_init_weight(const mxn_initializer* init, const char* name,
                                        mxn_ndarray* array);

/* Metrics ("accuracy", "top_k_accuracy", "f1", "mcc", "perplexity", "mae", "mse", "rmse",
 * "ce", "nll_loss", "pearsonr", "loss", or "composite") with typed parameters. *out is owned
 * by the caller (mxn_metric_free). */
MXN_API int mxn_metric_create(const char* name, int32_t num_params, const char* const* keys,
                              const mxn_value* values, mxn_metric** out);
MXN_API void mxn_metric_free(mxn_metric* metric);
/* Adds a child (shared) to a composite metric. */
MXN_API int mxn_metric_add_child(mxn_metric* composite, mxn_metric* child);
/* One batch: labels[i] with preds[i] (borrowed; waits for them). Loss reads only preds. */
MXN_API int mxn_metric_update(mxn_metric* metric, int32_t num_labels, mxn_ndarray* const* labels,
                              int32_t num_preds, mxn_ndarray* const* preds);
/* Resets the local and global sums (local_only = 0) or only the local ones. */
MXN_API int mxn_metric_reset(mxn_metric* metric, int32_t local_only);
/* The values (NaN before any data): *num of them (one per child for a composite), written
 * into values when capacity allows (else MXN_ERR_INVALID_ARG and nothing written); global = 1
 * for the sums since the last full reset. */
MXN_API int mxn_metric_get(const mxn_metric* metric, int32_t global, int32_t capacity,
                           double* values, int32_t* num);
/* The index-th value's name ("accuracy", "top_k_accuracy_5", "cross-entropy", ...), borrowed
 * until the metric is freed. */
MXN_API int mxn_metric_name(const mxn_metric* metric, int32_t index, const char** out);

/* ---------------------------------------------------------------------------------------- */
/* KVStore (local, device): keys are typed values, MXN_VALUE_INT or MXN_VALUE_STRING         */

typedef struct mxn_kvstore mxn_kvstore;

/* Called by push for each key when set: key (borrowed), the summed gradient and the stored
 * weight (borrowed handles, valid during the call); update the weight in place. Return 0, or
 * non-zero to fail the push (MXN_ERR_INVALID_ARG "updater failed"). Runs on the pushing
 * thread. */
typedef int (*mxn_kvstore_updater)(const mxn_value* key, mxn_ndarray* grad, mxn_ndarray* weight,
                                   void* user_data);

/* type: "local" (values kept and reduced on cpu(0)) or "device" (kept and reduced on the
 * device of the value given at init); "dist_sync" / "dist_device_sync": see "Distributed
 * KVStore" below (MXN_ERR_NOT_IMPLEMENTED without the MPI backend). */
MXN_API int mxn_kvstore_create(const char* type, mxn_kvstore** out);
MXN_API void mxn_kvstore_free(mxn_kvstore* kv);
/* The type (borrowed until the store is freed), rank and number of workers (0 and 1 unless
 * dist). */
MXN_API int mxn_kvstore_info(const mxn_kvstore* kv, const char** type, int32_t* rank,
                             int32_t* num_workers);
/* Stores a copy of values[i] under keys[i]. Initialising a key twice is an error. */
MXN_API int mxn_kvstore_init(mxn_kvstore* kv, int32_t num_keys, const mxn_value* keys,
                             mxn_ndarray* const* values);
/* For key i, counts[i] arrays taken in turn from `values` (all borrowed) are summed, then
 * given to the updater / optimizer, or stored. Engine operations carry `priority`. */
MXN_API int mxn_kvstore_push(mxn_kvstore* kv, int32_t num_keys, const mxn_value* keys,
                             const int32_t* counts, mxn_ndarray* const* values, int32_t priority);
/* Copies the stored value of key i into counts[i] arrays taken in turn from outs. */
MXN_API int mxn_kvstore_pull(mxn_kvstore* kv, int32_t num_keys, const mxn_value* keys,
                             const int32_t* counts, mxn_ndarray* const* outs, int32_t priority);
/* push then pull; out_counts NULL pulls back into the pushed arrays. */
MXN_API int mxn_kvstore_pushpull(mxn_kvstore* kv, int32_t num_keys, const mxn_value* keys,
                                 const int32_t* counts, mxn_ndarray* const* values,
                                 const int32_t* out_counts, mxn_ndarray* const* outs,
                                 int32_t priority);
/* init from values[i] (one per key), then pull into out_counts[i] outs. */
MXN_API int mxn_kvstore_broadcast(mxn_kvstore* kv, int32_t num_keys, const mxn_value* keys,
                                  mxn_ndarray* const* values, const int32_t* out_counts,
                                  mxn_ndarray* const* outs, int32_t priority);
/* Sets (fn non-NULL) or clears the updater; user_data must stay valid while it is set.
 * Replaces an optimizer. */
MXN_API int mxn_kvstore_set_updater(mxn_kvstore* kv, mxn_kvstore_updater fn, void* user_data);
/* Updates on the store with this optimizer (shared; its state stays in the core). An int key
 * is the optimizer's index, a string key its parameter name. Replaces an updater. */
MXN_API int mxn_kvstore_set_optimizer(mxn_kvstore* kv, mxn_optimizer* optimizer);
/* The store's optimizer states (mxn_optimizer_save_states's bytes) / loads them back;
 * MXN_ERR_INVALID_ARG without an optimizer. */
MXN_API int mxn_kvstore_save_optimizer_states(const mxn_kvstore* kv, mxn_ndarray** out);
MXN_API int mxn_kvstore_load_optimizer_states(mxn_kvstore* kv, const void* data, size_t size);

/* ---------------------------------------------------------------------------------------- */
/* Distributed KVStore (dist_sync, dist_device_sync, dist_async; ABI 1.6)                     */
/* mxn_kvstore_create("dist_sync" | "dist_device_sync" | "dist_async") joins the job of the
 * processes started together by the launcher (python -m mxnext.launch, over mpirun): it needs
 * the MPI backend libmxnext_mpi.so (-DMXN_USE_MPI=ON; beside libmxnext.so or at
 * MXNEXT_MPI_LIBRARY), else MXN_ERR_NOT_IMPLEMENTED; every process must hold the same
 * MXNEXT_JOB_TOKEN, else MXN_ERR_INVALID_ARG on all of them. Every process creates its stores
 * in the same order. mxn_kvstore_info reports the rank and the number of workers.
 * dist_sync: pushes sum the gradients of all workers (allreduce); init takes rank 0's value;
 * every worker applies the same update. dist_async: every worker also serves a shard of the
 * keys; init (rank 0's value), set_optimizer (rank 0's optimizer configures the servers) and
 * barrier are collective; a push is applied by the servers as it arrives, a pull returns
 * their current value including this worker's earlier pushes; set_updater and the optimizer
 * state functions are MXN_ERR_INVALID_ARG (the states live on the servers). See
 * docs/distributed.md.
 * A lost peer (no heartbeat for MXNEXT_KV_TIMEOUT seconds, default 10) fails every pending and
 * later operation with MXN_ERR_PEER_LOST (at the next wait on the arrays it writes, or at once
 * for the blocking calls below); nothing waits without a bound. */

/* Blocks until every worker has called it. A local store returns at once. */
MXN_API int mxn_kvstore_barrier(mxn_kvstore* kv);
/* Reduces n int64 values across workers in place: op 0 sum, 1 min, 2 max; blocks. A local
 * store leaves them as they are. Every worker calls it the same number of times (Module.fit
 * uses it to agree on who still has a batch, MXNet #7888). */
MXN_API int mxn_kvstore_allreduce_int64(mxn_kvstore* kv, int64_t* values, int32_t n, int32_t op);
/* The mean seconds of the transport's own blocking allreduce (MPI_Allreduce) of count float32
 * values over iters repetitions, on every worker together (bench/dist.py's baseline).
 * MXN_ERR_INVALID_ARG on a local store. */
MXN_API int mxn_kvstore_bench_transport(mxn_kvstore* kv, int64_t count, int32_t iters,
                                        double* seconds);

/* ---------------------------------------------------------------------------------------- */
/* New sections are inserted above this line, one per handle family.                        */

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MXNEXT_C_API_H_ */
