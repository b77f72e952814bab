// Array creation with MXNet 1.x's internal names: _zeros, _ones, _full, _arange (no inputs;
// placed by `ctx`, typed by `dtype`) and zeros_like / ones_like.
#include <cmath>

#include "core/graph/gradient.h"
#include "core/ops/elemwise_util.h"

namespace mxn::ops {
namespace {

void fill(const TBlob& out, double value) {
  MXN_DTYPE_SWITCH(out.dtype, T, {
    const T v = static_cast<T>(static_cast<acc_t<T>>(value));
    T* o = out.ptr<T>();
    const int64_t n = out.size();
    for (int64_t i = 0; i < n; ++i) o[i] = v;
  });
}

OpDef& init_op(const char* name, const char* doc) {
  return OpRegistry::get()
      .add(name)
      .describe(doc)
      .creation_params("Dtype of the output.");
}

OpDef& like_op(const char* name, const char* doc, double value) {
  return OpRegistry::get()
      .add(name)
      .describe(doc)
      .input("data", "The array whose shape and dtype the output takes.")
      .shape_fn(same_shape_infer)
      .cpu([value](const OpContext&, const OpParams&, const std::vector<TBlob>&,
                   const std::vector<TBlob>& out) { fill(out[0], value); });
}

// _arange: start/stop after MXNet's rule (stop None: the range is [0, start)).
void range_bounds(const OpParams& p, double* start, double* stop, double* step, int64_t* repeat) {
  *step = p.get_float("step");
  *repeat = p.get_int("repeat");
  MXN_CHECK(*step != 0.0, ErrorCode::kInvalidArg, "step must not be 0");
  MXN_CHECK(*repeat > 0, ErrorCode::kInvalidArg, "repeat must be > 0, got ", *repeat);
  if (p.is_none("stop")) {
    MXN_CHECK(!p.get_bool("infer_range"), ErrorCode::kInvalidArg,
              "infer_range=True with stop=None needs the output shape from a graph; give stop "
              "for an imperative call");
    *start = 0.0;
    *stop = p.get_float("start");
  } else {
    *start = p.get_float("start");
    *stop = p.get_float("stop");
  }
}

}  // namespace

MXN_OP_REGISTRATION = init_op("_zeros", "An array of zeros.")
                          .cpu([](const OpContext&, const OpParams&, const std::vector<TBlob>&,
                                  const std::vector<TBlob>& out) { fill(out[0], 0.0); });
MXN_OP_REGISTRATION = init_op("_ones", "An array of ones.")
                          .cpu([](const OpContext&, const OpParams&, const std::vector<TBlob>&,
                                  const std::vector<TBlob>& out) { fill(out[0], 1.0); });
MXN_OP_REGISTRATION =
    init_op("_full", "An array filled with `value` (converted to dtype).")
        .required("value", ParamType::kFloat, "The fill value.")
        .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>&,
                const std::vector<TBlob>& out) { fill(out[0], p.get_float("value")); });

MXN_OP_REGISTRATION =
    like_op("zeros_like", "Zeros with the shape and dtype of the input.", 0.0).grad(grad_zero());
MXN_OP_REGISTRATION =
    like_op("ones_like", "Ones with the shape and dtype of the input.", 1.0).grad(grad_zero());

MXN_REGISTER_OP(_arange)
    .describe(
        "Evenly spaced values: start, start+step, ... up to stop (exclusive), each repeated "
        "`repeat` times; length ceil((stop-start)/step)*repeat (0 when negative). With "
        "stop=None the range is [0, start) (MXNet's rule). Values are computed in float64 "
        "(start + (i / repeat) * step) and converted to dtype.")
    .required("start", ParamType::kFloat, "Start of the range (its stop when stop is None).")
    .nullable("stop", ParamType::kFloat, "End of the range, exclusive.")
    .param("step", ParamType::kFloat, ParamValue::of_float(1.0), "Spacing between values.")
    .param("repeat", ParamType::kInt, ParamValue::of_int(1), "Times each value is repeated.")
    .param("infer_range", ParamType::kBool, ParamValue::of_bool(false),
           "Infer stop from the output shape (symbolic graphs only).")
    .ctx_param()
    .param("dtype", ParamType::kDType, ParamValue::of_dtype(DType::kFloat32),
           "Dtype of the output.")
    .shape_fn([](const OpParams& p, const std::vector<Shape>&, std::vector<Shape>* out) {
      double start, stop, step;
      int64_t repeat;
      range_bounds(p, &start, &stop, &step, &repeat);
      const double n = std::ceil((stop - start) / step);
      MXN_CHECK(std::isfinite(n) && n < 9.0e15, ErrorCode::kInvalidArg, "range [", start, ", ",
                stop, ") with step ", step, " is not finite or too long");
      const int64_t len = n > 0 ? static_cast<int64_t>(n) : 0;
      int64_t total;
      MXN_CHECK(!__builtin_mul_overflow(len, repeat, &total), ErrorCode::kInvalidArg,
                "range length ", len, " times repeat ", repeat, " overflows");
      (*out)[0] = Shape{total};
    })
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>&,
            const std::vector<TBlob>& out) {
      double start, stop, step;
      int64_t repeat;
      range_bounds(p, &start, &stop, &step, &repeat);
      MXN_DTYPE_SWITCH(out[0].dtype, T, {
        T* o = out[0].ptr<T>();
        const int64_t n = out[0].size();
        for (int64_t i = 0; i < n; ++i) {
          const double v = start + static_cast<double>(i / repeat) * step;
          o[i] = static_cast<T>(static_cast<acc_t<T>>(v));
        }
      });
    });

}  // namespace mxn::ops
