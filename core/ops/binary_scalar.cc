// Array-with-scalar arithmetic and comparison (_plus_scalar, _rminus_scalar, ...): what the
// front ends call for `x + 2`, `2 - x`, `x > 0`.
#include "core/ops/elemwise_util.h"

namespace mxn::ops {
namespace {

template <typename OP>
OpDef& scalar_op(const char* name, const char* what) {
  return OpRegistry::get()
      .add(name)
      .describe(cat("Element-wise ", what, " with a scalar; the result has the array's dtype."))
      .input("data", "Input array.")
      .param("scalar", ParamType::kFloat, ParamValue::of_float(1.0), "Scalar operand.")
      .shape_fn(same_shape_infer)
      .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
              const std::vector<TBlob>& out) {
        scalar_kernel<OP>(in[0], p.get_float("scalar"), out[0]);
      });
}

}  // namespace

MXN_OP_REGISTRATION = scalar_op<Plus>("_plus_scalar", "x + scalar").alias("_PlusScalar");
MXN_OP_REGISTRATION = scalar_op<Minus>("_minus_scalar", "x - scalar").alias("_MinusScalar");
MXN_OP_REGISTRATION = scalar_op<Reversed<Minus>>("_rminus_scalar", "scalar - x").alias("_RMinusScalar");
MXN_OP_REGISTRATION = scalar_op<Mul>("_mul_scalar", "x * scalar").alias("_MulScalar");
MXN_OP_REGISTRATION = scalar_op<Div>("_div_scalar", "x / scalar").alias("_DivScalar");
MXN_OP_REGISTRATION = scalar_op<Reversed<Div>>("_rdiv_scalar", "scalar / x").alias("_RDivScalar");
MXN_OP_REGISTRATION = scalar_op<Mod>("_mod_scalar", "x % scalar").alias("_ModScalar");
MXN_OP_REGISTRATION = scalar_op<Reversed<Mod>>("_rmod_scalar", "scalar % x").alias("_RModScalar");
MXN_OP_REGISTRATION = scalar_op<Power>("_power_scalar", "x ** scalar").alias("_PowerScalar");
MXN_OP_REGISTRATION = scalar_op<Reversed<Power>>("_rpower_scalar", "scalar ** x").alias("_RPowerScalar");
MXN_OP_REGISTRATION = scalar_op<Maximum>("_maximum_scalar", "max(x, scalar)").alias("_MaximumScalar");
MXN_OP_REGISTRATION = scalar_op<Minimum>("_minimum_scalar", "min(x, scalar)").alias("_MinimumScalar");
MXN_OP_REGISTRATION = scalar_op<Equal>("_equal_scalar", "x == scalar (1 or 0)").alias("_EqualScalar");
MXN_OP_REGISTRATION = scalar_op<NotEqual>("_not_equal_scalar", "x != scalar (1 or 0)").alias("_NotEqualScalar");
MXN_OP_REGISTRATION = scalar_op<Greater>("_greater_scalar", "x > scalar (1 or 0)").alias("_GreaterScalar");
MXN_OP_REGISTRATION = scalar_op<GreaterEqual>("_greater_equal_scalar", "x >= scalar (1 or 0)").alias("_GreaterEqualScalar");
MXN_OP_REGISTRATION = scalar_op<Lesser>("_lesser_scalar", "x < scalar (1 or 0)").alias("_LesserScalar");
MXN_OP_REGISTRATION = scalar_op<LesserEqual>("_lesser_equal_scalar", "x <= scalar (1 or 0)").alias("_LesserEqualScalar");

}  // namespace mxn::ops
