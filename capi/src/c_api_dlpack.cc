// DLPack export and import (versioned 1.x and the pre-1.0 struct).
#include <cstring>
#include <memory>

#include "capi/src/handles.h"

using namespace mxn;
using mxn::capi::check_out;

namespace {

DLDataType to_dl_dtype(DType t) {
  DLDataType d;
  d.lanes = 1;
  d.bits = static_cast<uint8_t>(dtype_size(t) * 8);
  switch (t) {
    case DType::kFloat32:
    case DType::kFloat64:
    case DType::kFloat16: d.code = kDLFloat; break;
    case DType::kUint8: d.code = kDLUInt; break;
    case DType::kBool: d.code = kDLBool; break;
    default: d.code = kDLInt; break;
  }
  return d;
}

DType from_dl_dtype(DLDataType d) {
  MXN_CHECK(d.lanes == 1, ErrorCode::kDType, "DLPack: vector types (lanes ", d.lanes,
            ") are not supported");
  if (d.code == kDLFloat && d.bits == 32) return DType::kFloat32;
  if (d.code == kDLFloat && d.bits == 64) return DType::kFloat64;
  if (d.code == kDLFloat && d.bits == 16) return DType::kFloat16;
  if (d.code == kDLUInt && d.bits == 8) return DType::kUint8;
  if (d.code == kDLInt && d.bits == 8) return DType::kInt8;
  if (d.code == kDLInt && d.bits == 32) return DType::kInt32;
  if (d.code == kDLInt && d.bits == 64) return DType::kInt64;
  if (d.code == kDLBool && d.bits == 8) return DType::kBool;
  throw_error(ErrorCode::kDType, cat("DLPack: dtype code ", static_cast<int>(d.code), " with ",
                                     static_cast<int>(d.bits), " bits is not supported"));
}

// Owns what an exported tensor points to: a reference to the storage, shape and strides.
template <typename Managed>
struct ExportCtx {
  Managed managed;
  NDArray array;
  int64_t shape[kMaxNdim];
  int64_t strides[kMaxNdim];
};

template <typename Managed>
void delete_export(Managed* self) {
  delete static_cast<ExportCtx<Managed>*>(self->manager_ctx);
}

template <typename Managed>
Managed* export_array(const NDArray& a) {
  a.wait_to_read();
  a.chunk()->exported = true;  // the consumer may write it behind the engine's back
  auto* ctx = new ExportCtx<Managed>();
  std::memset(&ctx->managed, 0, sizeof(Managed));
  ctx->array = a;
  const Shape& s = a.shape();
  int64_t stride = 1;
  for (int i = s.ndim() - 1; i >= 0; --i) {
    ctx->shape[i] = s[i];
    ctx->strides[i] = stride;
    stride *= s[i] > 0 ? s[i] : 1;
  }
  DLTensor& t = ctx->managed.dl_tensor;
  t.data = a.data();
  t.device.device_type = kDLCPU;
  t.device.device_id = a.device().id;
  t.ndim = s.ndim();
  t.dtype = to_dl_dtype(a.dtype());
  t.shape = ctx->shape;
  t.strides = ctx->strides;
  t.byte_offset = 0;
  ctx->managed.manager_ctx = ctx;
  ctx->managed.deleter = &delete_export<Managed>;
  return &ctx->managed;
}

// Validates a foreign tensor; returns its array, sharing memory when the layout is compact and
// writable, else a copy. *copied tells which.
NDArray import_tensor(const DLTensor& t, bool read_only, std::function<void()> release,
                      bool* copied) {
  MXN_CHECK(t.device.device_type == kDLCPU || t.device.device_type == kDLCUDAHost,
            ErrorCode::kDevice, "DLPack: device type ", static_cast<int>(t.device.device_type),
            " is not supported by this build (CPU only)");
  const DType dtype = from_dl_dtype(t.dtype);
  MXN_CHECK(t.ndim >= 0 && t.ndim <= kMaxNdim, ErrorCode::kShape, "DLPack: ndim ", t.ndim,
            " is outside [0, ", kMaxNdim, "]");
  MXN_CHECK(t.ndim == 0 || t.shape != nullptr, ErrorCode::kInvalidArg, "DLPack: NULL shape");
  const Shape shape = Shape::from_dims(t.shape, t.ndim, "DLPack shape");
  const int64_t n = shape.size();
  MXN_CHECK(n == 0 || t.data != nullptr, ErrorCode::kInvalidArg, "DLPack: NULL data");
  bool compact = true;
  if (t.strides != nullptr) {
    int64_t expect = 1;
    for (int i = t.ndim - 1; i >= 0; --i) {
      if (shape[i] != 1 && t.strides[i] != expect) compact = false;
      expect *= shape[i];
    }
  }
  const size_t esize = dtype_size(dtype);
  const char* base = static_cast<const char*>(t.data) + t.byte_offset;
  if (compact && !read_only) {
    *copied = false;
    auto chunk = Chunk::wrap(const_cast<char*>(base), static_cast<size_t>(n) * esize,
                             Device::cpu(t.device.device_id), std::move(release));
    return NDArray::from_chunk(std::move(chunk), shape, dtype);
  }
  *copied = true;
  NDArray a = NDArray::empty(shape, dtype, Device::cpu(0));
  char* dst = static_cast<char*>(a.data());
  if (compact) {
    std::memcpy(dst, base, static_cast<size_t>(n) * esize);
  } else {
    int64_t index[kMaxNdim] = {};
    for (int64_t e = 0; e < n; ++e) {
      int64_t off = 0;
      for (int d = 0; d < t.ndim; ++d) off += index[d] * t.strides[d];
      std::memcpy(dst + e * static_cast<int64_t>(esize), base + off * static_cast<int64_t>(esize),
                  esize);
      for (int d = t.ndim - 1; d >= 0; --d) {
        if (++index[d] < shape[d]) break;
        index[d] = 0;
      }
    }
  }
  return a;
}

}  // namespace

extern "C" {

int mxn_ndarray_to_dlpack(const mxn_ndarray* array, DLManagedTensorVersioned** out) {
  MXN_API_BEGIN();
  const NDArray& a = capi::ndarray_of(array, "array");
  check_out(out, "out");
  DLManagedTensorVersioned* m = export_array<DLManagedTensorVersioned>(a);
  m->version.major = DLPACK_MAJOR_VERSION;
  m->version.minor = DLPACK_MINOR_VERSION;
  m->flags = 0;
  *out = m;
  MXN_API_END();
}

int mxn_ndarray_to_dlpack_legacy(const mxn_ndarray* array, DLManagedTensor** out) {
  MXN_API_BEGIN();
  const NDArray& a = capi::ndarray_of(array, "array");
  check_out(out, "out");
  *out = export_array<DLManagedTensor>(a);
  MXN_API_END();
}

int mxn_ndarray_from_dlpack(DLManagedTensorVersioned* tensor, mxn_ndarray** out) {
  MXN_API_BEGIN();
  MXN_CHECK(tensor != nullptr, ErrorCode::kInvalidArg, "DLPack: tensor is NULL");
  check_out(out, "out");
  MXN_CHECK(tensor->version.major == DLPACK_MAJOR_VERSION, ErrorCode::kFormat,
            "DLPack: major version ", tensor->version.major, " is not supported (expected ",
            DLPACK_MAJOR_VERSION, ")");
  const bool read_only = (tensor->flags & DLPACK_FLAG_BITMASK_READ_ONLY) != 0;
  bool copied = false;
  auto release = [tensor] {
    if (tensor->deleter) tensor->deleter(tensor);
  };
  // The handle exists before the import, so nothing can fail once the storage is shared
  // (a failure after that would run the deleter of a tensor the caller still owns).
  std::unique_ptr<mxn_ndarray> h(capi::new_handle(NDArray()));
  h->array = import_tensor(tensor->dl_tensor, read_only, release, &copied);
  if (copied) release();  // the copy needs nothing from the producer any more
  *out = h.release();
  MXN_API_END();
}

int mxn_ndarray_from_dlpack_legacy(DLManagedTensor* tensor, mxn_ndarray** out) {
  MXN_API_BEGIN();
  MXN_CHECK(tensor != nullptr, ErrorCode::kInvalidArg, "DLPack: tensor is NULL");
  check_out(out, "out");
  bool copied = false;
  auto release = [tensor] {
    if (tensor->deleter) tensor->deleter(tensor);
  };
  std::unique_ptr<mxn_ndarray> h(capi::new_handle(NDArray()));
  h->array = import_tensor(tensor->dl_tensor, false, release, &copied);
  if (copied) release();
  *out = h.release();
  MXN_API_END();
}

}  // extern "C"
