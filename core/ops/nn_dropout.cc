// Dropout (MXNet 1.x): in training (or mode='always') each element is kept with probability
// 1 - p and scaled by 1/(1 - p); `axes` shares one draw along the given axes (variational
// dropout). The mask (0 or 1/(1-p), data's shape with `axes` set to 1) is a hidden second
// output that the gradient reads. Random numbers come from the counter-based generator
// (Philox4x32-10): mask element j uses word j % 4 of block counter + j / 4, so a seed gives
// the same mask on every thread count and device.
#include "core/base/philox.h"
#include "core/ops/nn_util.h"

namespace mxn::ops::nn {
namespace {

Shape mask_shape(const OpParams& p, const Shape& d) {
  Shape m = d;
  const Shape& axes = p.get_shape("axes");
  for (int i = 0; i < axes.ndim(); ++i) {
    const int a = normalize_axis(axes[i], d.ndim(), "axes");
    m[a] = 1;
  }
  return m;
}

bool dropping(const OpContext& ctx, const OpParams& p) {
  return (ctx.is_train || p.get_string("mode") == "always") && p.get_float("p") > 0.0;
}

}  // namespace

MXN_REGISTER_OP(Dropout)
    .describe(
        "Applies dropout: in training (or always, with mode='always') elements are zeroed with "
        "probability p and the rest scaled by 1/(1-p); otherwise the identity. axes lists axes "
        "along which one draw is shared. p=1 gives zeros (MXNet gives NaN).")
    .input("data", "Input array to which dropout will be applied.")
    .param("p", ParamType::kFloat, ParamValue::of_float(0.5),
           "Fraction of the input that gets dropped out during training time.")
    .choice("mode", {"always", "training"}, "training",
            "Whether to only turn on dropout during training or always.")
    .param("axes", ParamType::kShape, ParamValue::of_shape(Shape()),
           "Axes along which the dropout mask is shared (variational dropout).")
    .nullable("cudnn_off", ParamType::kBool,
              "Whether to turn off cuDNN (accepted for compatibility).")
    .output_names({"output", "mask"})
    .visible_outputs([](const OpParams&) { return 1; })
    .random([](const OpParams& p) { return p.get_string("mode") == "always"; })
    .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
      const double prob = p.get_float("p");
      MXN_CHECK(prob >= 0.0 && prob <= 1.0, ErrorCode::kInvalidArg, "p must be in [0, 1], got ",
                prob);
      (*out)[0] = in[0];
      (*out)[1] = mask_shape(p, in[0]);
    })
    .type_fn(real_type())
    .cpu([](const OpContext& ctx, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      const TBlob& x = in[0];
      const TBlob& y = out[0];
      const TBlob& m = out[1];
      MXN_REAL_SWITCH(x.dtype, T, {
        using A = acc_t<T>;
        T* mask = m.ptr<T>();
        const int64_t nm = m.size();
        if (!dropping(ctx, p)) {
          for (int64_t j = 0; j < nm; ++j) mask[j] = T(1);
          if (x.size() > 0) std::memcpy(y.dptr, x.dptr, sizeof(T) * x.size());
          return;
        }
        const double keep = 1.0 - p.get_float("p");
        const A scale = keep > 0.0 ? A(1.0 / keep) : A(0);
        // keep an element when its 32-bit word < keep * 2^32
        const double threshold = keep * 4294967296.0;
        uint32_t w[4] = {0, 0, 0, 0};
        for (int64_t j = 0; j < nm; ++j) {
          if ((j & 3) == 0) Philox4x32::at(ctx.seed, ctx.counter + static_cast<uint64_t>(j >> 2), w);
          mask[j] = double(w[j & 3]) < threshold ? T(scale) : T(0);
        }
        const T* px = x.ptr<T>();
        T* py = y.ptr<T>();
        if (m.shape == x.shape) {
          for (int64_t j = 0; j < x.size(); ++j) py[j] = T(A(px[j]) * A(mask[j]));
        } else {
          for_each_broadcast(x.shape, x.shape, m.shape, [&](int64_t i, int64_t ia, int64_t ib) {
            py[i] = T(A(px[ia]) * A(mask[ib]));
          });
        }
      });
    })
    .grad([](const NodePtr& n, const std::vector<NodeEntry>& og) {
      return backward_entries("_backward_Dropout", n, {og[0], fwd_output(n, 1)}, {0});
    });

MXN_REGISTER_OP(_backward_Dropout)
    .backward_for("Dropout")
    .input("out_grad")
    .input("mask")
    .shape_fn([](const OpParams&, const std::vector<Shape>& in, std::vector<Shape>* out) {
      (*out)[0] = in[0];
    })
    .type_fn(real_type())
    .cpu([](const OpContext&, const OpParams&, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      MXN_REAL_SWITCH(in[0].dtype, T, {
        using A = acc_t<T>;
        const T* g = in[0].ptr<T>();
        const T* mask = in[1].ptr<T>();
        T* d = out[0].ptr<T>();
        if (in[1].shape == in[0].shape) {
          for (int64_t j = 0; j < in[0].size(); ++j) d[j] = T(A(g[j]) * A(mask[j]));
        } else {
          for_each_broadcast(in[0].shape, in[0].shape, in[1].shape,
                             [&](int64_t i, int64_t ia, int64_t ib) {
                               d[i] = T(A(g[ia]) * A(mask[ib]));
                             });
        }
      });
    });

}  // namespace mxn::ops::nn
