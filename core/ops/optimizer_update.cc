// Fused optimizer updates with MXNet 1.x names, parameters and arithmetic (src/operator/
// optimizer_op-inl.h): the new weight is the output (call with out=weight to update in place,
// as MXNet's optimizers do); state inputs (mom, mean, var, n, z, history, weight32, ...) are
// auxiliary inputs updated in place, so the engine orders every write to them.
//
// Common parameters: lr (required), wd (weight decay), rescale_grad (grad *= rescale_grad),
// clip_gradient (clip to [-c, c] when c >= 0, as MXNet's kernels test it; the default -1 turns
// clipping off). Arithmetic runs in the weight's dtype (float16 in float32). Where MXNet reads
// the weight after writing an in-place output (nag_mom_update, mp_nag_mom_update with wd != 0),
// the old weight is used throughout.
#include <cmath>

#include "core/ops/tensor_util.h"

namespace mxn::ops {
namespace {

template <typename A>
inline A clip_grad(A g, double c) {
  if (c < 0) return g;
  const A b = static_cast<A>(c);
  return g > b ? b : (g < -b ? -b : g);
}
template <typename A>
inline A sign_of(A x) {
  return static_cast<A>((x > A(0)) - (x < A(0)));
}

void float_same_type(const OpParams&, const std::vector<DType>& in, std::vector<DType>* out) {
  for (size_t i = 0; i < in.size(); ++i) {
    if (!dtype_is_float(in[i]) || in[i] != in[0]) {
      throw Error(ErrorCode::kDType, cat("input ", i, " has dtype ", dtype_name(in[i]),
                                         "; every input needs the weight's floating-point dtype (",
                                         dtype_name(in[0]), ")"))
          .with_arg(static_cast<int>(i));
    }
  }
  (*out)[0] = in[0];
}

// Multi-precision: weight and grad share a float dtype; the states (after them) are float32.
void mp_type(const OpParams&, const std::vector<DType>& in, std::vector<DType>* out) {
  MXN_CHECK(dtype_is_float(in[0]), ErrorCode::kDType, "weight must be floating point, got ",
            dtype_name(in[0]));
  if (in[1] != in[0]) {
    throw Error(ErrorCode::kDType, cat("grad has dtype ", dtype_name(in[1]), " but weight has ",
                                       dtype_name(in[0])))
        .with_arg(1);
  }
  for (size_t i = 2; i < in.size(); ++i) {
    if (in[i] != DType::kFloat32) {
      throw Error(ErrorCode::kDType,
                  cat("input ", i, " has dtype ", dtype_name(in[i]), "; the states of a "
                      "multi-precision update are float32"))
          .with_arg(static_cast<int>(i));
    }
  }
  (*out)[0] = in[0];
}

OpDef& update_op(const char* name, const char* doc) {
  return OpRegistry::get()
      .add(name)
      .describe(doc)
      .input("weight", "Weight.")
      .input("grad", "Gradient.");
}

OpDef& common_params(OpDef& op, bool lazy_update) {
  op.param("wd", ParamType::kFloat, ParamValue::of_float(0.0),
           "Weight decay (L2 penalty coefficient).")
      .param("rescale_grad", ParamType::kFloat, ParamValue::of_float(1.0),
             "Rescale the gradient: grad = rescale_grad * grad.")
      .param("clip_gradient", ParamType::kFloat, ParamValue::of_float(-1.0),
             "Clip the gradient to [-clip_gradient, clip_gradient]; -1 (negative) turns "
             "clipping off.")
      .shape_fn(same_shape_infer);
  if (lazy_update) {
    op.param("lazy_update", ParamType::kBool, ParamValue::of_bool(true),
             "Accepted for compatibility; only dense arrays exist here, so every element is "
             "updated.");
  }
  return op;
}

OpDef& lr_param(OpDef& op) { return op.required("lr", ParamType::kFloat, "Learning rate."); }

// The multi-precision momentum updates: weight, grad, float32 momentum and master weight.
OpDef& mp_momentum_op(const char* name, const char* doc, bool lazy_update) {
  return common_params(lr_param(update_op(name, doc)
                                    .aux_input("mom", "float32 momentum (updated in place).")
                                    .aux_input("weight32",
                                               "float32 master weight (updated in place)."))
                           .param("momentum", ParamType::kFloat, ParamValue::of_float(0.0),
                                  "Decay rate of the momentum."),
                       lazy_update)
      .type_fn(mp_type);
}

struct Common {
  double lr, wd, rescale, clip;
  explicit Common(const OpParams& p)
      : lr(p.get_float("lr")),
        wd(p.get_float("wd")),
        rescale(p.get_float("rescale_grad")),
        clip(p.get_float("clip_gradient")) {}
};

}  // namespace

// ---- SGD family --------------------------------------------------------------------------------
MXN_OP_REGISTRATION =
    common_params(lr_param(update_op("sgd_update",
                                     "SGD: weight = (1 - lr*wd)*weight - lr*clip(rescale_grad*grad).")),
                  true)
        .type_fn(float_same_type)
        .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
                const std::vector<TBlob>& out) {
          const Common c(p);
          MXN_FLOAT_SWITCH(in[0].dtype, T, {
            using A = acc_t<T>;
            const T* w = in[0].ptr<T>();
            const T* g = in[1].ptr<T>();
            T* o = out[0].ptr<T>();
            const A lr = A(c.lr), wd = A(c.wd), rs = A(c.rescale);
            for (int64_t i = 0, n = in[0].size(); i < n; ++i) {
              o[i] = T((A(1) - lr * wd) * A(w[i]) - lr * clip_grad(rs * A(g[i]), c.clip));
            }
          });
        });

MXN_OP_REGISTRATION =
    common_params(
        lr_param(update_op("sgd_mom_update",
                           "SGD with momentum: mom = momentum*mom - lr*wd*weight - "
                           "lr*clip(rescale_grad*grad); weight = weight + mom.")
                     .aux_input("mom", "Momentum (updated in place)."))
            .param("momentum", ParamType::kFloat, ParamValue::of_float(0.0),
                   "Decay rate of the momentum."),
        true)
        .type_fn(float_same_type)
        .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
                const std::vector<TBlob>& out) {
          const Common c(p);
          MXN_FLOAT_SWITCH(in[0].dtype, T, {
            using A = acc_t<T>;
            const T* w = in[0].ptr<T>();
            const T* g = in[1].ptr<T>();
            T* m = in[2].ptr<T>();
            T* o = out[0].ptr<T>();
            const A lr = A(c.lr), wd = A(c.wd), rs = A(c.rescale), mu = A(p.get_float("momentum"));
            for (int64_t i = 0, n = in[0].size(); i < n; ++i) {
              const A wi = A(w[i]);
              const A mi = mu * A(m[i]) - lr * wd * wi - lr * clip_grad(rs * A(g[i]), c.clip);
              m[i] = T(mi);
              o[i] = T(wi + A(m[i]));
            }
          });
        });

MXN_OP_REGISTRATION =
    common_params(
        lr_param(update_op("nag_mom_update",
                           "Nesterov momentum: g = clip(rescale_grad*grad) + wd*weight; "
                           "m = momentum*mom; weight = weight - m + (momentum+1)*(m - lr*g); "
                           "mom = m - lr*g.")
                     .aux_input("mom", "Momentum (updated in place)."))
            .param("momentum", ParamType::kFloat, ParamValue::of_float(0.0),
                   "Decay rate of the momentum."),
        false)
        .type_fn(float_same_type)
        .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
                const std::vector<TBlob>& out) {
          const Common c(p);
          MXN_FLOAT_SWITCH(in[0].dtype, T, {
            using A = acc_t<T>;
            const T* w = in[0].ptr<T>();
            const T* g = in[1].ptr<T>();
            T* m = in[2].ptr<T>();
            T* o = out[0].ptr<T>();
            const A lr = A(c.lr), wd = A(c.wd), rs = A(c.rescale), mu = A(p.get_float("momentum"));
            for (int64_t i = 0, n = in[0].size(); i < n; ++i) {
              const A wi = A(w[i]);
              const A gi = clip_grad(rs * A(g[i]), c.clip) + wd * wi;
              const A m1 = mu * A(m[i]);
              o[i] = T(wi - m1 + (mu + A(1)) * (m1 - lr * gi));
              m[i] = T(m1 - lr * gi);
            }
          });
        });

MXN_OP_REGISTRATION =
    common_params(lr_param(update_op("signsgd_update",
                                     "SignSGD: weight = (1 - lr*wd)*weight - lr*sign(grad) "
                                     "(rescale_grad and clip_gradient have no effect, as in "
                                     "MXNet).")),
                  false)
        .type_fn(float_same_type)
        .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
                const std::vector<TBlob>& out) {
          const Common c(p);
          MXN_FLOAT_SWITCH(in[0].dtype, T, {
            using A = acc_t<T>;
            const T* w = in[0].ptr<T>();
            const T* g = in[1].ptr<T>();
            T* o = out[0].ptr<T>();
            const A lr = A(c.lr), wd = A(c.wd);
            for (int64_t i = 0, n = in[0].size(); i < n; ++i) {
              o[i] = T((A(1) - lr * wd) * A(w[i]) - lr * sign_of(A(g[i])));
            }
          });
        });

MXN_OP_REGISTRATION =
    common_params(
        lr_param(update_op("signum_update",
                           "Signum: mom = momentum*mom - (1-momentum)*wd*weight - "
                           "(1-momentum)*clip(rescale_grad*grad); weight = (1 - lr*wd_lh)*weight "
                           "+ lr*sign(mom).")
                     .aux_input("mom", "Momentum (updated in place)."))
            .param("momentum", ParamType::kFloat, ParamValue::of_float(0.0),
                   "Decay rate of the momentum."),
        false)
        .param("wd_lh", ParamType::kFloat, ParamValue::of_float(0.0),
               "Decoupled weight decay (applied to the weight directly).")
        .type_fn(float_same_type)
        .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
                const std::vector<TBlob>& out) {
          const Common c(p);
          MXN_FLOAT_SWITCH(in[0].dtype, T, {
            using A = acc_t<T>;
            const T* w = in[0].ptr<T>();
            const T* g = in[1].ptr<T>();
            T* m = in[2].ptr<T>();
            T* o = out[0].ptr<T>();
            const A lr = A(c.lr), wd = A(c.wd), rs = A(c.rescale), mu = A(p.get_float("momentum"));
            const A wd_lh = A(p.get_float("wd_lh"));
            for (int64_t i = 0, n = in[0].size(); i < n; ++i) {
              const A wi = A(w[i]);
              const A mi = mu * A(m[i]) - (A(1) - mu) * wd * wi -
                           (A(1) - mu) * clip_grad(rs * A(g[i]), c.clip);
              m[i] = T(mi);
              o[i] = T((A(1) - lr * wd_lh) * wi + lr * sign_of(A(m[i])));
            }
          });
        });

// ---- adaptive ----------------------------------------------------------------------------------
MXN_OP_REGISTRATION =
    common_params(
        lr_param(update_op("adam_update",
                           "Adam (no bias correction; the optimizer folds it into lr): g = "
                           "clip(rescale_grad*grad + wd*weight); mean = beta1*mean + (1-beta1)*g; "
                           "var = beta2*var + (1-beta2)*g*g; weight = weight - "
                           "lr*mean/(sqrt(var) + epsilon).")
                     .aux_input("mean", "First moment (updated in place).")
                     .aux_input("var", "Second moment (updated in place)."))
            .param("beta1", ParamType::kFloat, ParamValue::of_float(0.9),
                   "Decay rate of the first moment.")
            .param("beta2", ParamType::kFloat, ParamValue::of_float(0.999),
                   "Decay rate of the second moment.")
            .param("epsilon", ParamType::kFloat, ParamValue::of_float(1e-8),
                   "Small constant for numerical stability."),
        true)
        .type_fn(float_same_type)
        .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
                const std::vector<TBlob>& out) {
          const Common c(p);
          MXN_FLOAT_SWITCH(in[0].dtype, T, {
            using A = acc_t<T>;
            const T* w = in[0].ptr<T>();
            const T* g = in[1].ptr<T>();
            T* mean = in[2].ptr<T>();
            T* var = in[3].ptr<T>();
            T* o = out[0].ptr<T>();
            const A lr = A(c.lr), wd = A(c.wd), rs = A(c.rescale);
            const A b1 = A(p.get_float("beta1")), b2 = A(p.get_float("beta2"));
            const A eps = A(p.get_float("epsilon"));
            for (int64_t i = 0, n = in[0].size(); i < n; ++i) {
              const A wi = A(w[i]);
              const A gi = clip_grad(A(g[i]) * rs + wi * wd, c.clip);
              mean[i] = T(b1 * A(mean[i]) + (A(1) - b1) * gi);
              var[i] = T(b2 * A(var[i]) + (A(1) - b2) * gi * gi);
              o[i] = T(wi - lr * A(mean[i]) / (std::sqrt(A(var[i])) + eps));
            }
          });
        });

MXN_OP_REGISTRATION =
    common_params(
        lr_param(update_op("rmsprop_update",
                           "RMSProp (Tieleman & Hinton): g = clip(rescale_grad*grad + "
                           "wd*weight); n = (1-gamma1)*g*g + gamma1*n; weight = weight - "
                           "lr*g/sqrt(n + epsilon), clipped to [-clip_weights, clip_weights] "
                           "when clip_weights >= 0.")
                     .aux_input("n", "Mean square (updated in place)."))
            .param("gamma1", ParamType::kFloat, ParamValue::of_float(0.95),
                   "Decay rate of the mean square.")
            .param("epsilon", ParamType::kFloat, ParamValue::of_float(1e-8),
                   "Small constant for numerical stability."),
        false)
        .param("clip_weights", ParamType::kFloat, ParamValue::of_float(-1.0),
               "Clip the weight to [-clip_weights, clip_weights]; negative: off.")
        .type_fn(float_same_type)
        .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
                const std::vector<TBlob>& out) {
          const Common c(p);
          MXN_FLOAT_SWITCH(in[0].dtype, T, {
            using A = acc_t<T>;
            const T* w = in[0].ptr<T>();
            const T* g = in[1].ptr<T>();
            T* sn = in[2].ptr<T>();
            T* o = out[0].ptr<T>();
            const A lr = A(c.lr), wd = A(c.wd), rs = A(c.rescale);
            const A g1 = A(p.get_float("gamma1")), eps = A(p.get_float("epsilon"));
            const double cw = p.get_float("clip_weights");
            for (int64_t i = 0, n = in[0].size(); i < n; ++i) {
              const A wi = A(w[i]);
              const A gi = clip_grad(rs * A(g[i]) + wd * wi, c.clip);
              sn[i] = T((A(1) - g1) * (gi * gi) + g1 * A(sn[i]));
              o[i] = T(clip_grad(wi - lr * (gi / std::sqrt(A(sn[i]) + eps)), cw));
            }
          });
        });

MXN_OP_REGISTRATION =
    common_params(
        lr_param(update_op("rmspropalex_update",
                           "Centered RMSProp (Graves 2013): g = clip(rescale_grad*grad + "
                           "wd*weight); n = (1-gamma1)*g*g + gamma1*n; g_avg = (1-gamma1)*g + "
                           "gamma1*g_avg; delta = gamma2*delta - lr*g/sqrt(n - g_avg**2 + "
                           "epsilon); weight = weight + delta (clipped by clip_weights >= 0).")
                     .aux_input("n", "Mean square (updated in place).")
                     .aux_input("g", "Mean gradient (updated in place).")
                     .aux_input("delta", "Update (updated in place)."))
            .param("gamma1", ParamType::kFloat, ParamValue::of_float(0.95), "Decay rate.")
            .param("gamma2", ParamType::kFloat, ParamValue::of_float(0.9), "Decay rate.")
            .param("epsilon", ParamType::kFloat, ParamValue::of_float(1e-8),
                   "Small constant for numerical stability."),
        false)
        .param("clip_weights", ParamType::kFloat, ParamValue::of_float(-1.0),
               "Clip the weight to [-clip_weights, clip_weights]; negative: off.")
        .type_fn(float_same_type)
        .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
                const std::vector<TBlob>& out) {
          const Common c(p);
          MXN_FLOAT_SWITCH(in[0].dtype, T, {
            using A = acc_t<T>;
            const T* w = in[0].ptr<T>();
            const T* g = in[1].ptr<T>();
            T* sn = in[2].ptr<T>();
            T* sg = in[3].ptr<T>();
            T* dl = in[4].ptr<T>();
            T* o = out[0].ptr<T>();
            const A lr = A(c.lr), wd = A(c.wd), rs = A(c.rescale);
            const A g1 = A(p.get_float("gamma1")), g2 = A(p.get_float("gamma2"));
            const A eps = A(p.get_float("epsilon"));
            const double cw = p.get_float("clip_weights");
            for (int64_t i = 0, n = in[0].size(); i < n; ++i) {
              const A wi = A(w[i]);
              const A gi = clip_grad(rs * A(g[i]) + wd * wi, c.clip);
              sn[i] = T((A(1) - g1) * gi * gi + g1 * A(sn[i]));
              sg[i] = T((A(1) - g1) * gi + g1 * A(sg[i]));
              dl[i] = T(g2 * A(dl[i]) -
                        (lr * gi / std::sqrt(A(sn[i]) - A(sg[i]) * A(sg[i]) + eps)));
              o[i] = T(clip_grad(wi + A(dl[i]), cw));
            }
          });
        });

MXN_OP_REGISTRATION =
    OpRegistry::get()
        .add("_sparse_adagrad_update")
        .alias("adagrad_update")
        .describe("AdaGrad (MXNet's _sparse_adagrad_update, applied to every element of dense "
                  "arrays): g = clip(rescale_grad*grad); history += g*g; weight = weight - "
                  "lr*(g/sqrt(history + epsilon) + wd*weight). (MXNet's sparse kernel refuses "
                  "wd != 0; wd follows MXNet's Python AdaGrad here.)")
        .input("weight", "Weight.")
        .input("grad", "Gradient.")
        .aux_input("history", "Sum of squared gradients (updated in place).")
        .required("lr", ParamType::kFloat, "Learning rate.")
        .param("epsilon", ParamType::kFloat, ParamValue::of_float(1e-7),
               "Small constant for numerical stability.")
        .param("wd", ParamType::kFloat, ParamValue::of_float(0.0), "Weight decay.")
        .param("rescale_grad", ParamType::kFloat, ParamValue::of_float(1.0),
               "Rescale the gradient: grad = rescale_grad * grad.")
        .param("clip_gradient", ParamType::kFloat, ParamValue::of_float(-1.0),
               "Clip the gradient to [-clip_gradient, clip_gradient]; negative: off.")
        .shape_fn(same_shape_infer)
        .type_fn(float_same_type)
        .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
                const std::vector<TBlob>& out) {
          const Common c(p);
          MXN_FLOAT_SWITCH(in[0].dtype, T, {
            using A = acc_t<T>;
            const T* w = in[0].ptr<T>();
            const T* g = in[1].ptr<T>();
            T* h = in[2].ptr<T>();
            T* o = out[0].ptr<T>();
            const A lr = A(c.lr), wd = A(c.wd), rs = A(c.rescale);
            const A eps = A(p.get_float("epsilon"));
            for (int64_t i = 0, n = in[0].size(); i < n; ++i) {
              const A wi = A(w[i]);
              const A gi = clip_grad(A(g[i]) * rs, c.clip);
              h[i] = T(A(h[i]) + gi * gi);
              o[i] = T(wi - lr * (gi / std::sqrt(A(h[i]) + eps) + wd * wi));
            }
          });
        });

MXN_OP_REGISTRATION =
    common_params(
        lr_param(update_op("ftrl_update",
                           "FTRL-Proximal: g = clip(rescale_grad*grad); z += g - "
                           "(sqrt(n + g*g) - sqrt(n))*weight/lr; n += g*g; weight = "
                           "(sign(z)*lamda1 - z) / ((beta + sqrt(n))/lr + wd) where |z| > "
                           "lamda1, else 0.")
                     .aux_input("z", "z (updated in place).")
                     .aux_input("n", "n (updated in place)."))
            .param("lamda1", ParamType::kFloat, ParamValue::of_float(0.01),
                   "L1 regularization coefficient.")
            .param("beta", ParamType::kFloat, ParamValue::of_float(1.0),
                   "Per-coordinate learning rate beta."),
        false)
        .type_fn(float_same_type)
        .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
                const std::vector<TBlob>& out) {
          const Common c(p);
          MXN_FLOAT_SWITCH(in[0].dtype, T, {
            using A = acc_t<T>;
            const T* w = in[0].ptr<T>();
            const T* g = in[1].ptr<T>();
            T* z = in[2].ptr<T>();
            T* nn = in[3].ptr<T>();
            T* o = out[0].ptr<T>();
            const A lr = A(c.lr), wd = A(c.wd), rs = A(c.rescale);
            const A l1 = A(p.get_float("lamda1")), beta = A(p.get_float("beta"));
            for (int64_t i = 0, n = in[0].size(); i < n; ++i) {
              const A wi = A(w[i]);
              const A gi = clip_grad(A(g[i]) * rs, c.clip);
              const A ni = A(nn[i]);
              z[i] = T(A(z[i]) + gi - (std::sqrt(ni + gi * gi) - std::sqrt(ni)) * wi / lr);
              nn[i] = T(ni + gi * gi);
              const A zi = A(z[i]);
              o[i] = T((sign_of(zi) * l1 - zi) / ((beta + std::sqrt(A(nn[i]))) / lr + wd) *
                       A(std::fabs(zi) > l1 ? 1 : 0));
            }
          });
        });

// ---- multi-precision -----------------------------------------------------------------------
MXN_OP_REGISTRATION =
    common_params(lr_param(update_op("mp_sgd_update",
                                     "Multi-precision SGD: the float32 master copy weight32 "
                                     "takes sgd_update's step (in float32); the output is it "
                                     "cast to the weight's dtype.")
                               .aux_input("weight32", "float32 master weight (updated in "
                                                      "place).")),
                  true)
        .type_fn(mp_type)
        .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
                const std::vector<TBlob>& out) {
          const Common c(p);
          MXN_FLOAT_SWITCH(in[0].dtype, T, {
            const T* g = in[1].ptr<T>();
            float* w32 = in[2].ptr<float>();
            T* o = out[0].ptr<T>();
            const float lr = float(c.lr), wd = float(c.wd), rs = float(c.rescale);
            for (int64_t i = 0, n = in[0].size(); i < n; ++i) {
              const float wi = (1.f - lr * wd) * w32[i] -
                               lr * clip_grad(rs * static_cast<float>(acc_t<T>(g[i])), c.clip);
              w32[i] = wi;
              o[i] = T(static_cast<acc_t<T>>(wi));
            }
          });
        });

MXN_OP_REGISTRATION =
    mp_momentum_op("mp_sgd_mom_update",
                   "Multi-precision SGD with momentum (float32 momentum and master weight): "
                   "mom = momentum*mom - lr*wd*weight32 - lr*clip(rescale_grad*grad); "
                   "weight32 += mom; output = weight32 cast to the weight's dtype.",
                   true)
        .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
                const std::vector<TBlob>& out) {
          const Common c(p);
          MXN_FLOAT_SWITCH(in[0].dtype, T, {
            const T* g = in[1].ptr<T>();
            float* m = in[2].ptr<float>();
            float* w32 = in[3].ptr<float>();
            T* o = out[0].ptr<T>();
            const float lr = float(c.lr), wd = float(c.wd), rs = float(c.rescale);
            const float mu = float(p.get_float("momentum"));
            for (int64_t i = 0, n = in[0].size(); i < n; ++i) {
              const float mi = mu * m[i] - lr * wd * w32[i] -
                               lr * clip_grad(rs * static_cast<float>(acc_t<T>(g[i])), c.clip);
              m[i] = mi;
              w32[i] = w32[i] + mi;
              o[i] = T(static_cast<acc_t<T>>(w32[i]));
            }
          });
        });

MXN_OP_REGISTRATION =
    mp_momentum_op("mp_nag_mom_update",
                   "Multi-precision Nesterov momentum: nag_mom_update on the float32 master "
                   "weight and momentum; output = weight32 cast to the weight's dtype.",
                   false)
        .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
                const std::vector<TBlob>& out) {
          const Common c(p);
          MXN_FLOAT_SWITCH(in[0].dtype, T, {
            const T* g = in[1].ptr<T>();
            float* m = in[2].ptr<float>();
            float* w32 = in[3].ptr<float>();
            T* o = out[0].ptr<T>();
            const float lr = float(c.lr), wd = float(c.wd), rs = float(c.rescale);
            const float mu = float(p.get_float("momentum"));
            for (int64_t i = 0, n = in[0].size(); i < n; ++i) {
              const float wi = w32[i];
              const float gi = clip_grad(rs * static_cast<float>(acc_t<T>(g[i])), c.clip) + wd * wi;
              const float m1 = mu * m[i];
              w32[i] = wi - m1 + (mu + 1.f) * (m1 - lr * gi);
              m[i] = m1 - lr * gi;
              o[i] = T(static_cast<acc_t<T>>(w32[i]));
            }
          });
        });

}  // namespace mxn::ops
