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

    int mxn_autograd_set_recording(int32_t recording, int32_t* previous)
    int mxn_autograd_set_training(int32_t training, int32_t* previous)
    int mxn_autograd_is_recording(int32_t* out)
    int mxn_autograd_is_training(int32_t* out)
    int mxn_autograd_mark_variables(int32_t num, mxn_ndarray* const* variables,
                                    const int32_t* grad_reqs, mxn_ndarray* const* grads)
    int mxn_ndarray_get_grad(const mxn_ndarray* array, mxn_ndarray** out)
    int mxn_ndarray_detach(const mxn_ndarray* array, mxn_ndarray** out)
    int mxn_autograd_backward(int32_t num_heads, mxn_ndarray* const* heads,
                              mxn_ndarray* const* head_grads, int32_t num_variables,
                              mxn_ndarray* const* variables, int32_t retain_graph,
                              int32_t train_mode, mxn_ndarray** grads_out)

# ---- data IO (RecordIO, image codecs, data iterators) ----
cdef extern from "mxnext/c_api.h" nogil:
    ctypedef struct mxn_recordio:
        pass
    ctypedef struct mxn_dataiter:
        pass
    int mxn_recordio_open(const char* path, const char* mode, mxn_recordio** out)
    int mxn_recordio_open_part(const char* path, int32_t num_parts, int32_t part_index,
                               mxn_recordio** out)
    int mxn_recordio_close(mxn_recordio* rec)
    void mxn_recordio_free(mxn_recordio* rec)
    int mxn_recordio_write(mxn_recordio* rec, const void* data, size_t size)
    int mxn_recordio_read(mxn_recordio* rec, const void** data, size_t* size, int32_t* has_record)
    int mxn_recordio_tell(const mxn_recordio* rec, int64_t* out)
    int mxn_recordio_seek(mxn_recordio* rec, int64_t offset)
    int mxn_recordio_reset(mxn_recordio* rec)
    int mxn_image_decode(const void* data, size_t size, int32_t channels, mxn_ndarray** out)
    int mxn_image_encode(const mxn_ndarray* image, const char* format, int32_t quality,
                         mxn_ndarray** out)
    const char* mxn_dataiter_schema_json()
    int mxn_dataiter_create(const char* name, int32_t num_params, const char* const* keys,
                            const mxn_value* values, mxn_dataiter** out)
    void mxn_dataiter_free(mxn_dataiter* it)
    int mxn_dataiter_next(mxn_dataiter* it, int32_t* has_batch)
    int mxn_dataiter_reset(mxn_dataiter* it)
    int mxn_dataiter_data(const mxn_dataiter* it, mxn_ndarray** out)
    int mxn_dataiter_label(const mxn_dataiter* it, mxn_ndarray** out)
    int mxn_dataiter_index(const mxn_dataiter* it, mxn_ndarray** out)
    int mxn_dataiter_pad(const mxn_dataiter* it, int32_t* out)
    int mxn_dataiter_batch_shape(const mxn_dataiter* it, int32_t which, int32_t* ndim,
                                 const int64_t** dims, int32_t* dtype)

# ---- NDArray files (mx.nd.save / mx.nd.load, .params) ----
cdef extern from "mxnext/c_api.h" nogil:
    ctypedef struct mxn_ndarray_list:
        pass
    int mxn_ndarray_save(const char* path, int32_t num, mxn_ndarray* const* arrays,
                         const char* const* names)
    int mxn_ndarray_save_to_buffer(int32_t num, mxn_ndarray* const* arrays,
                                   const char* const* names, mxn_ndarray** out)
    int mxn_ndarray_load(const char* path, mxn_ndarray_list** out)
    int mxn_ndarray_load_from_buffer(const void* data, size_t size, mxn_ndarray_list** out)
    int mxn_ndarray_list_size(const mxn_ndarray_list* lst, int32_t* num_arrays,
                              int32_t* num_names)
    int mxn_ndarray_list_get(const mxn_ndarray_list* lst, int32_t index, mxn_ndarray** out)
    int mxn_ndarray_list_name(const mxn_ndarray_list* lst, int32_t index, const char** name,
                              size_t* length)
    void mxn_ndarray_list_free(mxn_ndarray_list* lst)

    ctypedef struct mxn_strings:
        pass
    ctypedef struct mxn_symbol:
        pass
    ctypedef struct mxn_shapes:
        pass
    int mxn_strings_size(const mxn_strings* list, int32_t* out)
    int mxn_strings_get(const mxn_strings* list, int32_t index, const char** out)
    void mxn_strings_free(mxn_strings* list)
    int mxn_symbol_variable(const char* name, mxn_symbol** out)
    int mxn_symbol_compose(const mxn_op* op, int32_t num_params, const char* const* keys,
                           const mxn_value* values, const char* name, int32_t num_args,
                           mxn_symbol* const* args, const char* const* arg_names,
                           int32_t num_attrs, const char* const* attr_keys,
                           const char* const* attr_values, mxn_symbol** out)
    int mxn_symbol_group(int32_t num, mxn_symbol* const* symbols, mxn_symbol** out)
    void mxn_symbol_free(mxn_symbol* symbol)
    int mxn_symbol_num_outputs(const mxn_symbol* symbol, int32_t* out)
    int mxn_symbol_output(const mxn_symbol* symbol, int32_t index, mxn_symbol** out)
    int mxn_symbol_internals(const mxn_symbol* symbol, mxn_symbol** out)
    int mxn_symbol_children(const mxn_symbol* symbol, mxn_symbol** out)
    int mxn_symbol_list(const mxn_symbol* symbol, int32_t kind, mxn_strings** out)
    int mxn_symbol_name(const mxn_symbol* symbol, const char** out)
    int mxn_symbol_get_attr(const mxn_symbol* symbol, const char* key, int32_t* found,
                            mxn_strings** out)
    int mxn_symbol_set_attr(mxn_symbol* symbol, const char* key, const char* value)
    int mxn_symbol_list_attr(const mxn_symbol* symbol, int32_t recursive, mxn_strings** out)
    int mxn_symbol_to_json(const mxn_symbol* symbol, mxn_strings** out)
    int mxn_symbol_from_json(const char* json, mxn_symbol** out)
    int mxn_symbol_infer_shape(const mxn_symbol* symbol, int32_t num_known,
                               const char* const* names, const int32_t* ndims,
                               const int64_t* dims, int32_t partial, mxn_shapes** args,
                               mxn_shapes** outputs, mxn_shapes** aux)
    int mxn_shapes_size(const mxn_shapes* list, int32_t* out)
    int mxn_shapes_get(const mxn_shapes* list, int32_t index, int32_t* ndim, const int64_t** dims)
    void mxn_shapes_free(mxn_shapes* list)
    int mxn_symbol_infer_type(const mxn_symbol* symbol, int32_t num_known,
                              const char* const* names, const int32_t* dtypes,
                              int32_t capacity, int32_t* arg_types, int32_t* num_args,
                              int32_t* out_types, int32_t* num_outputs, int32_t* aux_types,
                              int32_t* num_aux)

    ctypedef struct mxn_executor:
        pass
    int mxn_executor_bind(const mxn_symbol* symbol, int32_t num_args, mxn_ndarray* const* args,
                          mxn_ndarray* const* arg_grads, const int32_t* grad_reqs,
                          int32_t num_aux, mxn_ndarray* const* aux, mxn_executor** out)
    void mxn_executor_free(mxn_executor* executor)
    int mxn_executor_forward(mxn_executor* executor, int32_t is_train)
    int mxn_executor_backward(mxn_executor* executor, int32_t num_head_grads,
                              mxn_ndarray* const* head_grads)
    int mxn_executor_num_outputs(const mxn_executor* executor, int32_t* out)
    int mxn_executor_output(const mxn_executor* executor, int32_t index, mxn_ndarray** out)
    int mxn_executor_memory_report(const mxn_executor* executor, mxn_strings** out)


# ---- training: optimizers, schedulers, initializers, metrics, kvstore (ABI 1.5) -------------
cdef extern from "mxnext/c_api.h" nogil:
    ctypedef struct mxn_optimizer:
        pass
    ctypedef struct mxn_lr_scheduler:
        pass
    ctypedef struct mxn_initializer:
        pass
    ctypedef struct mxn_metric:
        pass
    ctypedef struct mxn_kvstore:
        pass
    const char* mxn_train_schema_json()
    int mxn_lr_scheduler_create(const char* name, int32_t num_params, const char* const* keys,
                                const mxn_value* values, mxn_lr_scheduler** out)
    void mxn_lr_scheduler_free(mxn_lr_scheduler* scheduler)
    int mxn_lr_scheduler_get(mxn_lr_scheduler* scheduler, int64_t num_update, double* out)
    int mxn_lr_scheduler_base_lr(const mxn_lr_scheduler* scheduler, double* out)
    int mxn_lr_scheduler_set_base_lr(mxn_lr_scheduler* scheduler, double base_lr)
    int mxn_optimizer_create(const char* name, int32_t num_params, const char* const* keys,
                             const mxn_value* values, mxn_optimizer** out)
    void mxn_optimizer_free(mxn_optimizer* optimizer)
    int mxn_optimizer_set_param(mxn_optimizer* optimizer, const char* key, const mxn_value* value)
    int mxn_optimizer_get_param(const mxn_optimizer* optimizer, const char* key, mxn_value* out)
    int mxn_optimizer_set_lr_scheduler(mxn_optimizer* optimizer, mxn_lr_scheduler* scheduler)
    int mxn_optimizer_set_param_name(mxn_optimizer* optimizer, int64_t index, const char* name)
    int mxn_optimizer_set_mult(mxn_optimizer* optimizer, int32_t which, int64_t index,
                               const char* name, double value)
    int mxn_optimizer_clear_mults(mxn_optimizer* optimizer, int32_t which)
    int mxn_optimizer_update(mxn_optimizer* optimizer, int64_t index, const char* name,
                             mxn_ndarray* weight, const mxn_ndarray* grad)
    int mxn_optimizer_rates(const mxn_optimizer* optimizer, int64_t index, const char* name,
                            double* lr, double* wd)
    int mxn_optimizer_num_update(const mxn_optimizer* optimizer, int64_t* out)
    int mxn_optimizer_update_count(const mxn_optimizer* optimizer, int64_t index,
                                   const char* name, int64_t* out)
    int mxn_optimizer_num_states(const mxn_optimizer* optimizer, int64_t index, const char* name,
                                 int32_t* num)
    int mxn_optimizer_state(const mxn_optimizer* optimizer, int64_t index, const char* name,
                            int32_t k, mxn_ndarray** out)
    int mxn_optimizer_save_states(const mxn_optimizer* optimizer, mxn_ndarray** out)
    int mxn_optimizer_load_states(mxn_optimizer* optimizer, const void* data, size_t size)
    int mxn_initializer_create(const char* name, int32_t num_params, const char* const* keys,
                               const mxn_value* values, mxn_initializer** out)
    int mxn_initializer_from_json(const char* json, mxn_initializer** out)
    int mxn_initializer_mixed(int32_t num, const char* const* patterns,
                              mxn_initializer* const* inits, mxn_initializer** out)
    int mxn_initializer_load(int32_t num, const char* const* names, mxn_ndarray* const* arrays,
                             const mxn_initializer* default_init, mxn_initializer** out)
    void mxn_initializer_free(mxn_initializer* init)
    int mxn_initializer_apply(const mxn_initializer* init, const char* name,
                              const char* init_attr, mxn_ndarray* array)
    int mxn_initializer_init_weight(const mxn_initializer* init, const char* name,
                                    mxn_ndarray* array)
    int mxn_metric_create(const char* name, int32_t num_params, const char* const* keys,
                          const mxn_value* values, mxn_metric** out)
    void mxn_metric_free(mxn_metric* metric)
    int mxn_metric_add_child(mxn_metric* composite, mxn_metric* child)
    int mxn_metric_update(mxn_metric* metric, int32_t num_labels, mxn_ndarray* const* labels,
                          int32_t num_preds, mxn_ndarray* const* preds)
    int mxn_metric_reset(mxn_metric* metric, int32_t local_only)
    int mxn_metric_get(const mxn_metric* metric, int32_t is_global, int32_t capacity,
                       double* values, int32_t* num)
    int mxn_metric_name(const mxn_metric* metric, int32_t index, const char** out)
    ctypedef int (*mxn_kvstore_updater)(const mxn_value* key, mxn_ndarray* grad,
                                        mxn_ndarray* weight, void* user_data)
    int mxn_kvstore_create(const char* type, mxn_kvstore** out)
    void mxn_kvstore_free(mxn_kvstore* kv)
    int mxn_kvstore_info(const mxn_kvstore* kv, const char** type, int32_t* rank,
                         int32_t* num_workers)
    int mxn_kvstore_init(mxn_kvstore* kv, int32_t num_keys, const mxn_value* keys,
                         mxn_ndarray* const* values)
    int mxn_kvstore_push(mxn_kvstore* kv, int32_t num_keys, const mxn_value* keys,
                         const int32_t* counts, mxn_ndarray* const* values, int32_t priority)
    int mxn_kvstore_pull(mxn_kvstore* kv, int32_t num_keys, const mxn_value* keys,
                         const int32_t* counts, mxn_ndarray* const* outs, int32_t priority)
    int mxn_kvstore_pushpull(mxn_kvstore* kv, int32_t num_keys, const mxn_value* keys,
                             const int32_t* counts, mxn_ndarray* const* values,
                             const int32_t* out_counts, mxn_ndarray* const* outs,
                             int32_t priority)
    int mxn_kvstore_broadcast(mxn_kvstore* kv, int32_t num_keys, const mxn_value* keys,
                              mxn_ndarray* const* values, const int32_t* out_counts,
                              mxn_ndarray* const* outs, int32_t priority)
    int mxn_kvstore_set_updater(mxn_kvstore* kv, mxn_kvstore_updater fn, void* user_data)
    int mxn_kvstore_set_optimizer(mxn_kvstore* kv, mxn_optimizer* optimizer)
    int mxn_kvstore_save_optimizer_states(const mxn_kvstore* kv, mxn_ndarray** out)
    int mxn_kvstore_load_optimizer_states(mxn_kvstore* kv, const void* data, size_t size)

    # ---- distributed KVStore (ABI 1.6) ----
    int mxn_kvstore_barrier(mxn_kvstore* kv)
    int mxn_kvstore_allreduce_int64(mxn_kvstore* kv, int64_t* values, int32_t n, int32_t op)
    int mxn_kvstore_bench_transport(mxn_kvstore* kv, int64_t count, int32_t iters,
                                    double* seconds)
