# Declarations of capi/include/mxnext/c_api.h used by the Python binding (the only surface it
# may touch, DESIGN §1).
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t, uint8_t, uint16_t

cdef extern from "mxnext/c_api.h" nogil:
    ctypedef struct DLManagedTensorVersioned:
        void (*deleter)(DLManagedTensorVersioned*)
    ctypedef struct DLManagedTensor:
        void (*deleter)(DLManagedTensor*)

    enum: MXN_ABI_VERSION
    enum: MXN_OK
    enum: MXN_NO_FIELD
    enum: MXN_VALUE_NONE
    enum: MXN_VALUE_INT
    enum: MXN_VALUE_FLOAT
    enum: MXN_VALUE_BOOL
    enum: MXN_VALUE_STRING
    enum: MXN_VALUE_SHAPE
    enum: MXN_VALUE_DTYPE
    enum: MXN_VALUE_DEVICE

    ctypedef struct mxn_error_info:
        uint32_t struct_size
        int32_t code
        int32_t arg_index
        int32_t axis
        const char* kind
        const char* message
        const char* op_name

    ctypedef union mxn_value_payload:
        int64_t i
        double f
        const char* s
        const int64_t* dims

    ctypedef struct mxn_value:
        int32_t type
        int32_t len
        mxn_value_payload u

    ctypedef struct mxn_ndarray:
        pass
    ctypedef struct mxn_op:
        pass

    ctypedef struct mxn_memory_stats:
        uint32_t struct_size
        int64_t live_bytes
        int64_t peak_bytes
        int64_t cached_bytes
        int64_t alloc_count
        int64_t limit_bytes

    int mxn_last_error(mxn_error_info* info)
    const char* mxn_last_error_message()
    uint32_t mxn_abi_version()
    const char* mxn_version_string()
    int mxn_device_count(int32_t device_type, int32_t* out)

    int mxn_ndarray_create(const int64_t* dims, int32_t ndim, int32_t dtype, int32_t device_type,
                           int32_t device_id, mxn_ndarray** out)
    int mxn_ndarray_from_data(const int64_t* dims, int32_t ndim, int32_t dtype,
                              int32_t device_type, int32_t device_id, const void* data,
                              size_t nbytes, mxn_ndarray** out)
    void mxn_ndarray_free(mxn_ndarray* array)
    int mxn_ndarray_shape(const mxn_ndarray* array, int32_t* ndim, const int64_t** dims)
    int mxn_ndarray_dtype(const mxn_ndarray* array, int32_t* out)
    int mxn_ndarray_device(const mxn_ndarray* array, int32_t* device_type, int32_t* device_id)
    int mxn_ndarray_size(const mxn_ndarray* array, int64_t* out)
    int mxn_ndarray_copy_to_host(const mxn_ndarray* array, void* dst, size_t nbytes)
    int mxn_ndarray_copy_from_host(mxn_ndarray* array, const void* src, size_t nbytes)
    int mxn_ndarray_copy_to(const mxn_ndarray* src, mxn_ndarray* dst)
    int mxn_ndarray_slice(const mxn_ndarray* array, int64_t begin, int64_t end, mxn_ndarray** out)
    int mxn_ndarray_at(const mxn_ndarray* array, int64_t index, mxn_ndarray** out)
    int mxn_ndarray_reshape(const mxn_ndarray* array, const int64_t* dims, int32_t ndim,
                            int32_t reverse, mxn_ndarray** out)
    int mxn_ndarray_wait_to_read(const mxn_ndarray* array)
    int mxn_ndarray_wait_to_write(mxn_ndarray* array)
    int mxn_wait_all()

    int mxn_ndarray_to_dlpack(const mxn_ndarray* array, DLManagedTensorVersioned** out)
    int mxn_ndarray_to_dlpack_legacy(const mxn_ndarray* array, DLManagedTensor** out)
    int mxn_ndarray_from_dlpack(DLManagedTensorVersioned* tensor, mxn_ndarray** out)
    int mxn_ndarray_from_dlpack_legacy(DLManagedTensor* tensor, mxn_ndarray** out)

    const char* mxn_op_schema_json()
    int mxn_op_find(const char* name, const mxn_op** out)
    int mxn_op_invoke(const mxn_op* op, int32_t num_inputs, mxn_ndarray* const* inputs,
                      int32_t num_params, const char* const* keys, const mxn_value* values,
                      int32_t max_outputs, mxn_ndarray** outputs, int32_t* num_outputs)
    int mxn_op_invoke_into(const mxn_op* op, int32_t num_inputs, mxn_ndarray* const* inputs,
                           int32_t num_params, const char* const* keys, const mxn_value* values,
                           int32_t num_outputs, mxn_ndarray* const* outputs)

    int mxn_random_seed(uint64_t seed)
    int mxn_engine_info(const char** name, int32_t* num_workers)
    int mxn_memory_stats_get(int32_t device_type, int32_t device_id, mxn_memory_stats* out)
    int mxn_memory_release_cached(int32_t device_type, int32_t device_id)
    int mxn_memory_set_limit(int32_t device_type, int32_t device_id, int64_t limit_bytes)
