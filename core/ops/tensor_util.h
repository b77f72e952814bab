// Shared by the tensor-manipulation, indexing, math and gradient kernels: strided gathers and
// scatters, axis normalisation, a float-only dtype switch and the reduction of a broadcast
// gradient back to its input's shape.
#pragma once
#include <cstring>
#include <string>

#include "core/ops/elemwise_util.h"

namespace mxn::ops {

// MXN_FLOAT_SWITCH(t, T, body): body with T bound to float, double or half_t; other dtypes are
// a DType error.
#define MXN_FLOAT_SWITCH(dtype, T, ...)                                                    \
  switch (dtype) {                                                                         \
    case ::mxn::DType::kFloat32: { using T = float; __VA_ARGS__ break; }                   \
    case ::mxn::DType::kFloat64: { using T = double; __VA_ARGS__ break; }                  \
    case ::mxn::DType::kFloat16: { using T = ::mxn::half_t; __VA_ARGS__ break; }           \
    default:                                                                               \
      ::mxn::throw_error(::mxn::ErrorCode::kDType,                                         \
                         ::mxn::cat("needs a floating-point dtype (float16, float32 or "   \
                                    "float64), got ", ::mxn::dtype_name(dtype)));          \
  }

// Row-major strides, in elements.
inline void strides_of(const Shape& s, int64_t* st) {
  int64_t acc = 1;
  for (int d = s.ndim() - 1; d >= 0; --d) {
    st[d] = acc;
    acc *= s[d];
  }
}

// Calls f(linear_index, multi_index) for every index of `shape`, in row-major order.
template <typename F>
void for_each_index(const Shape& shape, F f) {
  const int64_t total = shape.size();
  if (total == 0) return;
  const int nd = shape.ndim();
  int64_t idx[kMaxNdim] = {};
  for (int64_t i = 0; i < total; ++i) {
    f(i, static_cast<const int64_t*>(idx));
    for (int d = nd - 1; d >= 0; --d) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
}

// Calls f(dense_index, strided_offset) for every index of `shape`, the offset being
// offset0 + sum_d i_d * st[d].
template <typename F>
void for_each_strided(const Shape& shape, const int64_t* st, int64_t offset0, F f) {
  const int nd = shape.ndim();
  const int64_t total = shape.size();
  if (total == 0) return;
  if (nd == 0) {
    f(int64_t(0), offset0);
    return;
  }
  const int64_t inner = shape[nd - 1], inner_st = st[nd - 1];
  const int64_t outer = total / inner;
  int64_t idx[kMaxNdim] = {};
  for (int64_t o = 0; o < outer; ++o) {
    int64_t src = offset0;
    for (int d = 0; d < nd - 1; ++d) src += idx[d] * st[d];
    const int64_t base = o * inner;
    for (int64_t j = 0; j < inner; ++j) f(base + j, src + j * inner_st);
    for (int d = nd - 2; d >= 0; --d) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
}

// out (dense, out.shape) <- in[offset + sum_d i_d * st[d]]: any dtype (moves bytes).
void strided_gather(const TBlob& in, const TBlob& out, const int64_t* st, int64_t offset);
// out[offset + sum_d i_d * st[d]] += in[i] (float dtypes; out must hold zeros or a partial
// sum). Positions may repeat (broadcast strides of 0 accumulate).
void strided_scatter_add(const TBlob& in, const TBlob& out, const int64_t* st, int64_t offset);
// Fills a blob with zeros.
inline void zero_fill(const TBlob& b) {
  const size_t n = static_cast<size_t>(b.size()) * dtype_size(b.dtype);
  if (n > 0) std::memset(b.dptr, 0, n);
}
// Copies all bytes of in to out (same size).
inline void copy_bytes(const TBlob& in, const TBlob& out) {
  const size_t n = static_cast<size_t>(in.size()) * dtype_size(in.dtype);
  if (n > 0 && in.dptr != out.dptr) std::memmove(out.dptr, in.dptr, n);
}

// `axis` in [-ndim, ndim) normalised to [0, ndim); else kInvalidArg naming the shape.
int normalize_axis(int64_t axis, int ndim, const Shape& shape, const char* what = "axis");

// grad_in (shape `small`) = sum of grad_out (shape `big`) over the axes on which `small` was
// broadcast to `big` (right-aligned; small's dims are 1 or equal to big's). Float dtypes.
void sum_to_shape(const TBlob& grad_out, const TBlob& grad_in);

// Reads element i of an index array of any dtype as int64 (floats truncate toward zero).
int64_t read_index(const TBlob& b, int64_t i);

}  // namespace mxn::ops
