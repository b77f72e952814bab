// Element-wise unary math (exp, log, relu, ...), identity copies and dtype casts, with MXNet's
// names and aliases. float16 computes in float. Transcendental functions are float-only (an
// integer input is a DType error); the rest (abs, sign, rounding, relu, ...) take every dtype.
// tanh, log10, arccos, cbrt, erf and gamma come from core/base/portable_math.h (C libraries
// disagree on their last bits; these give the same bytes on every target).
#include <cmath>

#include "core/base/portable_math.h"
#include "core/graph/gradient.h"
#include "core/ops/tensor_util.h"

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
MXN_UNARY_FLOAT(Tanh, pmath::tanh(x))
MXN_UNARY_FLOAT(Expm1, std::expm1(x))
MXN_UNARY_FLOAT(Log1p, std::log1p(x))
MXN_UNARY_FLOAT(Log2, std::log2(x))
MXN_UNARY_FLOAT(Log10, pmath::log10(x))
MXN_UNARY_FLOAT(Sin, std::sin(x))
MXN_UNARY_FLOAT(Cos, std::cos(x))
MXN_UNARY_FLOAT(Tan, std::tan(x))
MXN_UNARY_FLOAT(Arcsin, std::asin(x))
MXN_UNARY_FLOAT(Arccos, pmath::acos(x))
MXN_UNARY_FLOAT(Arctan, std::atan(x))
MXN_UNARY_FLOAT(Sinh, std::sinh(x))
MXN_UNARY_FLOAT(Cosh, std::cosh(x))
MXN_UNARY_FLOAT(Arcsinh, std::asinh(x))
MXN_UNARY_FLOAT(Arccosh, std::acosh(x))
MXN_UNARY_FLOAT(Arctanh, std::atanh(x))
MXN_UNARY_FLOAT(Softsign, x / (A(1) + std::fabs(x)))
MXN_UNARY_FLOAT(Cbrt, pmath::cbrt(x))
MXN_UNARY_FLOAT(Erf, pmath::erf(x))
MXN_UNARY_FLOAT(Gamma, pmath::tgamma(x))
MXN_UNARY_FLOAT(Gammaln, std::lgamma(x))
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
                  .inplace(0)
                  .shape_fn(same_shape_infer)
                  .cpu([](const OpContext&, const OpParams&, const std::vector<TBlob>& in,
                          const std::vector<TBlob>& out) { unary_kernel<OP>(in[0], out[0]); });
  if (OP::kFloatOnly) op.type_fn(float_only_type);
  return op;
}

// ---- gradients ---------------------------------------------------------------------------
// psi(x), the derivative of lgamma: reflection for x < 0, recurrence up to x >= 6, then the
// asymptotic series (|error| < 1e-12 there).
double digamma(double x) {
  if (x <= 0 && x == std::floor(x)) return std::nan("");
  constexpr double kPi = 3.14159265358979323846;
  if (x < 0) return digamma(1 - x) - kPi / std::tan(kPi * x);
  double r = 0;
  while (x < 6) {
    r -= 1 / x;
    x += 1;
  }
  const double f = 1 / (x * x);
  return r + std::log(x) - 0.5 / x -
         f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f * (1.0 / 132)))));
}

// dy/dx from the input x and the output y, in double.
#define MXN_UNARY_DERIV(Name, expr) \
  struct Name {                     \
    static double d(double x, double y) { \
      (void)x;                      \
      (void)y;                      \
      return (expr);                \
    }                               \
  };
constexpr double kLn2 = 0.69314718055994530942, kLn10 = 2.30258509299404568402;
constexpr double kTwoOverSqrtPi = 1.12837916709551257390;
MXN_UNARY_DERIV(DExp, y)
MXN_UNARY_DERIV(DLog, 1 / x)
MXN_UNARY_DERIV(DSqrt, 0.5 / y)
MXN_UNARY_DERIV(DRsqrt, -0.5 * y * y * y)
MXN_UNARY_DERIV(DReciprocal, -y * y)
MXN_UNARY_DERIV(DSigmoid, y * (1 - y))
MXN_UNARY_DERIV(DTanh, 1 - y * y)
MXN_UNARY_DERIV(DExpm1, y + 1)
MXN_UNARY_DERIV(DLog1p, 1 / (1 + x))
MXN_UNARY_DERIV(DLog2, 1 / (x * kLn2))
MXN_UNARY_DERIV(DLog10, 1 / (x * kLn10))
MXN_UNARY_DERIV(DSin, std::cos(x))
MXN_UNARY_DERIV(DCos, -std::sin(x))
MXN_UNARY_DERIV(DTan, 1 + y * y)
MXN_UNARY_DERIV(DArcsin, 1 / std::sqrt(1 - x * x))
MXN_UNARY_DERIV(DArccos, -1 / std::sqrt(1 - x * x))
MXN_UNARY_DERIV(DArctan, 1 / (1 + x * x))
MXN_UNARY_DERIV(DSinh, std::cosh(x))
MXN_UNARY_DERIV(DCosh, std::sinh(x))
MXN_UNARY_DERIV(DArcsinh, 1 / std::sqrt(x * x + 1))
MXN_UNARY_DERIV(DArccosh, 1 / std::sqrt(x * x - 1))
MXN_UNARY_DERIV(DArctanh, 1 / (1 - x * x))
MXN_UNARY_DERIV(DSoftsign, 1 / ((1 + std::fabs(x)) * (1 + std::fabs(x))))
MXN_UNARY_DERIV(DCbrt, 1 / (3 * y * y))
MXN_UNARY_DERIV(DErf, kTwoOverSqrtPi * std::exp(-x * x))
MXN_UNARY_DERIV(DGamma, y * digamma(x))
MXN_UNARY_DERIV(DGammaln, digamma(x))
MXN_UNARY_DERIV(DAbs, x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0)
MXN_UNARY_DERIV(DNegative, -1.0)
MXN_UNARY_DERIV(DRelu, x > 0 ? 1.0 : 0.0)
MXN_UNARY_DERIV(DSquare, 2 * x)
#undef MXN_UNARY_DERIV

// _backward_<op>(ograd, data, output) -> ograd * f'(data): float dtypes (an integer input has
// no gradient).
template <typename D>
void unary_backward(const OpContext&, const OpParams&, const std::vector<TBlob>& in,
                    const std::vector<TBlob>& out) {
  MXN_FLOAT_SWITCH(out[0].dtype, T, {
    const T* g = in[0].ptr<T>();
    const T* x = in[1].ptr<T>();
    const T* y = in[2].ptr<T>();
    T* o = out[0].ptr<T>();
    const int64_t n = out[0].size();
    for (int64_t i = 0; i < n; ++i) {
      const double gi = static_cast<double>(acc_t<T>(g[i]));
      o[i] = T(static_cast<acc_t<T>>(
          gi * D::d(static_cast<double>(acc_t<T>(x[i])), static_cast<double>(acc_t<T>(y[i])))));
    }
  });
}

void like_input1_shape(const OpParams&, const std::vector<Shape>& in, std::vector<Shape>* out) {
  (*out)[0] = in[1];
}
void like_input1_type(const OpParams&, const std::vector<DType>& in, std::vector<DType>* out) {
  (*out)[0] = in[1];
}

// Registers _backward_<fwd> and attaches it as fwd's gradient.
template <typename D>
OpDef& with_grad(OpDef& fwd) {
  const std::string bname = "_backward_" + fwd.name;
  OpRegistry::get()
      .add(bname)
      .describe(cat("Gradient of ", fwd.name, ": ograd * d", fwd.name, "/dx."))
      .input("ograd")
      .input("data")
      .input("output")
      .backward_for(fwd.name)
      .shape_fn(like_input1_shape)
      .type_fn(like_input1_type)
      .cpu(unary_backward<D>);
  return fwd.grad(grad_by_backward_op(bname, true, true));
}

}  // namespace

MXN_OP_REGISTRATION = with_grad<DExp>(unary_op<Exp>("exp", "Exponential, e**x."));
MXN_OP_REGISTRATION = with_grad<DLog>(unary_op<Log>("log", "Natural logarithm."));
MXN_OP_REGISTRATION = with_grad<DSqrt>(unary_op<Sqrt>("sqrt", "Square root."));
MXN_OP_REGISTRATION = with_grad<DRsqrt>(unary_op<Rsqrt>("rsqrt", "Reciprocal square root, 1/sqrt(x)."));
MXN_OP_REGISTRATION = with_grad<DReciprocal>(unary_op<Reciprocal>("reciprocal", "Reciprocal, 1/x."));
MXN_OP_REGISTRATION = with_grad<DSigmoid>(unary_op<Sigmoid>("sigmoid", "Logistic sigmoid, 1/(1+exp(-x))."));
MXN_OP_REGISTRATION = with_grad<DTanh>(unary_op<Tanh>("tanh", "Hyperbolic tangent."));
MXN_OP_REGISTRATION = with_grad<DExpm1>(unary_op<Expm1>("expm1", "exp(x) - 1, accurate near 0."));
MXN_OP_REGISTRATION = with_grad<DLog1p>(unary_op<Log1p>("log1p", "log(1 + x), accurate near 0."));
MXN_OP_REGISTRATION = with_grad<DLog2>(unary_op<Log2>("log2", "Base-2 logarithm."));
MXN_OP_REGISTRATION = with_grad<DLog10>(unary_op<Log10>("log10", "Base-10 logarithm."));
MXN_OP_REGISTRATION = with_grad<DSin>(unary_op<Sin>("sin", "Sine (radians)."));
MXN_OP_REGISTRATION = with_grad<DCos>(unary_op<Cos>("cos", "Cosine (radians)."));
MXN_OP_REGISTRATION = with_grad<DTan>(unary_op<Tan>("tan", "Tangent (radians)."));
MXN_OP_REGISTRATION = with_grad<DArcsin>(unary_op<Arcsin>("arcsin", "Inverse sine."));
MXN_OP_REGISTRATION = with_grad<DArccos>(unary_op<Arccos>("arccos", "Inverse cosine."));
MXN_OP_REGISTRATION = with_grad<DArctan>(unary_op<Arctan>("arctan", "Inverse tangent."));
MXN_OP_REGISTRATION = with_grad<DSinh>(unary_op<Sinh>("sinh", "Hyperbolic sine."));
MXN_OP_REGISTRATION = with_grad<DCosh>(unary_op<Cosh>("cosh", "Hyperbolic cosine."));
MXN_OP_REGISTRATION = with_grad<DArcsinh>(unary_op<Arcsinh>("arcsinh", "Inverse hyperbolic sine."));
MXN_OP_REGISTRATION = with_grad<DArccosh>(unary_op<Arccosh>("arccosh", "Inverse hyperbolic cosine."));
MXN_OP_REGISTRATION = with_grad<DArctanh>(unary_op<Arctanh>("arctanh", "Inverse hyperbolic tangent."));
MXN_OP_REGISTRATION = with_grad<DSoftsign>(unary_op<Softsign>("softsign", "Softsign, x/(1+|x|)."));
MXN_OP_REGISTRATION = with_grad<DCbrt>(unary_op<Cbrt>("cbrt", "Cube root."));
MXN_OP_REGISTRATION = with_grad<DErf>(unary_op<Erf>("erf", "Gauss error function."));

MXN_OP_REGISTRATION = with_grad<DAbs>(unary_op<Abs>("abs", "Absolute value."));
MXN_OP_REGISTRATION = with_grad<DNegative>(unary_op<Negative>("negative", "Numerical negative, -x."));
MXN_OP_REGISTRATION = with_grad<DRelu>(unary_op<Relu>("relu", "Rectified linear unit, max(x, 0)."));
MXN_OP_REGISTRATION = with_grad<DSquare>(unary_op<Square>("square", "Square, x*x."));
MXN_OP_REGISTRATION = unary_op<Sign>("sign", "Sign: -1, 0 or 1.").grad(grad_zero());
MXN_OP_REGISTRATION = unary_op<Floor>("floor", "Floor (largest integer <= x).").grad(grad_zero());
MXN_OP_REGISTRATION = unary_op<Ceil>("ceil", "Ceiling (smallest integer >= x).").grad(grad_zero());
MXN_OP_REGISTRATION = unary_op<Round>("round", "Round to nearest, halves away from zero.").grad(grad_zero());
MXN_OP_REGISTRATION = unary_op<Rint>("rint", "Round to nearest, halves to even.").grad(grad_zero());
MXN_OP_REGISTRATION = unary_op<Trunc>("trunc", "Truncate toward zero.").grad(grad_zero());
MXN_OP_REGISTRATION = unary_op<Trunc>("fix", "Round toward zero (same as trunc).").grad(grad_zero());
MXN_OP_REGISTRATION =
    unary_op<Identity>("_copy", "Copy of the input.").alias("identity").grad(grad_pass_through());
MXN_OP_REGISTRATION = with_grad<DGamma>(unary_op<Gamma>("gamma", "The gamma function."));
MXN_OP_REGISTRATION = with_grad<DGammaln>(
    unary_op<Gammaln>("gammaln", "Natural logarithm of the absolute value of the gamma function."));

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
    })
    .grad([](const NodePtr& node, const std::vector<NodeEntry>& ograds) {
      return std::vector<NodeEntry>{
          NodeEntry{make_backward_node("_backward_Cast", node, {ograds[0], node->inputs[0]}), 0}};
    });

MXN_REGISTER_OP(_backward_Cast)
    .describe("Gradient of Cast: the output gradient converted back to the input's dtype.")
    .input("ograd")
    .input("data")
    .backward_for("Cast")
    .shape_fn(like_input1_shape)
    .type_fn(like_input1_type)
    .cpu([](const OpContext&, const OpParams&, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      convert_elements(in[0].dptr, in[0].dtype, out[0].dptr, out[0].dtype, in[0].size());
    });

}  // namespace mxn::ops
