// Math beyond the element-wise families: add_n (ElementWiseSum) and smooth_l1, with MXNet
// 1.x names. (gamma/gammaln live in unary.cc, norm in reduce.cc, _linalg_gemm2 in dot.cc.)
#include <cmath>

#include "core/graph/gradient.h"
#include "core/ops/tensor_util.h"

namespace mxn::ops {
namespace {

// smooth_l1 with sigma = scalar: 0.5 (sigma x)^2 where |x| < 1/sigma^2, else |x| - 0.5/sigma^2.
double smooth_l1(double x, double sigma) {
  const double s2 = sigma * sigma;
  return std::fabs(x) < 1.0 / s2 ? 0.5 * s2 * x * x : std::fabs(x) - 0.5 / s2;
}
double smooth_l1_grad(double x, double sigma) {
  const double s2 = sigma * sigma;
  if (std::fabs(x) < 1.0 / s2) return s2 * x;
  return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0);
}

}  // namespace

MXN_REGISTER_OP(add_n)
    .alias("ElementWiseSum")
    .describe("Element-wise sum of any number of arrays of equal shape and dtype (float16 sums "
              "in float32).")
    .input("args", "The arrays to add.")
    .variadic("num_args")
    .shape_fn([](const OpParams&, const std::vector<Shape>& in, std::vector<Shape>* out) {
      MXN_CHECK(!in.empty(), ErrorCode::kInvalidArg, "needs at least one input");
      same_shape_infer(OpParams(), in, out);
    })
    .cpu([](const OpContext&, const OpParams&, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      MXN_DTYPE_SWITCH(out[0].dtype, T, {
        using A = acc_t<T>;
        T* o = out[0].ptr<T>();
        const int64_t n = out[0].size();
        for (int64_t i = 0; i < n; ++i) {
          A s = A(in[0].ptr<T>()[i]);
          for (size_t k = 1; k < in.size(); ++k) {
            if constexpr (std::is_same_v<A, bool>) {
              s = s || in[k].ptr<T>()[i];
            } else {
              s = static_cast<A>(s + A(in[k].ptr<T>()[i]));
            }
          }
          o[i] = T(s);
        }
      });
    })
    .grad(grad_pass_through());

MXN_REGISTER_OP(smooth_l1)
    .describe("Smooth L1 (Huber-like) loss element-wise with sigma = scalar: 0.5*(sigma*x)**2 "
              "where |x| < 1/sigma**2, |x| - 0.5/sigma**2 elsewhere.")
    .input("data", "Input array (floating point).")
    .param("scalar", ParamType::kFloat, ParamValue::of_float(1.0), "sigma.")
    .shape_fn(same_shape_infer)
    .type_fn([](const OpParams&, const std::vector<DType>& in, std::vector<DType>* out) {
      MXN_CHECK(dtype_is_float(in[0]), ErrorCode::kDType, "needs a floating-point input, got ",
                dtype_name(in[0]));
      (*out)[0] = in[0];
    })
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      const double sigma = p.get_float("scalar");
      MXN_FLOAT_SWITCH(out[0].dtype, T, {
        const T* x = in[0].ptr<T>();
        T* y = out[0].ptr<T>();
        const int64_t n = out[0].size();
        for (int64_t i = 0; i < n; ++i) {
          y[i] = T(static_cast<acc_t<T>>(smooth_l1(static_cast<double>(acc_t<T>(x[i])), sigma)));
        }
      });
    })
    .grad(grad_by_backward_op("_backward_smooth_l1", true, false));

MXN_REGISTER_OP(_backward_smooth_l1)
    .describe("Gradient of smooth_l1: ograd * (sigma**2 x where |x| < 1/sigma**2, else sign(x)).")
    .input("ograd")
    .input("data")
    .backward_for("smooth_l1")
    .shape_fn([](const OpParams&, const std::vector<Shape>& in, std::vector<Shape>* out) {
      (*out)[0] = in[1];
    })
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      const double sigma = p.get_float("scalar");
      MXN_FLOAT_SWITCH(out[0].dtype, T, {
        const T* g = in[0].ptr<T>();
        const T* x = in[1].ptr<T>();
        T* d = out[0].ptr<T>();
        const int64_t n = out[0].size();
        for (int64_t i = 0; i < n; ++i) {
          d[i] = T(static_cast<acc_t<T>>(static_cast<double>(acc_t<T>(g[i])) *
                                         smooth_l1_grad(static_cast<double>(acc_t<T>(x[i])), sigma)));
        }
      });
    });

}  // namespace mxn::ops
