#include "core/ops/tensor_util.h"

namespace mxn::ops {

namespace {
template <typename E>
void gather_typed(const E* in, E* out, const Shape& shape, const int64_t* st, int64_t offset) {
  const int nd = shape.ndim();
  if (nd > 0 && st[nd - 1] == 1) {  // contiguous rows: memcpy
    const int64_t inner = shape[nd - 1];
    if (shape.size() == 0) return;
    const int64_t outer = shape.size() / inner;
    int64_t idx[kMaxNdim] = {};
    for (int64_t o = 0; o < outer; ++o) {
      int64_t src = offset;
      for (int d = 0; d < nd - 1; ++d) src += idx[d] * st[d];
      std::memcpy(out + o * inner, in + src, static_cast<size_t>(inner) * sizeof(E));
      for (int d = nd - 2; d >= 0; --d) {
        if (++idx[d] < shape[d]) break;
        idx[d] = 0;
      }
    }
    return;
  }
  for_each_strided(shape, st, offset, [&](int64_t i, int64_t s) { out[i] = in[s]; });
}
}  // namespace

void strided_gather(const TBlob& in, const TBlob& out, const int64_t* st, int64_t offset) {
  switch (dtype_size(in.dtype)) {
    case 1: gather_typed(in.ptr<uint8_t>(), out.ptr<uint8_t>(), out.shape, st, offset); break;
    case 2: gather_typed(in.ptr<uint16_t>(), out.ptr<uint16_t>(), out.shape, st, offset); break;
    case 4: gather_typed(in.ptr<uint32_t>(), out.ptr<uint32_t>(), out.shape, st, offset); break;
    case 8: gather_typed(in.ptr<uint64_t>(), out.ptr<uint64_t>(), out.shape, st, offset); break;
    default: throw_error(ErrorCode::kInternal, "unexpected element size");
  }
}

void strided_scatter_add(const TBlob& in, const TBlob& out, const int64_t* st, int64_t offset) {
  MXN_FLOAT_SWITCH(out.dtype, T, {
    using A = acc_t<T>;
    const T* a = in.ptr<T>();
    T* o = out.ptr<T>();
    for_each_strided(in.shape, st, offset,
                     [&](int64_t i, int64_t s) { o[s] = T(A(o[s]) + A(a[i])); });
  });
}

int normalize_axis(int64_t axis, int ndim, const Shape& shape, const char* what) {
  if (axis < -ndim || axis >= ndim) {
    throw Error(ErrorCode::kInvalidArg, cat(what, " ", axis, " is out of range for input of shape ",
                                            shape.str(), " (", ndim, " dimension",
                                            ndim == 1 ? "" : "s", ")"))
        .with_axis(static_cast<int>(axis));
  }
  return static_cast<int>(axis < 0 ? axis + ndim : axis);
}

void sum_to_shape(const TBlob& grad_out, const TBlob& grad_in) {
  MXN_FLOAT_SWITCH(grad_in.dtype, T, {
    using S = std::conditional_t<std::is_same_v<T, double>, double, double>;
    const int64_t n_in = grad_in.size();
    std::vector<S> acc(static_cast<size_t>(n_in), S(0));
    const T* g = grad_out.ptr<T>();
    if (grad_out.shape == grad_in.shape) {
      for (int64_t i = 0; i < n_in; ++i) acc[i] = S(acc_t<T>(g[i]));
    } else {
      for_each_broadcast(grad_out.shape, grad_out.shape, grad_in.shape,
                         [&](int64_t i, int64_t, int64_t o) { acc[o] += S(acc_t<T>(g[i])); });
    }
    T* out = grad_in.ptr<T>();
    for (int64_t i = 0; i < n_in; ++i) out[i] = T(static_cast<acc_t<T>>(acc[i]));
  });
}

int64_t read_index(const TBlob& b, int64_t i) {
  int64_t v = 0;
  MXN_DTYPE_SWITCH(b.dtype, T, {
    if constexpr (std::is_same_v<T, half_t>) {
      v = static_cast<int64_t>(static_cast<float>(b.ptr<T>()[i]));
    } else {
      v = static_cast<int64_t>(b.ptr<T>()[i]);
    }
  });
  return v;
}

}  // namespace mxn::ops
