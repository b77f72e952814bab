// Element-wise unary math (exp, log, relu, ...), identity copies and dtype casts, with MXNet's
// names and aliases. float16 computes in float. Transcendental functions are float-only (an
// integer input is a DType error); the rest (abs, sign, rounding, relu, ...) take every dtype.
#include <cmath>

#include "core/ops/elemwise_util.h"

namespace mxn::ops {
namespace {

template <typename T>
constexpr bool is_float_v = std::is_floating_point_v<T> || std::is_same_v<T, half_t>;

// Float-only functors: apply(A) with A float or double.
#define MXN_UNARY_FLOAT(Name, expr)                   \
  struct Name {                                       \
    static constexpr bool kFloatOnly = true;          \
    template <typename A>                             \
    static A apply(A x) {                             \
      return static_cast<A>(expr);                    \
    }                                                 \
  };
MXN_UNARY_FLOAT(Exp, std::exp(x))
MXN_UNARY_FLOAT(Log, std::log(x))
MXN_UNARY_FLOAT(Sqrt, std::sqrt(x))
MXN_UNARY_FLOAT(Rsqrt, A(1) / std::sqrt(x))
MXN_UNARY_FLOAT(Reciprocal, A(1) / x)
MXN_UNARY_FLOAT(Sigmoid, A(1) / (A(1) + std::exp(-x)))
MXN_UNARY_FLOAT(Tanh, std::tanh(x))
MXN_UNARY_FLOAT(Expm1, std::expm1(x))
MXN_UNARY_FLOAT(Log1p, std::log1p(x))
MXN_UNARY_FLOAT(Log2, std::log2(x))
MXN_UNARY_FLOAT(Log10, std::log10(x))
MXN_UNARY_FLOAT(Sin, std::sin(x))
MXN_UNARY_FLOAT(Cos, std::cos(x))
MXN_UNARY_FLOAT(Tan, std::tan(x))
MXN_UNARY_FLOAT(Arcsin, std::asin(x))
MXN_UNARY_FLOAT(Arccos, std::acos(x))
MXN_UNARY_FLOAT(Arctan, std::atan(x))
MXN_UNARY_FLOAT(Sinh, std::sinh(x))
MXN_UNARY_FLOAT(Cosh, std::cosh(x))
MXN_UNARY_FLOAT(Arcsinh, std::asinh(x))
MXN_UNARY_FLOAT(Arccosh, std::acosh(x))
MXN_UNARY_FLOAT(Arctanh, std::atanh(x))
MXN_UNARY_FLOAT(Softsign, x / (A(1) + std::fabs(x)))
MXN_UNARY_FLOAT(Cbrt, std::cbrt(x))
MXN_UNARY_FLOAT(Erf, std::erf(x))
#undef MXN_UNARY_FLOAT

// Functors for every dtype; A is acc_t<T> (bool, integers, float, double).
struct Identity {
  static constexpr bool kFloatOnly = false;
  template <typename A>
  static A apply(A x) { return x; }
};
struct Abs {
  static constexpr bool kFloatOnly = false;
  template <typename A>
  static A apply(A x) {
    if constexpr (std::is_same_v<A, bool> || std::is_unsigned_v<A>) {
      return x;
    } else {
      return x < A(0) ? static_cast<A>(-x) : x;
    }
  }
};
struct Negative {
  static constexpr bool kFloatOnly = false;
  template <typename A>
  static A apply(A x) {
    if constexpr (std::is_same_v<A, bool>) {
      return x;  // -True is truthy
    } else {
      return static_cast<A>(-x);
    }
  }
};
struct Relu {
  static constexpr bool kFloatOnly = false;
  template <typename A>
  static A apply(A x) {
    if constexpr (std::is_floating_point_v<A>) {
      return x > A(0) ? x : (x != x ? x : A(0));  // NaN stays NaN
    } else {
      return x > A(0) ? x : A(0);
    }
  }
};
struct Square {
  static constexpr bool kFloatOnly = false;
  template <typename A>
  static A apply(A x) {
    if constexpr (std::is_same_v<A, bool>) {
      return x;
    } else {
      return static_cast<A>(x * x);
    }
  }
};
struct Sign {
  static constexpr bool kFloatOnly = false;
  template <typename A>
  static A apply(A x) {
    if constexpr (std::is_same_v<A, bool>) {
      return x;
    } else if constexpr (std::is_floating_point_v<A>) {
      return x > A(0) ? A(1) : x < A(0) ? A(-1) : x;  // 0 and NaN map to themselves
    } else {
      return x > A(0) ? A(1) : x < A(0) ? static_cast<A>(-1) : A(0);
    }
  }
};
// Rounding: identity on integers and bool.
#define MXN_UNARY_ROUND(Name, expr)                      \
  struct Name {                                          \
    static constexpr bool kFloatOnly = false;            \
    template <typename A>                                \
    static A apply(A x) {                                \
      if constexpr (std::is_floating_point_v<A>) {       \
        return static_cast<A>(expr);                     \
      } else {                                           \
        return x;                                        \
      }                                                  \
    }                                                    \
  };
MXN_UNARY_ROUND(Floor, std::floor(x))
MXN_UNARY_ROUND(Ceil, std::ceil(x))
MXN_UNARY_ROUND(Round, std::round(x))  // half away from zero
MXN_UNARY_ROUND(Rint, std::nearbyint(x))  // half to even
MXN_UNARY_ROUND(Trunc, std::trunc(x))
#undef MXN_UNARY_ROUND

template <typename OP>
void unary_kernel(const TBlob& in, const TBlob& out) {
  MXN_DTYPE_SWITCH(out.dtype, T, {
    if constexpr (OP::kFloatOnly && !is_float_v<T>) {
      throw_error(ErrorCode::kDType,
                  cat("needs a floating-point input, got ", dtype_name(out.dtype)));
    } else {
      using A = acc_t<T>;
      const T* a = in.ptr<T>();
      T* o = out.ptr<T>();
      const int64_t n = out.size();
      for (int64_t i = 0; i < n; ++i) o[i] = T(OP::apply(A(a[i])));
    }
  });
}

void float_only_type(const OpParams&, const std::vector<DType>& in, std::vector<DType>* out) {
  if (!dtype_is_float(in[0])) {
    throw Error(ErrorCode::kDType, cat("input 0 ('data') has dtype ", dtype_name(in[0]),
                                       "; this operator needs float16, float32 or float64 "
                                       "(cast the input first)"))
        .with_arg(0);
  }
  (*out)[0] = in[0];
}

template <typename OP>
OpDef& unary_op(const char* name, const char* what) {
  OpDef& op = OpRegistry::get()
                  .add(name)
                  .describe(cat(what, OP::kFloatOnly
                                          ? " Element-wise; float16, float32 and float64 only."
                                          : " Element-wise; any dtype, the result keeps it."))
                  .input("data", "Input array.")
                  .shape_fn(same_shape_infer)
                  .cpu([](const OpContext&, const OpParams&, const std::vector<TBlob>& in,
                          const std::vector<TBlob>& out) { unary_kernel<OP>(in[0], out[0]); });
  if (OP::kFloatOnly) op.type_fn(float_only_type);
  return op;
}

}  // namespace

MXN_OP_REGISTRATION = unary_op<Exp>("exp", "Exponential, e**x.");
MXN_OP_REGISTRATION = unary_op<Log>("log", "Natural logarithm.");
MXN_OP_REGISTRATION = unary_op<Sqrt>("sqrt", "Square root.");
MXN_OP_REGISTRATION = unary_op<Rsqrt>("rsqrt", "Reciprocal square root, 1/sqrt(x).");
MXN_OP_REGISTRATION = unary_op<Reciprocal>("reciprocal", "Reciprocal, 1/x.");
MXN_OP_REGISTRATION = unary_op<Sigmoid>("sigmoid", "Logistic sigmoid, 1/(1+exp(-x)).");
MXN_OP_REGISTRATION = unary_op<Tanh>("tanh", "Hyperbolic tangent.");
MXN_OP_REGISTRATION = unary_op<Expm1>("expm1", "exp(x) - 1, accurate near 0.");
MXN_OP_REGISTRATION = unary_op<Log1p>("log1p", "log(1 + x), accurate near 0.");
MXN_OP_REGISTRATION = unary_op<Log2>("log2", "Base-2 logarithm.");
MXN_OP_REGISTRATION = unary_op<Log10>("log10", "Base-10 logarithm.");
MXN_OP_REGISTRATION = unary_op<Sin>("sin", "Sine (radians).");
MXN_OP_REGISTRATION = unary_op<Cos>("cos", "Cosine (radians).");
MXN_OP_REGISTRATION = unary_op<Tan>("tan", "Tangent (radians).");
MXN_OP_REGISTRATION = unary_op<Arcsin>("arcsin", "Inverse sine.");
MXN_OP_REGISTRATION = unary_op<Arccos>("arccos", "Inverse cosine.");
MXN_OP_REGISTRATION = unary_op<Arctan>("arctan", "Inverse tangent.");
MXN_OP_REGISTRATION = unary_op<Sinh>("sinh", "Hyperbolic sine.");
MXN_OP_REGISTRATION = unary_op<Cosh>("cosh", "Hyperbolic cosine.");
MXN_OP_REGISTRATION = unary_op<Arcsinh>("arcsinh", "Inverse hyperbolic sine.");
MXN_OP_REGISTRATION = unary_op<Arccosh>("arccosh", "Inverse hyperbolic cosine.");
MXN_OP_REGISTRATION = unary_op<Arctanh>("arctanh", "Inverse hyperbolic tangent.");
MXN_OP_REGISTRATION = unary_op<Softsign>("softsign", "Softsign, x/(1+|x|).");
MXN_OP_REGISTRATION = unary_op<Cbrt>("cbrt", "Cube root.");
MXN_OP_REGISTRATION = unary_op<Erf>("erf", "Gauss error function.");

MXN_OP_REGISTRATION = unary_op<Abs>("abs", "Absolute value.");
MXN_OP_REGISTRATION = unary_op<Negative>("negative", "Numerical negative, -x.");
MXN_OP_REGISTRATION = unary_op<Relu>("relu", "Rectified linear unit, max(x, 0).");
MXN_OP_REGISTRATION = unary_op<Square>("square", "Square, x*x.");
MXN_OP_REGISTRATION = unary_op<Sign>("sign", "Sign: -1, 0 or 1.");
MXN_OP_REGISTRATION = unary_op<Floor>("floor", "Floor (largest integer <= x).");
MXN_OP_REGISTRATION = unary_op<Ceil>("ceil", "Ceiling (smallest integer >= x).");
MXN_OP_REGISTRATION = unary_op<Round>("round", "Round to nearest, halves away from zero.");
MXN_OP_REGISTRATION = unary_op<Rint>("rint", "Round to nearest, halves to even.");
MXN_OP_REGISTRATION = unary_op<Trunc>("trunc", "Truncate toward zero.");
MXN_OP_REGISTRATION = unary_op<Trunc>("fix", "Round toward zero (same as trunc).");
MXN_OP_REGISTRATION = unary_op<Identity>("_copy", "Copy of the input.").alias("identity");

MXN_REGISTER_OP(Cast)
    .alias("cast")
    .describe("Casts every element to `dtype` (float to integer truncates toward zero; any "
              "non-zero value becomes True for bool).")
    .input("data", "Input array.")
    .required("dtype", ParamType::kDType, "Output dtype.")
    .shape_fn(same_shape_infer)
    .type_fn([](const OpParams& p, const std::vector<DType>&, std::vector<DType>* out) {
      (*out)[0] = p.get_dtype("dtype");
    })
    .cpu([](const OpContext&, const OpParams&, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      convert_elements(in[0].dptr, in[0].dtype, out[0].dptr, out[0].dtype, in[0].size());
    });

}  // namespace mxn::ops
