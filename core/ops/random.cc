// Random sampling with MXNet 1.x names (_random_uniform, _random_normal). Counter-based
// (Philox4x32-10, core/base/philox.h): the invoke layer reserves one counter per output
// element, and element i is a function of (seed, counter + i) only, so the numbers do not
// depend on threads, devices or the order kernels run in.
#include <cmath>

#include "core/base/philox.h"
#include "core/ops/elemwise_util.h"

namespace mxn::ops {
namespace {

void float_dtype_type(const OpParams& p, const std::vector<DType>&, std::vector<DType>* out) {
  const DType t = p.get_dtype("dtype");
  MXN_CHECK(dtype_is_float(t), ErrorCode::kDType, "dtype must be float16, float32 or float64, got ",
            dtype_name(t));
  (*out)[0] = t;
}

OpDef& random_op(const char* name) {
  return OpRegistry::get()
      .add(name)
      .creation_params("Dtype of the output (float16, float32 or float64).")
      .type_fn(float_dtype_type)
      .random();
}

// Fills out[i] = f(words of block counter + i), in the output's float dtype.
template <typename F>
void sample(const OpContext& ctx, const TBlob& out, F f) {
  MXN_DTYPE_SWITCH(out.dtype, T, {
    if constexpr (std::is_floating_point_v<T> || std::is_same_v<T, half_t>) {
      T* o = out.ptr<T>();
      const int64_t n = out.size();
      uint32_t w[4];
      for (int64_t i = 0; i < n; ++i) {
        Philox4x32::at(ctx.seed, ctx.counter + static_cast<uint64_t>(i), w);
        o[i] = T(static_cast<acc_t<T>>(f(w)));
      }
    } else {
      throw_error(ErrorCode::kDType, "random sampling needs a floating-point dtype");
    }
  });
}

}  // namespace

MXN_OP_REGISTRATION =
    random_op("_random_uniform")
        .alias("random_uniform")
        .alias("uniform")
        .describe("Samples a uniform distribution on [low, high) (float16/float32 rounding "
                  "may give exactly high). Element i uses Philox block (seed, counter + i): "
                  "53 bits of words 0-1.")
        .param("low", ParamType::kFloat, ParamValue::of_float(0.0), "Lower bound.")
        .param("high", ParamType::kFloat, ParamValue::of_float(1.0), "Upper bound (> low).")
        .shape_fn([](const OpParams& p, const std::vector<Shape>&, std::vector<Shape>* out) {
          const double low = p.get_float("low"), high = p.get_float("high");
          MXN_CHECK(low <= high, ErrorCode::kInvalidArg, "low (", low,
                    ") must be <= high (", high, ")");
          const Shape& s = p.get_shape("shape");
          (*out)[0] = Shape::from_dims(s.data(), s.ndim(), "shape");
        })
        .cpu([](const OpContext& ctx, const OpParams& p, const std::vector<TBlob>&,
                const std::vector<TBlob>& out) {
          const double low = p.get_float("low"), high = p.get_float("high");
          sample(ctx, out[0], [low, high](const uint32_t* w) {
            return low + (high - low) * philox_uniform53(w[0], w[1]);
          });
        });

MXN_OP_REGISTRATION =
    random_op("_random_normal")
        .alias("random_normal")
        .alias("normal")
        .describe("Samples a normal distribution N(loc, scale**2). Element i uses Philox block "
                  "(seed, counter + i): Box-Muller with u1 from words 0-1 (in (0, 1]) and u2 "
                  "from words 2-3, out = loc + scale * sqrt(-2 ln u1) cos(2 pi u2).")
        .param("loc", ParamType::kFloat, ParamValue::of_float(0.0), "Mean.")
        .param("scale", ParamType::kFloat, ParamValue::of_float(1.0),
               "Standard deviation (>= 0).")
        .shape_fn([](const OpParams& p, const std::vector<Shape>&, std::vector<Shape>* out) {
          const double scale = p.get_float("scale");
          MXN_CHECK(scale >= 0.0, ErrorCode::kInvalidArg, "scale (", scale, ") must be >= 0");
          const Shape& s = p.get_shape("shape");
          (*out)[0] = Shape::from_dims(s.data(), s.ndim(), "shape");
        })
        .cpu([](const OpContext& ctx, const OpParams& p, const std::vector<TBlob>&,
                const std::vector<TBlob>& out) {
          const double loc = p.get_float("loc"), scale = p.get_float("scale");
          sample(ctx, out[0], [loc, scale](const uint32_t* w) {
            constexpr double kTwoPi = 6.283185307179586476925286766559;
            const double u1 = philox_uniform53_open0(w[0], w[1]);
            const double u2 = philox_uniform53(w[2], w[3]);
            return loc + scale * std::sqrt(-2.0 * std::log(u1)) * std::cos(kTwoPi * u2);
          });
        });

}  // namespace mxn::ops
