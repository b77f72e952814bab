// Array-with-scalar arithmetic and comparison (_plus_scalar, _rminus_scalar, ...): what the
// front ends call for `x + 2`, `2 - x`, `x > 0`.
#include "core/graph/gradient.h"
#include "core/ops/elemwise_util.h"

namespace mxn::ops {
namespace {

// d(x op s)/dx as functors of (x, s).
struct DOne { template <typename A> static A apply(A, A) { return A(1); } };
struct DNegOne { template <typename A> static A apply(A, A) { return A(-1); } };
struct DScale { template <typename A> static A apply(A, A s) { return s; } };
struct DInvScale { template <typename A> static A apply(A, A s) { return A(1) / s; } };
struct DRDiv { template <typename A> static A apply(A x, A s) { return -s / (x * x); } };
struct DPow {
  template <typename A>
  static A apply(A x, A s) {
    return static_cast<A>(static_cast<double>(s) * std::pow(static_cast<double>(x), static_cast<double>(s) - 1));
  }
};
struct DRPow {
  template <typename A>
  static A apply(A x, A s) {
    const double b = s;
    return static_cast<A>(std::pow(b, static_cast<double>(x)) * std::log(b));
  }
};
struct DRMod {
  template <typename A>
  static A apply(A x, A s) {
    return static_cast<A>(-std::floor(static_cast<double>(s) / static_cast<double>(x)));
  }
};
struct DMaxS { template <typename A> static A apply(A x, A s) { return A(x >= s ? 1 : 0); } };
struct DMinS { template <typename A> static A apply(A x, A s) { return A(x <= s ? 1 : 0); } };

// grad = ograd * D(x, scalar)
template <typename D>
OpDef& scalar_backward_op(const char* forward) {
  return OpRegistry::get()
      .add(std::string("_backward") + forward)
      .backward_for(forward)
      .input("ograd")
      .input("data")
      .shape_fn(same_shape_infer)
      .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
              const std::vector<TBlob>& out) {
        MXN_DTYPE_SWITCH(out[0].dtype, T, {
          using A = acc_t<T>;
          const T* g = in[0].ptr<T>();
          const T* x = in[1].ptr<T>();
          T* o = out[0].ptr<T>();
          const A s = static_cast<A>(p.get_float("scalar"));
          const int64_t n = out[0].size();
          for (int64_t i = 0; i < n; ++i) o[i] = T(A(g[i]) * D::apply(A(x[i]), s));
        });
      });
}

template <typename D>
GradientFn scalar_grad(const char* forward) {
  scalar_backward_op<D>(forward);
  const std::string backward = std::string("_backward") + forward;
  return [backward](const NodePtr& n, const std::vector<NodeEntry>& og) {
    return std::vector<NodeEntry>{
        NodeEntry{make_backward_node(backward, n, {og[0], n->inputs[0]}), 0}};
  };
}

template <typename OP>
OpDef& scalar_op(const char* name, const char* what) {
  return OpRegistry::get()
      .add(name)
      .describe(cat("Element-wise ", what, " with a scalar; the result has the array's dtype."))
      .input("data", "Input array.")
      .param("scalar", ParamType::kFloat, ParamValue::of_float(1.0), "Scalar operand.")
      .inplace(0)
      .shape_fn(same_shape_infer)
      .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
              const std::vector<TBlob>& out) {
        scalar_kernel<OP>(in[0], p.get_float("scalar"), out[0]);
      });
}

}  // namespace

MXN_OP_REGISTRATION = scalar_op<Plus>("_plus_scalar", "x + scalar").alias("_PlusScalar").grad(scalar_grad<DOne>("_plus_scalar"));
MXN_OP_REGISTRATION = scalar_op<Minus>("_minus_scalar", "x - scalar").alias("_MinusScalar").grad(scalar_grad<DOne>("_minus_scalar"));
MXN_OP_REGISTRATION = scalar_op<Reversed<Minus>>("_rminus_scalar", "scalar - x").alias("_RMinusScalar").grad(scalar_grad<DNegOne>("_rminus_scalar"));
MXN_OP_REGISTRATION = scalar_op<Mul>("_mul_scalar", "x * scalar").alias("_MulScalar").grad(scalar_grad<DScale>("_mul_scalar"));
MXN_OP_REGISTRATION = scalar_op<Div>("_div_scalar", "x / scalar").alias("_DivScalar").grad(scalar_grad<DInvScale>("_div_scalar"));
MXN_OP_REGISTRATION = scalar_op<Reversed<Div>>("_rdiv_scalar", "scalar / x").alias("_RDivScalar").grad(scalar_grad<DRDiv>("_rdiv_scalar"));
MXN_OP_REGISTRATION = scalar_op<Mod>("_mod_scalar", "x % scalar").alias("_ModScalar").grad(scalar_grad<DOne>("_mod_scalar"));
MXN_OP_REGISTRATION = scalar_op<Reversed<Mod>>("_rmod_scalar", "scalar % x").alias("_RModScalar").grad(scalar_grad<DRMod>("_rmod_scalar"));
MXN_OP_REGISTRATION = scalar_op<Power>("_power_scalar", "x ** scalar").alias("_PowerScalar").grad(scalar_grad<DPow>("_power_scalar"));
MXN_OP_REGISTRATION = scalar_op<Reversed<Power>>("_rpower_scalar", "scalar ** x").alias("_RPowerScalar").grad(scalar_grad<DRPow>("_rpower_scalar"));
MXN_OP_REGISTRATION = scalar_op<Maximum>("_maximum_scalar", "max(x, scalar)").alias("_MaximumScalar").grad(scalar_grad<DMaxS>("_maximum_scalar"));
MXN_OP_REGISTRATION = scalar_op<Minimum>("_minimum_scalar", "min(x, scalar)").alias("_MinimumScalar").grad(scalar_grad<DMinS>("_minimum_scalar"));
MXN_OP_REGISTRATION = scalar_op<Equal>("_equal_scalar", "x == scalar (1 or 0)").alias("_EqualScalar").grad(grad_zero());
MXN_OP_REGISTRATION = scalar_op<NotEqual>("_not_equal_scalar", "x != scalar (1 or 0)").alias("_NotEqualScalar").grad(grad_zero());
MXN_OP_REGISTRATION = scalar_op<Greater>("_greater_scalar", "x > scalar (1 or 0)").alias("_GreaterScalar").grad(grad_zero());
MXN_OP_REGISTRATION = scalar_op<GreaterEqual>("_greater_equal_scalar", "x >= scalar (1 or 0)").alias("_GreaterEqualScalar").grad(grad_zero());
MXN_OP_REGISTRATION = scalar_op<Lesser>("_lesser_scalar", "x < scalar (1 or 0)").alias("_LesserScalar").grad(grad_zero());
MXN_OP_REGISTRATION = scalar_op<LesserEqual>("_lesser_equal_scalar", "x <= scalar (1 or 0)").alias("_LesserEqualScalar").grad(grad_zero());

}  // namespace mxn::ops
