// FullyConnected (MXNet 1.x): out = data . weight^T + bias, through OpenBLAS GEMM (one row of a
// large layer through oneDNN's GEMV where the build has it: nn_onednn.h, fc_row_forward).
// flatten=True views data as (batch, prod(rest)); flatten=False applies the layer to the last
// axis. float16 computes in float32.
#include "core/ops/nn_util.h"
#if MXN_USE_ONEDNN
#include "core/ops/nn_onednn.h"
#endif

namespace mxn::ops::nn {
namespace {

struct FcGeom {
  int64_t m = 0;  // rows (batch)
  int64_t k = 0;  // input features
  int64_t n = 0;  // num_hidden
};

FcGeom fc_geom(const OpParams& p, const std::vector<Shape>& in, Shape* out) {
  const Shape& d = in[0];
  const bool flatten = p.get_bool("flatten");
  const int64_t nh = p.get_int("num_hidden");
  if (nh < 1) throw Error(ErrorCode::kInvalidArg, cat("num_hidden must be >= 1, got ", nh));
  if (d.ndim() < 1) shape_error(0, cat("data must have at least 1 dimension, got shape ", d.str()));
  FcGeom g;
  g.n = nh;
  Shape o;
  if (flatten) {
    g.m = d[0];
    g.k = dims_prod(d, 1, d.ndim());
    o = Shape{d[0], nh};
  } else {
    g.m = dims_prod(d, 0, d.ndim() - 1);
    g.k = d[d.ndim() - 1];
    for (int i = 0; i < d.ndim() - 1; ++i) o.push_back(d[i]);
    o.push_back(nh);
  }
  if (in.size() > 1 && in[1] != Shape{nh, g.k}) {
    shape_error(1, cat("weight has shape ", in[1].str(), " but data ", d.str(), " with num_hidden=",
                       nh, (flatten ? "" : ", flatten=False"), " needs (", nh, ",", g.k, ")"));
  }
  const bool no_bias = p.get_bool("no_bias");
  if (!no_bias && in.size() > 2 && in[2] != Shape{nh}) {
    shape_error(2, cat("bias has shape ", in[2].str(), " but num_hidden=", nh, " needs (", nh, ",)"));
  }
  if (out) *out = o;
  return g;
}

// Inputs present: data, weight and, unless no_bias, bias.
void check_inputs(const OpParams& p, size_t n) {
  const size_t want = p.get_bool("no_bias") ? 2 : 3;
  MXN_CHECK(n == want, ErrorCode::kInvalidArg, "expects ", want, " inputs (data, weight",
            want == 3 ? ", bias" : "", "), got ", n);
}

template <typename T>
void fc_forward(const FcGeom& g, const T* x, const T* w, const T* b, T* y) {
  if (g.m == 0) return;
  T beta = T(0);
  if (b != nullptr) {
    for (int64_t i = 0; i < g.m; ++i) std::memcpy(y + i * g.n, b, sizeof(T) * g.n);
    beta = T(1);
  }
#if MXN_USE_ONEDNN
  if constexpr (std::is_same_v<T, float>) {
    if (g.m == 1 && onednn::fc_row_forward(g.n, g.k, x, w, beta, y)) return;
  }
#endif
  gemm<T>(false, true, g.m, g.n, g.k, T(1), x, g.k, w, g.k, beta, y, g.n);
}

template <typename T>
void fc_backward(const FcGeom& g, const T* dy, const T* x, const T* w, T* dx, T* dw, T* db) {
  // dx (m,k) = dy (m,n) . w (n,k); dw (n,k) = dy^T (n,m) . x (m,k); db = column sums of dy.
  // dx is null when nothing reads it (the data's gradient in training).
  if (dx != nullptr) gemm<T>(false, false, g.m, g.k, g.n, T(1), dy, g.n, w, g.k, T(0), dx, g.k);
  if (g.m == 0) {
    std::fill(dw, dw + g.n * g.k, T(0));
  } else {
    gemm<T>(true, false, g.n, g.k, g.m, T(1), dy, g.n, x, g.k, T(0), dw, g.k);
  }
  if (db != nullptr) {
    std::fill(db, db + g.n, T(0));
    for (int64_t i = 0; i < g.m; ++i) {
      const T* row = dy + i * g.n;
      for (int64_t j = 0; j < g.n; ++j) db[j] += row[j];
    }
  }
}

void fc_compute(const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
                const std::vector<TBlob>& out) {
  check_inputs(p, in.size());
  const bool has_bias = !p.get_bool("no_bias");
  std::vector<Shape> shapes;
  for (const TBlob& b : in) shapes.push_back(b.shape);
  const FcGeom g = fc_geom(p, shapes, nullptr);
  auto run = [&](const std::vector<TBlob>& i, const std::vector<TBlob>& o) {
    MXN_REAL_SWITCH(o[0].dtype, T, {
      if constexpr (!std::is_same_v<T, half_t>) {
        fc_forward<T>(g, i[0].ptr<T>(), i[1].ptr<T>(), has_bias ? i[2].ptr<T>() : nullptr,
                      o[0].ptr<T>());
      }
    });
  };
  if (out[0].dtype == DType::kFloat16) {
    as_float32(in, out, run);
  } else {
    run(in, out);
  }
}

void fc_backward_compute(const OpContext& ctx, const OpParams& p, const std::vector<TBlob>& in,
                         const std::vector<TBlob>& out) {
  const bool need_dx = !ctx.output_unused(0);
  // in: dy, data, weight; out: ddata, dweight[, dbias]
  const bool has_bias = !p.get_bool("no_bias");
  const FcGeom g = fc_geom(p, {in[1].shape, in[2].shape}, nullptr);
  auto run = [&](const std::vector<TBlob>& i, const std::vector<TBlob>& o) {
    MXN_REAL_SWITCH(o[0].dtype, T, {
      if constexpr (!std::is_same_v<T, half_t>) {
        fc_backward<T>(g, i[0].ptr<T>(), i[1].ptr<T>(), i[2].ptr<T>(),
                       need_dx ? o[0].ptr<T>() : nullptr, o[1].ptr<T>(),
                       has_bias ? o[2].ptr<T>() : nullptr);
      }
    });
  };
  if (out[0].dtype == DType::kFloat16) {
    as_float32(in, out, run);
  } else {
    run(in, out);
  }
}

}  // namespace

MXN_REGISTER_OP(FullyConnected)
    .describe(
        "Applies a linear transformation: out = data . weight^T + bias. With flatten=True "
        "(default) data of shape (batch, x1, ..., xn) is viewed as (batch, x1*...*xn) and the "
        "output is (batch, num_hidden); with flatten=False the transformation applies to the "
        "last axis and the output is data.shape[:-1] + (num_hidden,). weight is "
        "(num_hidden, input_dim) and bias (num_hidden,); bias is absent when no_bias=True.")
    .input("data", "Input data.")
    .input("weight", "Weight matrix (num_hidden, input_dim).")
    .optional_input("bias", "Bias (num_hidden,); absent when no_bias=True.")
    .inputs_used([](const OpParams& p) {
      return p.get_bool("no_bias") ? std::vector<std::string>{"data", "weight"}
                                   : std::vector<std::string>{"data", "weight", "bias"};
    })
    .input_shapes_fn([](const OpParams& p, std::vector<Shape>* in) {
      if (!known(*in, 0)) return;
      const Shape& d = (*in)[0];
      if (d.ndim() < 1) return;
      const int64_t nh = p.get_int("num_hidden");
      const int64_t k = p.get_bool("flatten") ? dims_prod(d, 1, d.ndim()) : d[d.ndim() - 1];
      fill_shape(in, 1, Shape{nh, k});
      if (!p.get_bool("no_bias")) fill_shape(in, 2, Shape{nh});
    })
    .required("num_hidden", ParamType::kInt, "Number of hidden nodes of the output.")
    .param("no_bias", ParamType::kBool, ParamValue::of_bool(false), "Whether to disable bias.")
    .param("flatten", ParamType::kBool, ParamValue::of_bool(true),
           "Whether to collapse all but the first axis of the input data tensor.")
    .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
      check_inputs(p, in.size());
      fc_geom(p, in, &(*out)[0]);
    })
    .type_fn(real_type())
    .cpu(fc_compute)
    .grad([](const NodePtr& n, const std::vector<NodeEntry>& og) {
      const bool has_bias = n->inputs.size() > 2 && !n->params.get_bool("no_bias");
      return backward_entries("_backward_FullyConnected", n,
                              {og[0], fwd_input(n, 0), fwd_input(n, 1)},
                              has_bias ? std::vector<int>{0, 1, 2} : std::vector<int>{0, 1});
    });

MXN_REGISTER_OP(_backward_FullyConnected)
    .backward_for("FullyConnected")
    .input("out_grad")
    .input("data")
    .input("weight")
    .dynamic_outputs([](const OpParams& p) { return p.get_bool("no_bias") ? 2 : 3; })
    .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
      (*out)[0] = in[1];
      (*out)[1] = in[2];
      if (out->size() > 2) (*out)[2] = Shape{p.get_int("num_hidden")};
    })
    .type_fn(real_type())
    .cpu(fc_backward_compute);

}  // namespace mxn::ops::nn
