// Shared by the element-wise operator families: scalar functors, broadcasting of shapes and
// the loops that apply a functor over same-shape or broadcast inputs.
#pragma once
#include <cmath>
#include <type_traits>

#include "core/op/op.h"

namespace mxn::ops {

// Arithmetic type for T: float16 computes in float.
template <typename T>
using acc_t = std::conditional_t<std::is_same_v<T, half_t>, float, T>;

// ---- binary functors (apply(a, b) on acc_t values) -------------------------------------
struct Plus { template <typename A> static A apply(A a, A b) { return a + b; } };
struct Minus { template <typename A> static A apply(A a, A b) { return a - b; } };
struct Mul {
  template <typename A>
  static A apply(A a, A b) {
    if constexpr (std::is_same_v<A, bool>) {
      return a && b;
    } else {
      return a * b;
    }
  }
};
struct Div {
  template <typename A>
  static A apply(A a, A b) {
    if constexpr (std::is_integral_v<A>) {
      return b == 0 ? A(0) : static_cast<A>(a / b);  // no SIGFPE: x / 0 is 0 for integers
    } else {
      return a / b;
    }
  }
};
struct Mod {  // Python's sign rule: the result takes the sign of the divisor
  template <typename A>
  static A apply(A a, A b) {
    if constexpr (std::is_same_v<A, bool>) {
      return b ? false : false;
    } else if constexpr (std::is_integral_v<A>) {
      if (b == 0) return A(0);
      A r = static_cast<A>(a % b);
      if (r != 0 && ((r < 0) != (b < 0))) r = static_cast<A>(r + b);
      return r;
    } else {
      if (b == A(0)) return A(0);
      A r = std::fmod(a, b);
      if (r != A(0) && ((r < A(0)) != (b < A(0)))) r += b;
      return r;
    }
  }
};
struct Power {
  template <typename A>
  static A apply(A a, A b) {
    return static_cast<A>(std::pow(static_cast<double>(a), static_cast<double>(b)));
  }
};
struct Maximum { template <typename A> static A apply(A a, A b) { return a > b ? a : b; } };
struct Minimum { template <typename A> static A apply(A a, A b) { return a < b ? a : b; } };
struct Hypot {
  template <typename A>
  static A apply(A a, A b) {
    return static_cast<A>(std::hypot(static_cast<double>(a), static_cast<double>(b)));
  }
};
// Comparisons give 1 or 0 in the input dtype (MXNet 1.x semantics).
struct Equal { template <typename A> static A apply(A a, A b) { return A(a == b ? 1 : 0); } };
struct NotEqual { template <typename A> static A apply(A a, A b) { return A(a != b ? 1 : 0); } };
struct Greater { template <typename A> static A apply(A a, A b) { return A(a > b ? 1 : 0); } };
struct GreaterEqual { template <typename A> static A apply(A a, A b) { return A(a >= b ? 1 : 0); } };
struct Lesser { template <typename A> static A apply(A a, A b) { return A(a < b ? 1 : 0); } };
struct LesserEqual { template <typename A> static A apply(A a, A b) { return A(a <= b ? 1 : 0); } };
struct LogicalAnd { template <typename A> static A apply(A a, A b) { return A(a && b ? 1 : 0); } };
struct LogicalOr { template <typename A> static A apply(A a, A b) { return A(a || b ? 1 : 0); } };
struct LogicalXor {
  template <typename A>
  static A apply(A a, A b) { return A((a != A(0)) != (b != A(0)) ? 1 : 0); }
};
// Scalar-on-the-left forms (_rminus_scalar: scalar - x).
template <typename OP>
struct Reversed {
  template <typename A>
  static A apply(A a, A b) { return OP::apply(b, a); }
};

// Right-aligned (NumPy) broadcasting; throws kShape naming both shapes.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* what = "operands");

// Calls f(out_index, a_index, b_index) for every element of `out`, with a and b broadcast.
template <typename F>
void for_each_broadcast(const Shape& out, const Shape& a, const Shape& b, F f) {
  const int nd = out.ndim();
  const int64_t total = out.size();
  if (total == 0) return;
  if (nd == 0) {
    f(0, 0, 0);
    return;
  }
  int64_t sa[kMaxNdim], sb[kMaxNdim];
  int64_t stride_a = 1, stride_b = 1;
  for (int d = nd - 1; d >= 0; --d) {
    const int da = d - (nd - a.ndim()), db = d - (nd - b.ndim());
    const int64_t ea = da >= 0 ? a[da] : 1, eb = db >= 0 ? b[db] : 1;
    sa[d] = ea == 1 ? 0 : stride_a;
    sb[d] = eb == 1 ? 0 : stride_b;
    stride_a *= ea;
    stride_b *= eb;
  }
  const int64_t inner = out[nd - 1];
  const int64_t outer = total / inner;
  const int64_t ia_step = sa[nd - 1], ib_step = sb[nd - 1];
  int64_t idx[kMaxNdim] = {};
  for (int64_t o = 0; o < outer; ++o) {
    int64_t ia = 0, ib = 0;
    for (int d = 0; d < nd - 1; ++d) {
      ia += idx[d] * sa[d];
      ib += idx[d] * sb[d];
    }
    const int64_t base = o * inner;
    for (int64_t j = 0; j < inner; ++j) f(base + j, ia + j * ia_step, ib + j * ib_step);
    for (int d = nd - 2; d >= 0; --d) {
      if (++idx[d] < out[d]) break;
      idx[d] = 0;
    }
  }
}

// out = OP(lhs, rhs) with broadcasting (or same shape); all three share one dtype.
template <typename OP>
void binary_kernel(const TBlob& lhs, const TBlob& rhs, const TBlob& out) {
  MXN_DTYPE_SWITCH(out.dtype, T, {
    using A = acc_t<T>;
    const T* a = lhs.ptr<T>();
    const T* b = rhs.ptr<T>();
    T* o = out.ptr<T>();
    if (lhs.shape == rhs.shape) {
      const int64_t n = out.size();
      for (int64_t i = 0; i < n; ++i) o[i] = T(OP::apply(A(a[i]), A(b[i])));
    } else {
      for_each_broadcast(out.shape, lhs.shape, rhs.shape, [&](int64_t i, int64_t ia, int64_t ib) {
        o[i] = T(OP::apply(A(a[ia]), A(b[ib])));
      });
    }
  });
}

// out = OP(in, scalar) element-wise; the scalar is converted to the array's dtype first.
template <typename OP>
void scalar_kernel(const TBlob& in, double scalar, const TBlob& out) {
  MXN_DTYPE_SWITCH(out.dtype, T, {
    using A = acc_t<T>;
    const T* a = in.ptr<T>();
    T* o = out.ptr<T>();
    const A s = static_cast<A>(scalar);
    const int64_t n = out.size();
    for (int64_t i = 0; i < n; ++i) o[i] = T(OP::apply(A(a[i]), s));
  });
}

// Shape and type inference shared by the families.
void same_shape_infer(const OpParams&, const std::vector<Shape>& in, std::vector<Shape>* out);
void broadcast_infer(const OpParams&, const std::vector<Shape>& in, std::vector<Shape>* out);

}  // namespace mxn::ops
