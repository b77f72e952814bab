// Normalisation layers (MXNet 1.x): BatchNorm (moving statistics as auxiliary states),
// LayerNorm, InstanceNorm, L2Normalization, LRN. Statistics accumulate in float for float16
// data (BatchNorm keeps its parameters and statistics in float32 then, as MXNet does) and in
// the data type otherwise.
#include "core/ops/nn_util.h"
#include "core/ops/nn_kept_layouts.h"
#include "core/ops/nn_onednn.h"

namespace mxn::ops::nn {
namespace {

// (outer, R, inner) view of a shape around `axis`: element (o, r, i) is at (o*R + r)*inner + i.
struct AxisView {
  int64_t outer = 1, R = 1, inner = 1;
};
AxisView axis_view(const Shape& s, int axis) {
  AxisView v;
  v.outer = dims_prod(s, 0, axis);
  v.R = s[axis];
  v.inner = dims_prod(s, axis + 1, s.ndim());
  return v;
}

void check_vec(const std::vector<Shape>& in, size_t i, int64_t n, const char* name,
               const char* what) {
  if (i < in.size() && in[i] != Shape{n}) {
    shape_error(static_cast<int>(i), cat(name, " has shape ", in[i].str(), " but needs (", n,
                                         ",) to match ", what, " of data ", in[0].str()));
  }
}

// A sum kept as kN independent partial sums, added pairwise at the end. One running sum is a
// chain of dependent adds (about 4 cycles each); independent lanes let the loop vectorise. The
// order is fixed in the source (no -ffast-math reassociation), so every target computes the same
// bits.
template <typename A>
struct Lanes {
  static constexpr int kN = 8;
  A s[kN] = {};
  // Adds term(0) ... term(n - 1).
  template <typename F>
  void add(int64_t n, F term) {
    int64_t i = 0;
    for (; i + kN <= n; i += kN) {
      for (int j = 0; j < kN; ++j) s[j] += term(i + j);
    }
    for (int j = 0; i < n; ++i, ++j) s[j] += term(i);
  }
  A total() const { return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7])); }
};

// ---- BatchNorm -----------------------------------------------------------------------------
int bn_axis(const OpParams& p, const Shape& d) {
  if (d.ndim() == 0) shape_error(0, "data must have at least 1 dimension, got a 0-d array");
  return normalize_axis(p.get_int("axis"), d.ndim());
}

template <typename T, typename P>
void bn_forward(const OpContext& ctx, const OpParams& prm, const std::vector<TBlob>& in,
                const std::vector<TBlob>& out) {
  using A = P;
  const Shape& d = in[0].shape;
  const AxisView v = axis_view(d, bn_axis(prm, d));
  const T* x = in[0].ptr<T>();
  const P* gamma = in[1].ptr<P>();
  const P* beta = in[2].ptr<P>();
  P* mm = in[3].ptr<P>();
  P* mv = in[4].ptr<P>();
  T* y = out[0].ptr<T>();
  P* mean_out = out[1].ptr<P>();
  P* var_out = out[2].ptr<P>();
  const A eps = A(prm.get_float("eps"));
  const A mom = A(prm.get_float("momentum"));
  const bool fix_gamma = prm.get_bool("fix_gamma");
  const bool batch_stats = ctx.is_train && !prm.get_bool("use_global_stats");
  const int64_t cnt = v.outer * v.inner;
  parallel_for(v.R, cnt * 4, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      A mean, invstd;
      if (batch_stats) {
        Lanes<A> s;
        for (int64_t o = 0; o < v.outer; ++o) {
          const T* px = x + (o * v.R + c) * v.inner;
          s.add(v.inner, [px](int64_t i) { return A(px[i]); });
        }
        mean = cnt > 0 ? s.total() / A(cnt) : A(0);
        Lanes<A> sqs;
        for (int64_t o = 0; o < v.outer; ++o) {
          const T* px = x + (o * v.R + c) * v.inner;
          sqs.add(v.inner, [px, mean](int64_t i) {
            const A dlt = A(px[i]) - mean;
            return dlt * dlt;
          });
        }
        const A sq = sqs.total();
        const A var = cnt > 0 ? sq / A(cnt) : A(0);
        invstd = (sq == A(0) && eps == A(0)) ? A(0) : A(1) / std::sqrt(var + eps);
        if (cnt > 0) {
          mm[c] = mm[c] * mom + mean * (A(1) - mom);
          mv[c] = mv[c] * mom + var * (A(1) - mom);
        }
      } else {
        mean = A(mm[c]);
        invstd = A(1) / std::sqrt(A(mv[c]) + eps);
      }
      mean_out[c] = P(mean);
      var_out[c] = P(invstd);
      const A scale = invstd * (fix_gamma ? A(1) : A(gamma[c]));
      const A shift = A(beta[c]) - mean * scale;
      for (int64_t o = 0; o < v.outer; ++o) {
        const T* px = x + (o * v.R + c) * v.inner;
        T* py = y + (o * v.R + c) * v.inner;
        for (int64_t i = 0; i < v.inner; ++i) py[i] = T(A(px[i]) * scale + shift);
      }
    }
  });
}

// in: out_grad, data, gamma, moving_mean, moving_var, saved mean, saved invstd
// out: data grad, gamma grad, beta grad
template <typename T, typename P>
void bn_backward(const OpContext& ctx, const OpParams& prm, const std::vector<TBlob>& in,
                 const std::vector<TBlob>& out) {
  using A = P;
  const Shape& d = in[1].shape;
  const AxisView v = axis_view(d, bn_axis(prm, d));
  const T* dy = in[0].ptr<T>();
  const T* x = in[1].ptr<T>();
  const P* gamma = in[2].ptr<P>();
  const P* mm = in[3].ptr<P>();
  const P* mv = in[4].ptr<P>();
  const P* smean = in[5].ptr<P>();
  const P* sinvstd = in[6].ptr<P>();
  T* dx = out[0].ptr<T>();
  P* dgamma = out[1].ptr<P>();
  P* dbeta = out[2].ptr<P>();
  const A eps = A(prm.get_float("eps"));
  const bool fix_gamma = prm.get_bool("fix_gamma");
  const bool batch_stats = ctx.is_train && !prm.get_bool("use_global_stats");
  const int64_t cnt = v.outer * v.inner;
  parallel_for(v.R, cnt * 6, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const A w = fix_gamma ? A(1) : A(gamma[c]);
      A mean, invstd;
      if (batch_stats) {
        mean = A(smean[c]);
        invstd = A(sinvstd[c]);
      } else {
        mean = A(mm[c]);
        invstd = A(1) / std::sqrt(A(mv[c]) + eps);
      }
      Lanes<A> sums, dots;
      for (int64_t o = 0; o < v.outer; ++o) {
        const T* pdy = dy + (o * v.R + c) * v.inner;
        const T* px = x + (o * v.R + c) * v.inner;
        sums.add(v.inner, [pdy](int64_t i) { return A(pdy[i]); });
        dots.add(v.inner, [pdy, px, mean](int64_t i) { return (A(px[i]) - mean) * A(pdy[i]); });
      }
      const A sum_dy = sums.total(), dotp = dots.total();
      const A iw = invstd * w;
      if (batch_stats && cnt > 0) {
        const A k = dotp * invstd * invstd / A(cnt);
        const A gmean = sum_dy / A(cnt);
        for (int64_t o = 0; o < v.outer; ++o) {
          const int64_t base = (o * v.R + c) * v.inner;
          for (int64_t i = 0; i < v.inner; ++i) {
            dx[base + i] = T((A(dy[base + i]) - gmean - (A(x[base + i]) - mean) * k) * iw);
          }
        }
      } else {
        for (int64_t o = 0; o < v.outer; ++o) {
          const int64_t base = (o * v.R + c) * v.inner;
          for (int64_t i = 0; i < v.inner; ++i) dx[base + i] = T(A(dy[base + i]) * iw);
        }
      }
      dgamma[c] = fix_gamma ? P(0) : P(dotp * invstd);
      dbeta[c] = P(sum_dy);
    }
  });
}

// BatchNorm on channel-blocked data (ctx.blocked: the executor's training layouts), float32
// (N, C, H, W) with the channels on axis 1: with batch statistics, oneDNN's kernel, with the
// outputs and the moving-statistics update of bn_forward / bn_backward; otherwise, or where
// oneDNN declines, those on NCHW copies.
#if MXN_USE_ONEDNN
bool bn_blocked_supported(const OpContext& ctx, const OpParams& p, const TBlob& x) {
  return x.dtype == DType::kFloat32 && x.shape.ndim() == 4 && bn_axis(p, x.shape) == 1 &&
         ctx.is_train && !p.get_bool("use_global_stats");
}

onednn::BnShape bn_shape(const OpParams& p, const TBlob& x) {
  const Shape& d = x.shape;
  return {d[0], d[1], d[2], d[3], float(p.get_float("eps"))};
}

// gamma, or under fix_gamma ones (in ws)
const float* bn_scale(const OpParams& p, const TBlob& gamma, Workspace* ws) {
  if (!p.get_bool("fix_gamma")) return gamma.ptr<float>();
  float* ones = ws->alloc<float>(gamma.size());
  std::fill(ones, ones + gamma.size(), 1.f);
  return ones;
}
#endif

// kernel(ctx without the layouts, in, out) on NCHW copies of the blocked arrays.
template <typename Kernel>
void bn_on_nchw_copies(const OpContext& ctx, const std::vector<TBlob>& in,
                       const std::vector<TBlob>& out, Kernel kernel) {
  OpContext plain = ctx;
  plain.blocked = {};
  as_nchw(ctx.blocked, in, out, [&](const std::vector<TBlob>& i, const std::vector<TBlob>& o) {
    kernel(plain, i, o);
  });
}

void bn_forward_blocked(const OpContext& ctx, const OpParams& p, const std::vector<TBlob>& in,
                        const std::vector<TBlob>& out) {
  MXN_CHECK(in[0].dtype == DType::kFloat32, ErrorCode::kInternal,
            "channel-blocked BatchNorm needs float32 data");
#if MXN_USE_ONEDNN
  if (bn_blocked_supported(ctx, p, in[0])) {
    const onednn::BnShape g = bn_shape(p, in[0]);
    const int64_t C = g.C;
    const float eps = g.eps, mom = float(p.get_float("momentum"));
    Workspace ws;
    float* var = ws.alloc<float>(C);
    float* mean = out[1].ptr<float>();
    if (onednn::bn_forward_blocked(g, in[0].ptr<float>(), bn_scale(p, in[1], &ws),
                                   in[2].ptr<float>(), out[0].ptr<float>(), mean, var)) {
      float* mm = in[3].ptr<float>();
      float* mv = in[4].ptr<float>();
      float* invstd = out[2].ptr<float>();
      for (int64_t c = 0; c < C; ++c) {
        invstd[c] = 1.f / std::sqrt(var[c] + eps);
        mm[c] = mm[c] * mom + mean[c] * (1.f - mom);
        mv[c] = mv[c] * mom + var[c] * (1.f - mom);
      }
      return;
    }
  }
#endif
  bn_on_nchw_copies(ctx, in, out, [&](const OpContext& c, const std::vector<TBlob>& i,
                                      const std::vector<TBlob>& o) {
    bn_forward<float, float>(c, p, i, o);
  });
}

void bn_backward_blocked(const OpContext& ctx, const OpParams& p, const std::vector<TBlob>& in,
                         const std::vector<TBlob>& out) {
  MXN_CHECK(in[1].dtype == DType::kFloat32, ErrorCode::kInternal,
            "channel-blocked BatchNorm needs float32 data");
#if MXN_USE_ONEDNN
  if (bn_blocked_supported(ctx, p, in[1])) {
    const onednn::BnShape g = bn_shape(p, in[1]);
    const int64_t C = g.C;
    const bool fix_gamma = p.get_bool("fix_gamma");
    Workspace ws;
    // the variance the forward's kernel read, from the saved 1 / sqrt(var + eps)
    float* var = ws.alloc<float>(C);
    const float* invstd = in[6].ptr<float>();
    for (int64_t c = 0; c < C; ++c) var[c] = 1.f / (invstd[c] * invstd[c]) - g.eps;
    float* dscale = fix_gamma ? ws.alloc<float>(C) : out[1].ptr<float>();
    if (onednn::bn_backward_blocked(g, in[1].ptr<float>(), in[0].ptr<float>(),
                                    in[5].ptr<float>(), var, bn_scale(p, in[2], &ws),
                                    out[0].ptr<float>(), dscale, out[2].ptr<float>())) {
      if (fix_gamma) std::fill(out[1].ptr<float>(), out[1].ptr<float>() + C, 0.f);
      return;
    }
  }
#endif
  bn_on_nchw_copies(ctx, in, out, [&](const OpContext& c, const std::vector<TBlob>& i,
                                      const std::vector<TBlob>& o) {
    bn_backward<float, float>(c, p, i, o);
  });
}

void bn_types(const OpParams&, const std::vector<DType>& in, std::vector<DType>* out) {
  static const char* names[] = {"data", "gamma", "beta", "moving_mean", "moving_var"};
  const DType t = in[0];
  if (!is_real(t)) {
    throw Error(ErrorCode::kDType, cat("input 0 ('data') has dtype ", dtype_name(t),
                                       "; needs float16, float32 or float64"))
        .with_arg(0);
  }
  const DType pt = param_dtype(t);
  for (size_t i = 1; i < in.size() && i < 5; ++i) {
    if (in[i] != pt) {
      throw Error(ErrorCode::kDType,
                  cat("input ", i, " ('", names[i], "') has dtype ", dtype_name(in[i]),
                      " but data of dtype ", dtype_name(t), " needs ", dtype_name(pt),
                      t == DType::kFloat16 ? " (float16 data keeps float32 parameters)" : ""))
          .with_arg(static_cast<int>(i));
    }
  }
  (*out)[0] = t;
  for (size_t i = 1; i < out->size(); ++i) (*out)[i] = pt;
}

// ---- LayerNorm / InstanceNorm (normalise each group of R elements, affine per element) ----
// stat_is_std: the second statistic output is sqrt(var + eps) (LayerNorm) or var
// (InstanceNorm). aff(o, r) is the index into gamma/beta.
template <typename T, typename Aff>
void group_norm_forward(const AxisView& v, const T* x, const T* gamma, const T* beta, double eps,
                        bool stat_is_std, T* y, T* mean_out, T* stat_out, Aff aff) {
  using A = acc_t<T>;
  parallel_for(v.outer, v.R * v.inner * 4, [&](int64_t o0, int64_t o1) {
    for (int64_t o = o0; o < o1; ++o) {
      for (int64_t i = 0; i < v.inner; ++i) {
        const int64_t base = o * v.R * v.inner + i;
        A s = A(0);
        for (int64_t r = 0; r < v.R; ++r) s += A(x[base + r * v.inner]);
        const A mean = v.R > 0 ? s / A(v.R) : A(0);
        A sq = A(0);
        for (int64_t r = 0; r < v.R; ++r) {
          const A dl = A(x[base + r * v.inner]) - mean;
          sq += dl * dl;
        }
        const A var = v.R > 0 ? sq / A(v.R) : A(0);
        const A sd = std::sqrt(var + A(eps));
        const A inv = A(1) / sd;
        for (int64_t r = 0; r < v.R; ++r) {
          const int64_t j = base + r * v.inner;
          const int64_t a = aff(o, r);
          y[j] = T((A(x[j]) - mean) * inv * A(gamma[a]) + A(beta[a]));
        }
        mean_out[o * v.inner + i] = T(mean);
        stat_out[o * v.inner + i] = T(stat_is_std ? sd : var);
      }
    }
  });
}

template <typename T, typename Aff>
void group_norm_backward(const AxisView& v, const T* dy, const T* x, const T* gamma,
                         const T* mean_in, const T* stat_in, bool stat_is_std, double eps,
                         int64_t nparam, T* dx, T* dgamma, T* dbeta, Aff aff) {
  using A = acc_t<T>;
  std::vector<A> dg(static_cast<size_t>(nparam), A(0)), db(static_cast<size_t>(nparam), A(0));
  for (int64_t o = 0; o < v.outer; ++o) {
    for (int64_t i = 0; i < v.inner; ++i) {
      const int64_t base = o * v.R * v.inner + i;
      const A mean = A(mean_in[o * v.inner + i]);
      const A st = A(stat_in[o * v.inner + i]);
      const A sd = stat_is_std ? st : std::sqrt(st + A(eps));
      const A inv = A(1) / sd;
      A mg = A(0), mgx = A(0);
      for (int64_t r = 0; r < v.R; ++r) {
        const int64_t j = base + r * v.inner;
        const int64_t a = aff(o, r);
        const A xh = (A(x[j]) - mean) * inv;
        const A g = A(dy[j]);
        const A gg = g * A(gamma[a]);
        mg += gg;
        mgx += gg * xh;
        dg[a] += g * xh;
        db[a] += g;
      }
      if (v.R > 0) {
        mg /= A(v.R);
        mgx /= A(v.R);
      }
      for (int64_t r = 0; r < v.R; ++r) {
        const int64_t j = base + r * v.inner;
        const A xh = (A(x[j]) - mean) * inv;
        dx[j] = T((A(dy[j]) * A(gamma[aff(o, r)]) - mg - xh * mgx) * inv);
      }
    }
  }
  for (int64_t a = 0; a < nparam; ++a) {
    dgamma[a] = T(dg[a]);
    dbeta[a] = T(db[a]);
  }
}

int ln_axis(const OpParams& p, const Shape& d) {
  if (d.ndim() == 0) shape_error(0, "data must have at least 1 dimension, got a 0-d array");
  return normalize_axis(p.get_int("axis"), d.ndim());
}

void check_instance_norm_data(const Shape& d) {
  if (d.ndim() < 3) {
    shape_error(0, cat("data must be (batch, channel, spatial...) with at least 3 dimensions, "
                       "got shape ", d.str()));
  }
}

// ---- L2Normalization -----------------------------------------------------------------------
AxisView l2_view(const OpParams& p, const Shape& d, Shape* norm_shape) {
  const std::string& mode = p.get_string("mode");
  AxisView v;
  if (mode == "instance") {
    if (d.ndim() < 2) shape_error(0, cat("data must have at least 2 dimensions, got ", d.str()));
    v.outer = d[0];
    v.R = dims_prod(d, 1, d.ndim());
    if (norm_shape) *norm_shape = Shape{d[0]};
  } else {
    if (d.ndim() < 3) {
      shape_error(0, cat("mode='", mode, "' needs at least 3 dimensions, got ", d.str()));
    }
    if (mode == "channel") {
      v.outer = d[0];
      v.R = d[1];
      v.inner = dims_prod(d, 2, d.ndim());
      if (norm_shape) {
        Shape s = d;
        s[1] = 1;
        *norm_shape = s;
      }
    } else {  // spatial
      v.outer = d[0] * d[1];
      v.R = dims_prod(d, 2, d.ndim());
      if (norm_shape) *norm_shape = Shape{d[0], d[1]};
    }
  }
  return v;
}

// ---- LRN -----------------------------------------------------------------------------------
void check_lrn(const OpParams& p, const Shape& d) {
  if (d.ndim() != 4) shape_error(0, cat("data must be 4-D (N, C, H, W), got shape ", d.str()));
  const int64_t n = p.get_int("nsize");
  MXN_CHECK(n >= 1 && n % 2 == 1, ErrorCode::kInvalidArg, "nsize must be a positive odd number, got ",
            n);
}

#if MXN_USE_ONEDNN
onednn::LrnShape lrn_shape(const OpParams& p, const Shape& d) {
  return {d[0], d[1], d[2], d[3], p.get_int("nsize"), static_cast<float>(p.get_float("alpha")),
          static_cast<float>(p.get_float("beta")), static_cast<float>(p.get_float("knorm"))};
}
#endif

// n^-beta. AlexNet's (and MXNet's default) beta 0.75 as 1 / (sqrt(n) sqrt(sqrt(n))): square
// roots are exact in IEEE arithmetic, so it is fast, vectorises, and gives the same bits on
// every platform (pow differs between C libraries).
template <typename A>
inline A inv_pow(A n, A beta) {
  if (beta == A(0.75)) {
    const A r = std::sqrt(n);
    return A(1) / (r * std::sqrt(r));
  }
  return std::pow(n, -beta);
}

// Over the (image, channel) planes of a (N, C, S) array in parallel: plane(p, window) with
// window[i] = sum over the channels within `half` of p's (zero outside) of get(j) for the
// element j at offset i of each plane, added in channel order.
template <typename A, typename Get, typename Plane>
void channel_windows(int64_t N, int64_t C, int64_t S, int64_t half, Get get, Plane plane) {
  parallel_for(N * C, S * (2 * half + 3), [&](int64_t p0, int64_t p1) {
    Workspace ws;
    A* window = ws.alloc<A>(S);
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t n = p / C, c = p % C;
      std::fill(window, window + S, A(0));
      const int64_t lo = std::max<int64_t>(0, c - half), hi = std::min(C - 1, c + half);
      for (int64_t cc = lo; cc <= hi; ++cc) {
        const int64_t base = (n * C + cc) * S;
        for (int64_t i = 0; i < S; ++i) window[i] += get(base + i);
      }
      plane(p, window);
    }
  });
}

}  // namespace

// ---- registrations -------------------------------------------------------------------------
MXN_REGISTER_OP(BatchNorm)
    .describe(
        "Batch normalization: out = (data - mean) / sqrt(var + eps) * gamma + beta per channel "
        "(axis). In training (autograd train mode) mean and var are the batch statistics "
        "(biased variance) and the moving statistics are updated in place: moving = moving * "
        "momentum + batch * (1 - momentum); otherwise, or with use_global_stats, the moving "
        "statistics are used. fix_gamma treats gamma as 1 (its gradient is 0). Outputs "
        "(out, mean, invstd); mean and the inverse standard deviation 1/sqrt(var + eps) are "
        "visible with output_mean_var (MXNet's convention; their gradients are blocked). "
        "float16 data keeps gamma, beta and the statistics in float32.")
    .input("data", "Input data.")
    .input("gamma", "Scale (channels,).")
    .input("beta", "Shift (channels,).")
    .aux_input("moving_mean", "Running mean (channels,), updated in training.")
    .aux_input("moving_var", "Running variance (channels,), updated in training.")
    .param("eps", ParamType::kFloat, ParamValue::of_float(1e-3),
           "Epsilon added to the variance to avoid division by zero.")
    .param("momentum", ParamType::kFloat, ParamValue::of_float(0.9),
           "Momentum of the moving average.")
    .param("fix_gamma", ParamType::kBool, ParamValue::of_bool(true),
           "Fix gamma to 1 while training (its gradient is 0).")
    .param("use_global_stats", ParamType::kBool, ParamValue::of_bool(false),
           "Use the moving statistics instead of the batch statistics, also in training.")
    .param("output_mean_var", ParamType::kBool, ParamValue::of_bool(false),
           "Output the mean and inverse standard deviation too.")
    .param("axis", ParamType::kInt, ParamValue::of_int(1), "The channel axis.")
    .param("cudnn_off", ParamType::kBool, ParamValue::of_bool(false),
           "Do not use cuDNN (accepted for compatibility).")
    .nullable("min_calib_range", ParamType::kFloat,
              "Quantization calibration minimum (accepted for compatibility; unused).")
    .nullable("max_calib_range", ParamType::kFloat,
              "Quantization calibration maximum (accepted for compatibility; unused).")
    .output_names({"output", "mean", "var"})
    .visible_outputs([](const OpParams& p) { return p.get_bool("output_mean_var") ? 3 : 1; })
    .input_shapes_fn([](const OpParams& p, std::vector<Shape>* in) {
      if (!known(*in, 0) || (*in)[0].ndim() == 0) return;
      const int axis = bn_axis(p, (*in)[0]);
      for (size_t i = 1; i < 5; ++i) fill_shape(in, i, Shape{(*in)[0][axis]});
    })
    .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
      const int axis = bn_axis(p, in[0]);
      const int64_t c = in[0][axis];
      static const char* names[] = {"data", "gamma", "beta", "moving_mean", "moving_var"};
      for (size_t i = 1; i < 5; ++i) check_vec(in, i, c, names[i], "the channel axis");
      (*out)[0] = in[0];
      (*out)[1] = Shape{c};
      (*out)[2] = Shape{c};
    })
    .type_fn(bn_types)
    .cpu([](const OpContext& ctx, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      if (ctx.blocked.any()) return bn_forward_blocked(ctx, p, in, out);
      switch (in[0].dtype) {
        case DType::kFloat32: bn_forward<float, float>(ctx, p, in, out); break;
        case DType::kFloat64: bn_forward<double, double>(ctx, p, in, out); break;
        case DType::kFloat16: bn_forward<half_t, float>(ctx, p, in, out); break;
        default: throw_error(ErrorCode::kDType, "needs real data");
      }
    })
    .grad([](const NodePtr& n, const std::vector<NodeEntry>& og) {
      return backward_entries("_backward_BatchNorm", n,
                              {og[0], fwd_input(n, 0), fwd_input(n, 1), fwd_input(n, 3),
                               fwd_input(n, 4), fwd_output(n, 1), fwd_output(n, 2)},
                              {0, 1, 2, -1, -1});
    });

MXN_REGISTER_OP(_backward_BatchNorm)
    .backward_for("BatchNorm")
    .input("out_grad")
    .input("data")
    .input("gamma")
    .input("moving_mean")
    .input("moving_var")
    .input("mean")
    .input("invstd")
    .output_names({"data_grad", "gamma_grad", "beta_grad"})
    .shape_fn([](const OpParams&, const std::vector<Shape>& in, std::vector<Shape>* out) {
      (*out)[0] = in[1];
      (*out)[1] = in[2];
      (*out)[2] = in[2];
    })
    .type_fn([](const OpParams&, const std::vector<DType>& in, std::vector<DType>* out) {
      (*out)[0] = in[1];
      (*out)[1] = in[2];
      (*out)[2] = in[2];
    })
    .cpu([](const OpContext& ctx, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      if (ctx.blocked.any()) return bn_backward_blocked(ctx, p, in, out);
      switch (in[1].dtype) {
        case DType::kFloat32: bn_backward<float, float>(ctx, p, in, out); break;
        case DType::kFloat64: bn_backward<double, double>(ctx, p, in, out); break;
        case DType::kFloat16: bn_backward<half_t, float>(ctx, p, in, out); break;
        default: throw_error(ErrorCode::kDType, "needs real data");
      }
    });

MXN_REGISTER_OP(LayerNorm)
    .describe(
        "Layer normalization over one axis: out = (data - mean) / sqrt(var + eps) * gamma + "
        "beta, with mean and (biased) var taken along `axis` and gamma, beta of shape "
        "(data.shape[axis],). Outputs (out, mean, std) with std = sqrt(var + eps); mean and "
        "std have data's shape with axis set to 1 and are visible with output_mean_var.")
    .input("data", "Input data.")
    .input("gamma", "Scale.")
    .input("beta", "Shift.")
    .param("axis", ParamType::kInt, ParamValue::of_int(-1), "The axis to normalize over.")
    .param("eps", ParamType::kFloat, ParamValue::of_float(1e-5),
           "Epsilon added to the variance.")
    .param("output_mean_var", ParamType::kBool, ParamValue::of_bool(false),
           "Output the mean and std too.")
    .output_names({"output", "mean", "std"})
    .input_shapes_fn([](const OpParams& p, std::vector<Shape>* in) {
      if (!known(*in, 0) || (*in)[0].ndim() == 0) return;
      const int axis = ln_axis(p, (*in)[0]);
      fill_shape(in, 1, Shape{(*in)[0][axis]});
      fill_shape(in, 2, Shape{(*in)[0][axis]});
    })
    .visible_outputs([](const OpParams& p) { return p.get_bool("output_mean_var") ? 3 : 1; })
    .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
      const int axis = ln_axis(p, in[0]);
      check_vec(in, 1, in[0][axis], "gamma", "the normalized axis");
      check_vec(in, 2, in[0][axis], "beta", "the normalized axis");
      Shape s = in[0];
      s[axis] = 1;
      (*out)[0] = in[0];
      (*out)[1] = s;
      (*out)[2] = s;
    })
    .type_fn(real_type())
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      const AxisView v = axis_view(in[0].shape, ln_axis(p, in[0].shape));
      MXN_REAL_SWITCH(in[0].dtype, T, {
        group_norm_forward<T>(v, in[0].ptr<T>(), in[1].ptr<T>(), in[2].ptr<T>(),
                              p.get_float("eps"), true, out[0].ptr<T>(), out[1].ptr<T>(),
                              out[2].ptr<T>(), [](int64_t, int64_t r) { return r; });
      });
    })
    .grad([](const NodePtr& n, const std::vector<NodeEntry>& og) {
      return backward_entries("_backward_LayerNorm", n,
                              {og[0], fwd_input(n, 0), fwd_input(n, 1), fwd_output(n, 1),
                               fwd_output(n, 2)},
                              {0, 1, 2});
    });

MXN_REGISTER_OP(_backward_LayerNorm)
    .backward_for("LayerNorm")
    .input("out_grad")
    .input("data")
    .input("gamma")
    .input("mean")
    .input("std")
    .output_names({"data_grad", "gamma_grad", "beta_grad"})
    .shape_fn([](const OpParams&, const std::vector<Shape>& in, std::vector<Shape>* out) {
      (*out)[0] = in[1];
      (*out)[1] = in[2];
      (*out)[2] = in[2];
    })
    .type_fn(real_type())
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      const AxisView v = axis_view(in[1].shape, ln_axis(p, in[1].shape));
      MXN_REAL_SWITCH(in[1].dtype, T, {
        group_norm_backward<T>(v, in[0].ptr<T>(), in[1].ptr<T>(), in[2].ptr<T>(), in[3].ptr<T>(),
                               in[4].ptr<T>(), true, p.get_float("eps"), v.R, out[0].ptr<T>(),
                               out[1].ptr<T>(), out[2].ptr<T>(),
                               [](int64_t, int64_t r) { return r; });
      });
    });

MXN_REGISTER_OP(InstanceNorm)
    .describe(
        "Instance normalization: each (sample, channel) feature map is normalized by its own "
        "mean and (biased) variance, then scaled by gamma and shifted by beta (per channel): "
        "out = (data - mean) / sqrt(var + eps) * gamma + beta. data is (batch, channel, "
        "spatial...).")
    .input("data", "Input data (batch, channel, spatial...).")
    .input("gamma", "Scale (channel,).")
    .input("beta", "Shift (channel,).")
    .param("eps", ParamType::kFloat, ParamValue::of_float(1e-3),
           "Epsilon added to the variance.")
    .output_names({"output", "mean", "var"})
    .visible_outputs([](const OpParams&) { return 1; })
    .input_shapes_fn([](const OpParams&, std::vector<Shape>* in) {
      if (!known(*in, 0) || (*in)[0].ndim() < 2) return;
      fill_shape(in, 1, Shape{(*in)[0][1]});
      fill_shape(in, 2, Shape{(*in)[0][1]});
    })
    .shape_fn([](const OpParams&, const std::vector<Shape>& in, std::vector<Shape>* out) {
      check_instance_norm_data(in[0]);
      check_vec(in, 1, in[0][1], "gamma", "the channel axis");
      check_vec(in, 2, in[0][1], "beta", "the channel axis");
      (*out)[0] = in[0];
      (*out)[1] = Shape{in[0][0], in[0][1]};
      (*out)[2] = Shape{in[0][0], in[0][1]};
    })
    .type_fn(real_type())
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      const Shape& d = in[0].shape;
      AxisView v;
      v.outer = d[0] * d[1];
      v.R = dims_prod(d, 2, d.ndim());
      const int64_t C = d[1];
      MXN_REAL_SWITCH(in[0].dtype, T, {
        group_norm_forward<T>(v, in[0].ptr<T>(), in[1].ptr<T>(), in[2].ptr<T>(),
                              p.get_float("eps"), false, out[0].ptr<T>(), out[1].ptr<T>(),
                              out[2].ptr<T>(), [C](int64_t o, int64_t) { return o % C; });
      });
    })
    .grad([](const NodePtr& n, const std::vector<NodeEntry>& og) {
      return backward_entries("_backward_InstanceNorm", n,
                              {og[0], fwd_input(n, 0), fwd_input(n, 1), fwd_output(n, 1),
                               fwd_output(n, 2)},
                              {0, 1, 2});
    });

MXN_REGISTER_OP(_backward_InstanceNorm)
    .backward_for("InstanceNorm")
    .input("out_grad")
    .input("data")
    .input("gamma")
    .input("mean")
    .input("var")
    .output_names({"data_grad", "gamma_grad", "beta_grad"})
    .shape_fn([](const OpParams&, const std::vector<Shape>& in, std::vector<Shape>* out) {
      (*out)[0] = in[1];
      (*out)[1] = in[2];
      (*out)[2] = in[2];
    })
    .type_fn(real_type())
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      const Shape& d = in[1].shape;
      AxisView v;
      v.outer = d[0] * d[1];
      v.R = dims_prod(d, 2, d.ndim());
      const int64_t C = d[1];
      MXN_REAL_SWITCH(in[1].dtype, T, {
        group_norm_backward<T>(v, in[0].ptr<T>(), in[1].ptr<T>(), in[2].ptr<T>(), in[3].ptr<T>(),
                               in[4].ptr<T>(), false, p.get_float("eps"), C, out[0].ptr<T>(),
                               out[1].ptr<T>(), out[2].ptr<T>(),
                               [C](int64_t o, int64_t) { return o % C; });
      });
    });

MXN_REGISTER_OP(L2Normalization)
    .describe(
        "Normalizes the input by its L2 norm: out = data / sqrt(sum(data^2) + eps). mode "
        "instance (default) normalizes each sample over all its other axes; channel normalizes "
        "across channels (axis 1) at each position; spatial normalizes each channel over its "
        "spatial axes.")
    .input("data", "Input data.")
    .param("eps", ParamType::kFloat, ParamValue::of_float(1e-10),
           "Epsilon added to the sum of squares.")
    .choice("mode", {"channel", "instance", "spatial"}, "instance",
            "Which axes the norm is taken over.")
    .output_names({"output", "norm"})
    .visible_outputs([](const OpParams&) { return 1; })
    .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
      Shape ns;
      l2_view(p, in[0], &ns);
      (*out)[0] = in[0];
      (*out)[1] = ns;
    })
    .type_fn(real_type())
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      const AxisView v = l2_view(p, in[0].shape, nullptr);
      const double eps = p.get_float("eps");
      MXN_REAL_SWITCH(in[0].dtype, T, {
        using A = acc_t<T>;
        const T* x = in[0].ptr<T>();
        T* y = out[0].ptr<T>();
        T* nrm = out[1].ptr<T>();
        for (int64_t o = 0; o < v.outer; ++o) {
          for (int64_t i = 0; i < v.inner; ++i) {
            const int64_t base = o * v.R * v.inner + i;
            A s = A(0);
            for (int64_t r = 0; r < v.R; ++r) {
              const A a = A(x[base + r * v.inner]);
              s += a * a;
            }
            const A n = std::sqrt(s + A(eps));
            nrm[o * v.inner + i] = T(n);
            for (int64_t r = 0; r < v.R; ++r) {
              y[base + r * v.inner] = T(A(x[base + r * v.inner]) / n);
            }
          }
        }
      });
    })
    .grad([](const NodePtr& n, const std::vector<NodeEntry>& og) {
      return backward_entries("_backward_L2Normalization", n,
                              {og[0], fwd_output(n, 0), fwd_output(n, 1)}, {0});
    });

MXN_REGISTER_OP(_backward_L2Normalization)
    .backward_for("L2Normalization")
    .input("out_grad")
    .input("output")
    .input("norm")
    .shape_fn([](const OpParams&, const std::vector<Shape>& in, std::vector<Shape>* out) {
      (*out)[0] = in[1];
    })
    .type_fn(real_type())
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      const AxisView v = l2_view(p, in[1].shape, nullptr);
      MXN_REAL_SWITCH(in[1].dtype, T, {
        using A = acc_t<T>;
        const T* dy = in[0].ptr<T>();
        const T* y = in[1].ptr<T>();
        const T* nrm = in[2].ptr<T>();
        T* dx = out[0].ptr<T>();
        for (int64_t o = 0; o < v.outer; ++o) {
          for (int64_t i = 0; i < v.inner; ++i) {
            const int64_t base = o * v.R * v.inner + i;
            A dot = A(0);
            for (int64_t r = 0; r < v.R; ++r) {
              dot += A(dy[base + r * v.inner]) * A(y[base + r * v.inner]);
            }
            const A n = A(nrm[o * v.inner + i]);
            for (int64_t r = 0; r < v.R; ++r) {
              const int64_t j = base + r * v.inner;
              dx[j] = T((A(dy[j]) - A(y[j]) * dot) / n);
            }
          }
        }
      });
    });

MXN_REGISTER_OP(LRN)
    .describe(
        "Local response normalization across channels: out = data * (knorm + alpha / nsize * "
        "sum of data^2 over the nsize neighbouring channels)^(-beta). data is (N, C, H, W); "
        "nsize must be odd.")
    .input("data", "Input data (N, C, H, W).")
    .param("alpha", ParamType::kFloat, ParamValue::of_float(1e-4),
           "The variance scaling parameter alpha.")
    .param("beta", ParamType::kFloat, ParamValue::of_float(0.75), "The power parameter beta.")
    .param("knorm", ParamType::kFloat, ParamValue::of_float(2.0), "The parameter k.")
    .required("nsize", ParamType::kInt, "Normalization window width in channels (odd).")
    .output_names({"output", "tmp_norm"})
    .visible_outputs([](const OpParams&) { return 1; })
    .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
      check_lrn(p, in[0]);
      (*out)[0] = in[0];
      (*out)[1] = in[0];
    })
    .type_fn(real_type())
    .skips_unused_hidden_outputs_flag()
    .cpu([](const OpContext& ctx, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      const Shape& d = in[0].shape;
      check_lrn(p, d);
      const int64_t N = d[0], C = d[1], S = d[2] * d[3], nsize = p.get_int("nsize");
      const bool keep_norm = !ctx.output_unused(1);  // only a backward pass reads it
#if MXN_USE_ONEDNN
      if (!keep_norm && in[0].dtype == DType::kFloat32 &&
          onednn::lrn_forward(lrn_shape(p, d), in[0].ptr<float>(), out[0].ptr<float>())) {
        return;
      }
#endif
      MXN_REAL_SWITCH(in[0].dtype, T, {
        using A = acc_t<T>;
        const T* x = in[0].ptr<T>();
        T* y = out[0].ptr<T>();
        T* nrm = keep_norm ? out[1].ptr<T>() : nullptr;
        const A salpha = A(p.get_float("alpha")) / A(nsize);
        const A beta = A(p.get_float("beta")), k = A(p.get_float("knorm"));
        channel_windows<A>(
            N, C, S, nsize / 2, [&](int64_t j) { return A(x[j]) * A(x[j]); },
            [&](int64_t plane, const A* sum) {
              const int64_t base = plane * S;
              for (int64_t i = 0; i < S; ++i) {
                const A n = k + salpha * sum[i];
                if (nrm != nullptr) nrm[base + i] = T(n);
                y[base + i] = T(A(x[base + i]) * inv_pow(n, beta));
              }
            });
      });
    })
    .grad([](const NodePtr& n, const std::vector<NodeEntry>& og) {
      return backward_entries("_backward_LRN", n, {og[0], fwd_input(n, 0), fwd_output(n, 1)},
                              {0});
    });

MXN_REGISTER_OP(_backward_LRN)
    .backward_for("LRN")
    .input("out_grad")
    .input("data")
    .input("tmp_norm")
    .shape_fn([](const OpParams&, const std::vector<Shape>& in, std::vector<Shape>* out) {
      (*out)[0] = in[1];
    })
    .type_fn(real_type())
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      const Shape& d = in[1].shape;
      const int64_t N = d[0], C = d[1], S = d[2] * d[3], nsize = p.get_int("nsize");
      MXN_REAL_SWITCH(in[1].dtype, T, {
        using A = acc_t<T>;
        const T* dy = in[0].ptr<T>();
        const T* x = in[1].ptr<T>();
        const T* nrm = in[2].ptr<T>();
        T* dx = out[0].ptr<T>();
        const A salpha = A(p.get_float("alpha")) / A(nsize);
        const A beta = A(p.get_float("beta"));
        // t = dy x nrm^(-beta-1) once per element, then its channel windows.
        const int64_t total = N * C * S;
        Workspace ws;
        A* t = ws.alloc<A>(total);
        parallel_for(total, 8, [&](int64_t b, int64_t e) {
          for (int64_t j = b; j < e; ++j) {
            t[j] = A(dy[j]) * A(x[j]) * (inv_pow(A(nrm[j]), beta) / A(nrm[j]));
          }
        });
        channel_windows<A>(N, C, S, nsize / 2, [&](int64_t j) { return t[j]; },
                           [&](int64_t plane, const A* sum) {
                             const int64_t base = plane * S;
                             for (int64_t i = 0; i < S; ++i) {
                               const int64_t j = base + i;
                               dx[j] = T(A(dy[j]) * inv_pow(A(nrm[j]), beta) -
                                         A(2) * beta * salpha * A(x[j]) * sum[i]);
                             }
                           });
      });
    });

std::shared_ptr<const onednn::ActLayout> lrn_kept_output(const OpParams& p, const Shape& data,
                                                         DType dtype,
                                                         const onednn::ActLayout& in) {
#if MXN_USE_ONEDNN
  if (dtype == DType::kFloat32 && data.ndim() == 4) {
    check_lrn(p, data);
    return onednn::lrn_kept_output(lrn_shape(p, data), in);
  }
#else
  (void)p, (void)data, (void)dtype, (void)in;
#endif
  return nullptr;
}

void lrn_kept(const OpParams& p, const TBlob& x, const onednn::ActLayout& in, const TBlob& y,
              const onednn::ActLayout* out) {
#if MXN_USE_ONEDNN
  if (onednn::lrn_forward_kept(lrn_shape(p, x.shape), in, out, x.ptr<float>(), y.ptr<float>())) {
    return;
  }
#else
  (void)p, (void)x, (void)in, (void)y, (void)out;
#endif
  throw Error(ErrorCode::kInternal, "LRN: run on a kept layout it cannot read");
}

}  // namespace mxn::ops::nn
