// Binary arithmetic and comparison: broadcast_* (NumPy broadcasting) and elemwise_* (equal
// shapes), with MXNet's names and aliases.
#include "core/ops/elemwise_util.h"

namespace mxn::ops {
namespace {

template <typename OP>
ComputeFn binary_compute() {
  return [](const OpContext&, const OpParams&, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) { binary_kernel<OP>(in[0], in[1], out[0]); };
}

template <typename OP>
OpDef& broadcast_op(const char* name, const char* what) {
  return OpRegistry::get()
      .add(name)
      .describe(cat("Element-wise ", what, " of two arrays with broadcasting (shapes are "
                    "aligned from the right; dimensions of size 1 stretch)."))
      .input("lhs", "First input.")
      .input("rhs", "Second input.")
      .shape_fn(broadcast_infer)
      .cpu(binary_compute<OP>());
}

template <typename OP>
OpDef& elemwise_op(const char* name, const char* what) {
  return OpRegistry::get()
      .add(name)
      .describe(cat("Element-wise ", what, " of two arrays of equal shape."))
      .input("lhs", "First input.")
      .input("rhs", "Second input.")
      .shape_fn(same_shape_infer)
      .cpu(binary_compute<OP>());
}

}  // namespace

MXN_OP_REGISTRATION = broadcast_op<Plus>("broadcast_add", "sum").alias("broadcast_plus");
MXN_OP_REGISTRATION = broadcast_op<Minus>("broadcast_sub", "difference").alias("broadcast_minus");
MXN_OP_REGISTRATION = broadcast_op<Mul>("broadcast_mul", "product");
MXN_OP_REGISTRATION = broadcast_op<Div>("broadcast_div", "quotient (integer x / 0 gives 0)");
MXN_OP_REGISTRATION = broadcast_op<Mod>("broadcast_mod", "modulo (sign of the divisor)");
MXN_OP_REGISTRATION = broadcast_op<Power>("broadcast_power", "power");
MXN_OP_REGISTRATION = broadcast_op<Maximum>("broadcast_maximum", "maximum");
MXN_OP_REGISTRATION = broadcast_op<Minimum>("broadcast_minimum", "minimum");
MXN_OP_REGISTRATION = broadcast_op<Hypot>("broadcast_hypot", "hypotenuse");
MXN_OP_REGISTRATION = broadcast_op<Equal>("broadcast_equal", "== (1 or 0 in the input dtype)");
MXN_OP_REGISTRATION = broadcast_op<NotEqual>("broadcast_not_equal", "!= (1 or 0)");
MXN_OP_REGISTRATION = broadcast_op<Greater>("broadcast_greater", "> (1 or 0)");
MXN_OP_REGISTRATION = broadcast_op<GreaterEqual>("broadcast_greater_equal", ">= (1 or 0)");
MXN_OP_REGISTRATION = broadcast_op<Lesser>("broadcast_lesser", "< (1 or 0)");
MXN_OP_REGISTRATION = broadcast_op<LesserEqual>("broadcast_lesser_equal", "<= (1 or 0)");
MXN_OP_REGISTRATION = broadcast_op<LogicalAnd>("broadcast_logical_and", "logical and (1 or 0)");
MXN_OP_REGISTRATION = broadcast_op<LogicalOr>("broadcast_logical_or", "logical or (1 or 0)");
MXN_OP_REGISTRATION = broadcast_op<LogicalXor>("broadcast_logical_xor", "logical xor (1 or 0)");

MXN_OP_REGISTRATION =
    elemwise_op<Plus>("elemwise_add", "sum").alias("_plus").alias("_Plus").alias("_add");
MXN_OP_REGISTRATION =
    elemwise_op<Minus>("elemwise_sub", "difference").alias("_minus").alias("_Minus").alias("_sub");
MXN_OP_REGISTRATION = elemwise_op<Mul>("elemwise_mul", "product").alias("_mul").alias("_Mul");
MXN_OP_REGISTRATION = elemwise_op<Div>("elemwise_div", "quotient").alias("_div").alias("_Div");
MXN_OP_REGISTRATION = elemwise_op<Mod>("_mod", "modulo").alias("_Mod");
MXN_OP_REGISTRATION = elemwise_op<Power>("_power", "power").alias("_Power");
MXN_OP_REGISTRATION = elemwise_op<Maximum>("_maximum", "maximum").alias("_Maximum");
MXN_OP_REGISTRATION = elemwise_op<Minimum>("_minimum", "minimum").alias("_Minimum");
MXN_OP_REGISTRATION = elemwise_op<Hypot>("_hypot", "hypotenuse");
MXN_OP_REGISTRATION = elemwise_op<Equal>("_equal", "== (1 or 0)");
MXN_OP_REGISTRATION = elemwise_op<NotEqual>("_not_equal", "!= (1 or 0)");
MXN_OP_REGISTRATION = elemwise_op<Greater>("_greater", "> (1 or 0)");
MXN_OP_REGISTRATION = elemwise_op<GreaterEqual>("_greater_equal", ">= (1 or 0)");
MXN_OP_REGISTRATION = elemwise_op<Lesser>("_lesser", "< (1 or 0)");
MXN_OP_REGISTRATION = elemwise_op<LesserEqual>("_lesser_equal", "<= (1 or 0)");

}  // namespace mxn::ops
