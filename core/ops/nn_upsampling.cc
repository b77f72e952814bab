// UpSampling (MXNet 1.x), nearest neighbour: each input (N, C_i, h_i, w_i) is repeated to
// (scale * h_0, scale * w_0) and the results are concatenated along channels
// (multi_input_mode='concat') or summed ('sum'). sample_type='bilinear' (a Deconvolution with
// a weight input) is not implemented yet.
#include "core/ops/nn_util.h"

namespace mxn::ops::nn {
namespace {

struct UpGeom {
  int64_t N = 0, OH = 0, OW = 0, Cout = 0;
  bool sum = false;
};

// Checks the inputs' shapes; `shapes` are all the data inputs.
UpGeom up_geom(const OpParams& p, const std::vector<Shape>& shapes) {
  if (p.get_string("sample_type") != "nearest") {
    throw Error(ErrorCode::kNotImplemented,
                "sample_type='bilinear' is not implemented yet (use 'nearest', or "
                "Deconvolution with a bilinear weight)");
  }
  const int64_t scale = p.get_int("scale");
  MXN_CHECK(scale >= 1, ErrorCode::kInvalidArg, "scale must be >= 1, got ", scale);
  UpGeom g;
  g.sum = p.get_string("multi_input_mode") == "sum";
  const Shape& d0 = shapes.at(0);
  for (size_t i = 0; i < shapes.size(); ++i) {
    if (shapes[i].ndim() != 4) {
      shape_error(static_cast<int>(i), cat("input ", i, " must be 4-D (N, C, H, W), got shape ",
                                           shapes[i].str()));
    }
  }
  g.N = d0[0];
  g.OH = d0[2] * scale;
  g.OW = d0[3] * scale;
  for (size_t i = 0; i < shapes.size(); ++i) {
    const Shape& s = shapes[i];
    const bool ok = s[0] == g.N && s[2] > 0 && s[3] > 0 && g.OH % s[2] == 0 &&
                    g.OW % s[3] == 0 && g.OH / s[2] == g.OW / s[3];
    if (!ok && !(s[2] == 0 && g.OH == 0)) {
      shape_error(static_cast<int>(i),
                  cat("input ", i, " has shape ", s.str(), " but the output is (", g.N, ", _, ",
                      g.OH, ", ", g.OW, "): it needs the same batch size and an integer, equal "
                      "scale along height and width"));
    }
    if (g.sum && s[1] != d0[1]) {
      shape_error(static_cast<int>(i), cat("multi_input_mode='sum' needs equal channels; input ",
                                           i, " has shape ", s.str(), ", input 0 ", d0.str()));
    }
    g.Cout = g.sum ? d0[1] : g.Cout + s[1];
  }
  return g;
}

}  // namespace

MXN_OP_REGISTRATION = [] () -> OpDef& {
  OpDef& op = OpRegistry::get().add("UpSampling");
  op.describe(
        "Upsamples the inputs by nearest-neighbour repetition. Input 0 of shape (N, C, H, W) "
        "gives an output of spatial size (H*scale, W*scale); every other input is repeated to "
        "the same size. multi_input_mode='concat' concatenates along channels, 'sum' adds.")
    .input("data", "Arrays to upsample (N, C, H, W).")
    .required("scale", ParamType::kInt, "Up sampling scale.")
    .param("num_filter", ParamType::kInt, ParamValue::of_int(0),
           "Input filter; only used by bilinear sample_type.");
  required_choice(op, "sample_type", {"bilinear", "nearest"}, "Upsampling method.");
  op.variadic("num_args")
    .choice("multi_input_mode", {"concat", "sum"}, "concat",
            "How to handle multiple inputs: concatenate along channels or sum.")
    .param("workspace", ParamType::kInt, ParamValue::of_int(512),
           "Tmp workspace for deconvolution in MB (accepted for compatibility).")
      .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
        const UpGeom g = up_geom(p, in);
        (*out)[0] = Shape{g.N, g.Cout, g.OH, g.OW};
      })
        .type_fn(real_type())
        .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
                const std::vector<TBlob>& out) {
          std::vector<Shape> shapes;
          for (const TBlob& b : in) shapes.push_back(b.shape);
          const UpGeom g = up_geom(p, shapes);
          MXN_REAL_SWITCH(out[0].dtype, T, {
            using A = acc_t<T>;
            T* y = out[0].ptr<T>();
            const int64_t plane = g.OH * g.OW;
            if (g.sum) std::fill(y, y + out[0].size(), T(0));
            int64_t coff = 0;
            for (const TBlob& b : in) {
              const int64_t C = b.shape[1], h = b.shape[2], w = b.shape[3];
              if (h == 0 || w == 0) continue;
              const int64_t s = g.OH / h;
              const T* x = b.ptr<T>();
              for (int64_t n = 0; n < g.N; ++n) {
                for (int64_t c = 0; c < C; ++c) {
                  const T* xp = x + (n * C + c) * h * w;
                  T* yp = y + (n * g.Cout + coff + c) * plane;
                  for (int64_t oy = 0; oy < g.OH; ++oy) {
                    const T* xr = xp + (oy / s) * w;
                    T* yr = yp + oy * g.OW;
                    if (g.sum) {
                      for (int64_t ox = 0; ox < g.OW; ++ox) yr[ox] = T(A(yr[ox]) + A(xr[ox / s]));
                    } else {
                      for (int64_t ox = 0; ox < g.OW; ++ox) yr[ox] = xr[ox / s];
                    }
                  }
                }
              }
              if (!g.sum) coff += C;
            }
          });
        })
        // The backward node reads out_grad and inputs 1..n-1 (n inputs in all, so it takes
        // the forward's num_args); input 0's shape follows from out_grad.
        .grad([](const NodePtr& n, const std::vector<NodeEntry>& og) {
          std::vector<NodeEntry> in{og[0]};
          for (size_t i = 1; i < n->inputs.size(); ++i) in.push_back(n->inputs[i]);
          std::vector<int> grad_of;
          for (size_t i = 0; i < n->inputs.size(); ++i) grad_of.push_back(static_cast<int>(i));
          return backward_entries("_backward_UpSampling", n, std::move(in), grad_of);
        });
  return op;
}();

MXN_REGISTER_OP(_backward_UpSampling)
    .backward_for("UpSampling")
    .input("in", "out_grad, then inputs 1..num_args-1 of the forward operator.")
    .variadic("num_args")
    .dynamic_outputs([](const OpParams& p) { return static_cast<int>(p.get_int("num_args")); })
    .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
      const Shape& og = in[0];
      const int64_t scale = p.get_int("scale");
      const bool sum = p.get_string("multi_input_mode") == "sum";
      int64_t c0 = og[1];
      if (!sum) {
        for (size_t i = 1; i < in.size(); ++i) c0 -= in[i][1];
      }
      (*out)[0] = Shape{og[0], c0, og[2] / scale, og[3] / scale};
      for (size_t i = 1; i < in.size(); ++i) (*out)[i] = in[i];
    })
    .type_fn([](const OpParams&, const std::vector<DType>& in, std::vector<DType>* out) {
      out->assign(out->size(), in[0]);
    })
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      const bool sum = p.get_string("multi_input_mode") == "sum";
      const TBlob& og = in[0];
      const int64_t N = og.shape[0], Cout = og.shape[1], OH = og.shape[2], OW = og.shape[3];
      MXN_REAL_SWITCH(og.dtype, T, {
        using A = acc_t<T>;
        const T* g = og.ptr<T>();
        int64_t coff = 0;
        for (const TBlob& b : out) {
          const int64_t C = b.shape[1], h = b.shape[2], w = b.shape[3];
          T* dx = b.ptr<T>();
          if (h == 0 || w == 0 || b.size() == 0) {
            if (!sum) coff += C;
            continue;
          }
          const int64_t s = OH / h;
          std::vector<A> acc(static_cast<size_t>(h * w));
          for (int64_t n = 0; n < N; ++n) {
            for (int64_t c = 0; c < C; ++c) {
              std::fill(acc.begin(), acc.end(), A(0));
              const T* gp = g + (n * Cout + coff + c) * OH * OW;
              for (int64_t oy = 0; oy < OH; ++oy) {
                A* ar = acc.data() + (oy / s) * w;
                const T* gr = gp + oy * OW;
                for (int64_t ox = 0; ox < OW; ++ox) ar[ox / s] += A(gr[ox]);
              }
              T* dp = dx + (n * C + c) * h * w;
              for (int64_t j = 0; j < h * w; ++j) dp[j] = T(acc[j]);
            }
          }
          if (!sum) coff += C;
        }
      });
    });

}  // namespace mxn::ops::nn
