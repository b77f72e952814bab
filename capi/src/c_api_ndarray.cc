// NDArray handles: creation, metadata, host transfers, views, waits.
#include "capi/src/handles.h"
#include "core/tensor/reshape_codes.h"

using namespace mxn;
using mxn::capi::check_out;
using mxn::capi::ndarray_of;

namespace {

NDArray create_array(const int64_t* dims, int32_t ndim, int32_t dtype, int32_t device_type,
                     int32_t device_id) {
  Shape shape = Shape::from_dims(dims, ndim);
  DType t = dtype_checked(dtype);
  Device dev = device_checked(device_type, device_id);
  return NDArray::empty(shape, t, dev);
}

}  // namespace

extern "C" {

int mxn_ndarray_create(const int64_t* dims, int32_t ndim, int32_t dtype, int32_t device_type,
                       int32_t device_id, mxn_ndarray** out) {
  MXN_API_BEGIN();
  check_out(out, "out");
  NDArray a = create_array(dims, ndim, dtype, device_type, device_id);
  *out = capi::new_handle(std::move(a));
  MXN_API_END();
}

int mxn_ndarray_from_data(const int64_t* dims, int32_t ndim, int32_t dtype, int32_t device_type,
                          int32_t device_id, const void* data, size_t nbytes, mxn_ndarray** out) {
  MXN_API_BEGIN();
  check_out(out, "out");
  NDArray a = create_array(dims, ndim, dtype, device_type, device_id);
  copy_from_host(a, data, nbytes);
  *out = capi::new_handle(std::move(a));
  MXN_API_END();
}

void mxn_ndarray_free(mxn_ndarray* array) {
  if (array == nullptr || array->magic != kNDArrayMagic) return;
  array->magic = 0;
  delete array;
}

int mxn_ndarray_shape(const mxn_ndarray* array, int32_t* ndim, const int64_t** dims) {
  MXN_API_BEGIN();
  const NDArray& a = ndarray_of(array, "array");
  check_out(ndim, "ndim");
  check_out(dims, "dims");
  *ndim = a.shape().ndim();
  *dims = a.shape().data();
  MXN_API_END();
}

int mxn_ndarray_dtype(const mxn_ndarray* array, int32_t* out) {
  MXN_API_BEGIN();
  const NDArray& a = ndarray_of(array, "array");
  check_out(out, "out");
  *out = static_cast<int32_t>(a.dtype());
  MXN_API_END();
}

int mxn_ndarray_device(const mxn_ndarray* array, int32_t* device_type, int32_t* device_id) {
  MXN_API_BEGIN();
  const NDArray& a = ndarray_of(array, "array");
  check_out(device_type, "device_type");
  check_out(device_id, "device_id");
  *device_type = static_cast<int32_t>(a.device().type);
  *device_id = a.device().id;
  MXN_API_END();
}

int mxn_ndarray_size(const mxn_ndarray* array, int64_t* out) {
  MXN_API_BEGIN();
  const NDArray& a = ndarray_of(array, "array");
  check_out(out, "out");
  *out = a.size();
  MXN_API_END();
}

int mxn_ndarray_data(const mxn_ndarray* array, void** out) {
  MXN_API_BEGIN();
  const NDArray& a = ndarray_of(array, "array");
  check_out(out, "out");
  *out = a.data();
  MXN_API_END();
}

int mxn_ndarray_copy_to_host(const mxn_ndarray* array, void* dst, size_t nbytes) {
  MXN_API_BEGIN();
  copy_to_host(ndarray_of(array, "array"), dst, nbytes);
  MXN_API_END();
}

int mxn_ndarray_copy_from_host(mxn_ndarray* array, const void* src, size_t nbytes) {
  MXN_API_BEGIN();
  copy_from_host(ndarray_of(array, "array"), src, nbytes);
  MXN_API_END();
}

int mxn_ndarray_copy_to(const mxn_ndarray* src, mxn_ndarray* dst) {
  MXN_API_BEGIN();
  copy_array(ndarray_of(src, "src"), ndarray_of(dst, "dst"));
  MXN_API_END();
}

int mxn_ndarray_slice(const mxn_ndarray* array, int64_t begin, int64_t end, mxn_ndarray** out) {
  MXN_API_BEGIN();
  const NDArray& a = ndarray_of(array, "array");
  check_out(out, "out");
  NDArray v = a.slice(begin, end);
  *out = capi::new_handle(std::move(v));
  MXN_API_END();
}

int mxn_ndarray_at(const mxn_ndarray* array, int64_t index, mxn_ndarray** out) {
  MXN_API_BEGIN();
  const NDArray& a = ndarray_of(array, "array");
  check_out(out, "out");
  NDArray v = a.at(index);
  *out = capi::new_handle(std::move(v));
  MXN_API_END();
}

int mxn_ndarray_reshape(const mxn_ndarray* array, const int64_t* dims, int32_t ndim,
                        int32_t reverse, mxn_ndarray** out) {
  MXN_API_BEGIN();
  const NDArray& a = ndarray_of(array, "array");
  check_out(out, "out");
  MXN_CHECK(ndim >= 0 && ndim <= kMaxNdim, ErrorCode::kShape, "reshape: ndim must be in [0, ",
            kMaxNdim, "], got ", ndim);
  MXN_CHECK(ndim == 0 || dims != nullptr, ErrorCode::kInvalidArg, "reshape: dims is NULL");
  Shape target;
  for (int i = 0; i < ndim; ++i) target.push_back(dims[i]);
  NDArray v = a.reshape(infer_reshape(a.shape(), target, reverse != 0));
  *out = capi::new_handle(std::move(v));
  MXN_API_END();
}

int mxn_ndarray_wait_to_read(const mxn_ndarray* array) {
  MXN_API_BEGIN();
  ndarray_of(array, "array").wait_to_read();
  MXN_API_END();
}

int mxn_ndarray_wait_to_write(mxn_ndarray* array) {
  MXN_API_BEGIN();
  ndarray_of(array, "array").wait_to_write();
  MXN_API_END();
}

int mxn_wait_all(void) {
  MXN_API_BEGIN();
  Engine::get().wait_all();
  MXN_API_END();
}

}  // extern "C"
