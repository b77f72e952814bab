// Activation layers (MXNet 1.x): Activation (relu, sigmoid, tanh, softrelu, softsign,
// log_sigmoid, mish), LeakyReLU (leaky, elu, selu, gelu, rrelu, prelu), softmax, log_softmax
// (axis, temperature, dtype) and SoftmaxActivation (instance / channel). float16 computes in
// float.
#include "core/base/philox.h"
#include "core/base/portable_math.h"
#include "core/ops/nn_util.h"

namespace mxn::ops::nn {
namespace {

// ---- Activation ----------------------------------------------------------------------------
enum class Act { kRelu, kSigmoid, kTanh, kSoftrelu, kSoftsign, kLogSigmoid, kMish };

Act act_of(const std::string& s) {
  if (s == "relu") return Act::kRelu;
  if (s == "sigmoid") return Act::kSigmoid;
  if (s == "tanh") return Act::kTanh;
  if (s == "softrelu") return Act::kSoftrelu;
  if (s == "softsign") return Act::kSoftsign;
  if (s == "log_sigmoid") return Act::kLogSigmoid;
  return Act::kMish;
}

template <typename A>
A softrelu(A x) {  // MXNet: exact for x > 20
  return x > A(20) ? x : std::log1p(std::exp(x));
}

template <typename A>
A act_forward(Act a, A x) {
  switch (a) {
    case Act::kRelu: return x > A(0) ? x : A(0);
    case Act::kSigmoid: return A(1) / (A(1) + std::exp(-x));
    case Act::kTanh: return pmath::tanh(x);
    case Act::kSoftrelu: return softrelu(x);
    case Act::kSoftsign: return x / (A(1) + std::fabs(x));
    case Act::kLogSigmoid: return -softrelu(-x);
    case Act::kMish: return x * pmath::tanh(softrelu(x));
  }
  return x;
}

// d out / d x from the input x and the output y (MXNet's *_grad functors).
template <typename A>
A act_grad(Act a, A x, A y) {
  switch (a) {
    case Act::kRelu: return y > A(0) ? A(1) : A(0);
    case Act::kSigmoid: return y * (A(1) - y);
    case Act::kTanh: return A(1) - y * y;
    case Act::kSoftrelu: return -std::expm1(-y);
    case Act::kSoftsign: {
      const A d = A(1) + std::fabs(x);
      return A(1) / (d * d);
    }
    case Act::kLogSigmoid: return A(1) - std::exp(y);
    case Act::kMish: {
      const A t = pmath::tanh(softrelu(x));
      const A sig = A(1) / (A(1) + std::exp(-x));
      return t + x * sig * (A(1) - t * t);
    }
  }
  return A(0);
}

// ---- LeakyReLU -------------------------------------------------------------------------------
enum class Leaky { kLeaky, kElu, kSelu, kGelu, kRrelu, kPrelu };
Leaky leaky_of(const std::string& s) {
  if (s == "leaky") return Leaky::kLeaky;
  if (s == "elu") return Leaky::kElu;
  if (s == "selu") return Leaky::kSelu;
  if (s == "gelu") return Leaky::kGelu;
  if (s == "rrelu") return Leaky::kRrelu;
  return Leaky::kPrelu;
}
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluLambda = 1.0507009873554804934193349852946;
constexpr double kSqrt1_2 = 0.70710678118654752440;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;

// prelu's gamma: one value, or one per channel (axis 1).
void check_prelu_gamma(const Shape& d, const Shape& g) {
  const int64_t c = d.ndim() > 1 ? d[1] : 1;
  if (g != Shape{1} && g != Shape{c}) {
    shape_error(1, cat("gamma has shape ", g.str(), " but needs (1,) or (", c,
                       ",) (the channel axis of data ", d.str(), ")"));
  }
}

// Index of the channel of flat element j in data of shape d, for per-channel gamma.
struct ChannelOf {
  int64_t C = 1, inner = 1;
  int64_t operator()(int64_t j) const { return (j / inner) % C; }
};
ChannelOf channel_of(const Shape& d, const Shape& g) {
  ChannelOf f;
  if (g.ndim() == 1 && g[0] > 1 && d.ndim() > 1) {
    f.C = d[1];
    f.inner = dims_prod(d, 2, d.ndim());
  }
  return f;
}

// ---- softmax family --------------------------------------------------------------------------
struct SoftmaxView {
  int64_t outer = 1, R = 1, inner = 1;
};
SoftmaxView softmax_view(const Shape& s, int axis) {
  SoftmaxView v;
  v.outer = dims_prod(s, 0, axis);
  v.R = s[axis];
  v.inner = dims_prod(s, axis + 1, s.ndim());
  return v;
}

template <typename TI, typename TO>
void softmax_forward(const SoftmaxView& v, double temperature, bool log, const TI* x, TO* y) {
  using A = std::conditional_t<std::is_same_v<TI, double> || std::is_same_v<TO, double>, double,
                               float>;
  const A t = A(temperature);
  parallel_for(v.outer, v.R * v.inner * 8, [&](int64_t o0, int64_t o1) {
    for (int64_t o = o0; o < o1; ++o) {
      for (int64_t i = 0; i < v.inner; ++i) {
        const int64_t base = o * v.R * v.inner + i;
        if (v.R == 0) continue;
        A m = A(x[base]);
        for (int64_t r = 1; r < v.R; ++r) m = std::max(m, A(x[base + r * v.inner]));
        A s = A(0);
        for (int64_t r = 0; r < v.R; ++r) s += std::exp((A(x[base + r * v.inner]) - m) / t);
        if (log) {
          const A ls = std::log(s);
          for (int64_t r = 0; r < v.R; ++r) {
            y[base + r * v.inner] = TO((A(x[base + r * v.inner]) - m) / t - ls);
          }
        } else {
          for (int64_t r = 0; r < v.R; ++r) {
            y[base + r * v.inner] = TO(std::exp((A(x[base + r * v.inner]) - m) / t) / s);
          }
        }
      }
    }
  });
}

template <typename TO, typename TI>
void softmax_backward(const SoftmaxView& v, double temperature, bool log, const TO* dy,
                      const TO* y, TI* dx) {
  using A = std::conditional_t<std::is_same_v<TI, double> || std::is_same_v<TO, double>, double,
                               float>;
  const A t = A(temperature);
  for (int64_t o = 0; o < v.outer; ++o) {
    for (int64_t i = 0; i < v.inner; ++i) {
      const int64_t base = o * v.R * v.inner + i;
      A s = A(0);
      for (int64_t r = 0; r < v.R; ++r) {
        const int64_t j = base + r * v.inner;
        s += log ? A(dy[j]) : A(dy[j]) * A(y[j]);
      }
      for (int64_t r = 0; r < v.R; ++r) {
        const int64_t j = base + r * v.inner;
        dx[j] = log ? TI((A(dy[j]) - std::exp(A(y[j])) * s) / t)
                    : TI(A(y[j]) * (A(dy[j]) - s) / t);
      }
    }
  }
}

int softmax_axis(const OpParams& p, const Shape& d) {
  if (d.ndim() == 0) shape_error(0, "data must have at least 1 dimension, got a 0-d array");
  return normalize_axis(p.get_int("axis"), d.ndim());
}

double softmax_temperature(const OpParams& p) {
  if (p.is_none("temperature")) return 1.0;
  const double t = p.get_float("temperature");
  MXN_CHECK(t != 0.0, ErrorCode::kInvalidArg, "temperature must not be 0");
  return t;
}

template <typename F>
void real_pair_switch(DType ti, DType to, F f) {
  MXN_REAL_SWITCH(ti, TI, { MXN_REAL_SWITCH(to, TO, { f(TI(), TO()); }); });
}

OpDef& softmax_op(const char* name, bool log, const char* doc) {
  OpDef& op = OpRegistry::get()
                  .add(name)
                  .describe(doc)
                  .input("data", "Input data.")
                  .param("axis", ParamType::kInt, ParamValue::of_int(-1),
                         "The axis along which to compute softmax.")
                  .nullable("temperature", ParamType::kFloat,
                            "Temperature parameter in softmax (None means 1).")
                  .nullable("dtype", ParamType::kDType,
                            "Output dtype (float16, float32 or float64); None: the data's.");
  op.shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
        softmax_axis(p, in[0]);
        (*out)[0] = in[0];
      })
      .type_fn([](const OpParams& p, const std::vector<DType>& in, std::vector<DType>* out) {
        real_same_type(p.op(), in, out);
        if (!p.is_none("dtype")) {
          const DType t = p.get_dtype("dtype");
          MXN_CHECK(is_real(t), ErrorCode::kDType, "dtype must be float16, float32 or float64, got ",
                    dtype_name(t));
          (*out)[0] = t;
        }
      })
      .cpu([log](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
                 const std::vector<TBlob>& out) {
        const SoftmaxView v = softmax_view(in[0].shape, softmax_axis(p, in[0].shape));
        const double t = softmax_temperature(p);
        real_pair_switch(in[0].dtype, out[0].dtype, [&](auto ti, auto to) {
          using TI = decltype(ti);
          using TO = decltype(to);
          softmax_forward<TI, TO>(v, t, log, in[0].ptr<TI>(), out[0].ptr<TO>());
        });
      })
      .grad([name](const NodePtr& n, const std::vector<NodeEntry>& og) {
        return backward_entries(cat("_backward_", name).c_str(), n,
                                {og[0], fwd_output(n, 0), fwd_input(n, 0)}, {0});
      });
  OpRegistry::get()
      .add(cat("_backward_", name))
      .backward_for(name)
      .input("out_grad")
      .input("output")
      .input("data")
      .shape_fn([](const OpParams&, const std::vector<Shape>& in, std::vector<Shape>* out) {
        (*out)[0] = in[2];
      })
      .type_fn([](const OpParams&, const std::vector<DType>& in, std::vector<DType>* out) {
        (*out)[0] = in[2];
      })
      .cpu([log](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
                 const std::vector<TBlob>& out) {
        const SoftmaxView v = softmax_view(in[2].shape, softmax_axis(p, in[2].shape));
        const double t = softmax_temperature(p);
        real_pair_switch(in[0].dtype, out[0].dtype, [&](auto to, auto ti) {
          using TO = decltype(to);
          using TI = decltype(ti);
          softmax_backward<TO, TI>(v, t, log, in[0].ptr<TO>(), in[1].ptr<TO>(), out[0].ptr<TI>());
        });
      });
  return op;
}

SoftmaxView softmax_activation_view(const OpParams& p, const Shape& d) {
  if (d.ndim() < 1) shape_error(0, "data must have at least 1 dimension, got a 0-d array");
  SoftmaxView v;
  if (p.get_string("mode") == "channel") {
    if (d.ndim() < 2) {
      shape_error(0, cat("mode='channel' needs at least 2 dimensions, got ", d.str()));
    }
    v.outer = d[0];
    v.R = d[1];
    v.inner = dims_prod(d, 2, d.ndim());
  } else {
    v.outer = d[0];
    v.R = dims_prod(d, 1, d.ndim());
  }
  return v;
}

}  // namespace

MXN_OP_REGISTRATION = [] () -> OpDef& {
  OpDef& op = OpRegistry::get().add("Activation").describe(
      "Applies an activation function element-wise: relu max(x, 0); sigmoid 1/(1+exp(-x)); "
      "tanh; softrelu log(1+exp(x)); softsign x/(1+|x|); log_sigmoid log(sigmoid(x)); mish "
      "x*tanh(softrelu(x)).");
  op.input("data", "Input data.").inplace(0);  // element-wise: may overwrite a dying input
  required_choice(op, "act_type",
                  {"log_sigmoid", "mish", "relu", "sigmoid", "softrelu", "softsign", "tanh"},
                  "Activation function to be applied.");
  op.shape_fn(same_shape_infer)
      .type_fn(real_type())
      .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
              const std::vector<TBlob>& out) {
        const Act a = act_of(p.get_string("act_type"));
        MXN_REAL_SWITCH(in[0].dtype, T, {
          using A = acc_t<T>;
          const T* x = in[0].ptr<T>();
          T* y = out[0].ptr<T>();
          parallel_for(in[0].size(), a == Act::kRelu ? 1 : 16, [&](int64_t b, int64_t e) {
            if (a == Act::kRelu) {
              for (int64_t i = b; i < e; ++i) y[i] = A(x[i]) > A(0) ? x[i] : T(0);
            } else {
              for (int64_t i = b; i < e; ++i) y[i] = T(act_forward<A>(a, A(x[i])));
            }
          });
        });
      })
      .grad([](const NodePtr& n, const std::vector<NodeEntry>& og) {
        // relu, sigmoid, tanh, softrelu and log_sigmoid differentiate from their output
        // alone: the output fills the data slot too, so the input need not be kept (the
        // planner may then overwrite it in place, as MXNet does).
        const Act a = act_of(n->params.get_string("act_type"));
        const bool from_output = a != Act::kSoftsign && a != Act::kMish;
        const NodeEntry out{n, 0};
        NodePtr b = make_backward_node("_backward_Activation", n,
                                       {og[0], from_output ? out : n->inputs[0], out});
        return std::vector<NodeEntry>{NodeEntry{b, 0}};
      });
  return op;
}();

MXN_REGISTER_OP(_backward_Activation)
    .backward_for("Activation")
    .input("out_grad")
    .input("data")
    .input("output")
    .shape_fn([](const OpParams&, const std::vector<Shape>& in, std::vector<Shape>* out) {
      (*out)[0] = in[1];
    })
    .type_fn(real_type())
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      const Act a = act_of(p.get_string("act_type"));
      MXN_REAL_SWITCH(in[1].dtype, T, {
        using A = acc_t<T>;
        const T* dy = in[0].ptr<T>();
        const T* x = in[1].ptr<T>();
        const T* y = in[2].ptr<T>();
        T* dx = out[0].ptr<T>();
        parallel_for(in[1].size(), a == Act::kRelu ? 1 : 16, [&](int64_t b, int64_t e) {
          if (a == Act::kRelu) {  // the same product, written so that it vectorises
            for (int64_t i = b; i < e; ++i) {
              dx[i] = T(A(dy[i]) * (A(y[i]) > A(0) ? A(1) : A(0)));
            }
            return;
          }
          for (int64_t i = b; i < e; ++i) {
            dx[i] = T(A(dy[i]) * act_grad<A>(a, A(x[i]), A(y[i])));
          }
        });
      });
    });

MXN_OP_REGISTRATION = [] () -> OpDef& {
  OpDef& op = OpRegistry::get().add("LeakyReLU").describe(
      "Leaky rectified linear units and relatives: leaky x>0 ? x : slope*x; elu x>0 ? x : "
      "slope*(exp(x)-1); selu lambda*(x>0 ? x : alpha*(exp(x)-1)); gelu 0.5*x*(1+erf(x/sqrt(2))); "
      "rrelu: leaky with a slope drawn from U(lower_bound, upper_bound) per element in "
      "training and (lower_bound+upper_bound)/2 otherwise (the slopes are a hidden second "
      "output); prelu: leaky with a learned slope gamma per channel (axis 1).");
  op.input("data", "Input data.")
      .optional_input("gamma", "Slope per channel (prelu only; absent otherwise).")
      .inputs_used([](const OpParams& p) {
        return p.get_string("act_type") == "prelu" ? std::vector<std::string>{"data", "gamma"}
                                                   : std::vector<std::string>{"data"};
      })
      .input_shapes_fn([](const OpParams& p, std::vector<Shape>* in) {
        if (p.get_string("act_type") != "prelu" || !known(*in, 0)) return;
        const Shape& d = (*in)[0];
        fill_shape(in, 1, Shape{d.ndim() > 1 ? d[1] : 1});
      })
      .choice("act_type", {"elu", "gelu", "leaky", "prelu", "rrelu", "selu"}, "leaky",
              "Activation function to be applied.")
      .param("slope", ParamType::kFloat, ParamValue::of_float(0.25),
             "Init slope for the activation (leaky and elu).")
      .param("lower_bound", ParamType::kFloat, ParamValue::of_float(0.125),
             "Lower bound of the random slope (rrelu).")
      .param("upper_bound", ParamType::kFloat, ParamValue::of_float(0.334),
             "Upper bound of the random slope (rrelu).")
      .dynamic_outputs([](const OpParams& p) {
        return p.get_string("act_type") == "rrelu" ? 2 : 1;
      })
      .visible_outputs([](const OpParams&) { return 1; })
      .random([](const OpParams&) { return false; })  // rrelu: the mean slope in inference
      .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
        if (p.get_string("act_type") == "prelu") check_prelu_gamma(in[0], in[1]);
        out->assign(out->size(), in[0]);
      })
      .type_fn(real_type())
      .cpu([](const OpContext& ctx, const OpParams& p, const std::vector<TBlob>& in,
              const std::vector<TBlob>& out) {
        const Leaky a = leaky_of(p.get_string("act_type"));
        const double slope = p.get_float("slope");
        const double lo = p.get_float("lower_bound"), hi = p.get_float("upper_bound");
        MXN_REAL_SWITCH(in[0].dtype, T, {
          using A = acc_t<T>;
          const T* x = in[0].ptr<T>();
          T* y = out[0].ptr<T>();
          const int64_t n = in[0].size();
          switch (a) {
            case Leaky::kLeaky:
              for (int64_t i = 0; i < n; ++i) {
                const A v = A(x[i]);
                y[i] = T(v > A(0) ? v : A(slope) * v);
              }
              break;
            case Leaky::kElu:
              for (int64_t i = 0; i < n; ++i) {
                const A v = A(x[i]);
                y[i] = T(v > A(0) ? v : A(slope) * std::expm1(v));
              }
              break;
            case Leaky::kSelu:
              for (int64_t i = 0; i < n; ++i) {
                const A v = A(x[i]);
                y[i] = T(A(kSeluLambda) * (v > A(0) ? v : A(kSeluAlpha) * std::expm1(v)));
              }
              break;
            case Leaky::kGelu:
              for (int64_t i = 0; i < n; ++i) {
                const A v = A(x[i]);
                y[i] = T(A(0.5) * v * (A(1) + pmath::erf(v * A(kSqrt1_2))));
              }
              break;
            case Leaky::kRrelu: {
              T* mask = out[1].ptr<T>();
              for (int64_t i = 0; i < n; ++i) {
                A s = A((lo + hi) / 2);
                if (ctx.is_train) {
                  uint32_t w[4];
                  Philox4x32::at(ctx.seed, ctx.counter + static_cast<uint64_t>(i), w);
                  s = A(lo + (hi - lo) * philox_uniform53(w[0], w[1]));
                }
                mask[i] = T(s);
                const A v = A(x[i]);
                y[i] = T(v > A(0) ? v : s * v);
              }
              break;
            }
            case Leaky::kPrelu: {
              const T* g = in[1].ptr<T>();
              const ChannelOf ch = channel_of(in[0].shape, in[1].shape);
              for (int64_t i = 0; i < n; ++i) {
                const A v = A(x[i]);
                y[i] = T(v > A(0) ? v : A(g[ch(i)]) * v);
              }
              break;
            }
          }
        });
      })
      .grad([](const NodePtr& n, const std::vector<NodeEntry>& og) {
        const Leaky a = leaky_of(n->params.get_string("act_type"));
        std::vector<NodeEntry> in{og[0], fwd_input(n, 0), fwd_output(n, 0)};
        if (a == Leaky::kRrelu) in.push_back(fwd_output(n, 1));
        if (a == Leaky::kPrelu) in.push_back(fwd_input(n, 1));
        if (in.size() == 3) in.push_back(fwd_output(n, 0));  // unused placeholder
        return backward_entries("_backward_LeakyReLU", n, std::move(in),
                                a == Leaky::kPrelu ? std::vector<int>{0, 1}
                                                   : std::vector<int>{0});
      });
  return op;
}();

MXN_REGISTER_OP(_backward_LeakyReLU)
    .backward_for("LeakyReLU")
    .input("out_grad")
    .input("data")
    .input("output")
    .input("extra", "rrelu: the slopes; prelu: gamma; otherwise the output again (unused).")
    .dynamic_outputs([](const OpParams& p) {
      return p.get_string("act_type") == "prelu" ? 2 : 1;
    })
    .shape_fn([](const OpParams&, const std::vector<Shape>& in, std::vector<Shape>* out) {
      (*out)[0] = in[1];
      if (out->size() > 1) (*out)[1] = in[3];
    })
    .type_fn(real_type())
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      const Leaky a = leaky_of(p.get_string("act_type"));
      const double slope = p.get_float("slope");
      MXN_REAL_SWITCH(in[1].dtype, T, {
        using A = acc_t<T>;
        const T* dy = in[0].ptr<T>();
        const T* x = in[1].ptr<T>();
        const T* y = in[2].ptr<T>();
        T* dx = out[0].ptr<T>();
        const int64_t n = in[1].size();
        for (int64_t i = 0; i < n; ++i) {
          const A g = A(dy[i]), v = A(x[i]), o = A(y[i]);
          A d = A(1);
          switch (a) {
            case Leaky::kLeaky: d = v > A(0) ? A(1) : A(slope); break;
            case Leaky::kElu: d = v > A(0) ? A(1) : o + A(slope); break;
            case Leaky::kSelu:
              d = v > A(0) ? A(kSeluLambda) : o + A(kSeluLambda * kSeluAlpha);
              break;
            case Leaky::kGelu:
              d = A(0.5) * (A(1) + pmath::erf(v * A(kSqrt1_2))) +
                  v * A(kInvSqrt2Pi) * std::exp(A(-0.5) * v * v);
              break;
            case Leaky::kRrelu: d = v > A(0) ? A(1) : A(in[3].ptr<T>()[i]); break;
            case Leaky::kPrelu: d = A(1); break;  // below
          }
          dx[i] = T(g * d);
        }
        if (a == Leaky::kPrelu) {
          const T* gm = in[3].ptr<T>();
          const ChannelOf ch = channel_of(in[1].shape, in[3].shape);
          std::vector<A> dg(static_cast<size_t>(in[3].size()), A(0));
          for (int64_t i = 0; i < n; ++i) {
            const A v = A(x[i]);
            if (v > A(0)) {
              dx[i] = dy[i];
            } else {
              dx[i] = T(A(dy[i]) * A(gm[ch(i)]));
              dg[ch(i)] += A(dy[i]) * v;
            }
          }
          T* dgo = out[1].ptr<T>();
          for (size_t c = 0; c < dg.size(); ++c) dgo[c] = T(dg[c]);
        }
      });
    });

MXN_OP_REGISTRATION = softmax_op(
    "softmax", false,
    "Softmax along `axis`: out = exp(x/t - max) / sum(exp(x/t - max)) with temperature t "
    "(default 1). dtype sets the output dtype.");
MXN_OP_REGISTRATION = softmax_op(
    "log_softmax", true,
    "Log of the softmax along `axis`: out = x/t - max - log(sum(exp(x/t - max))). dtype sets "
    "the output dtype.");

MXN_OP_REGISTRATION = OpRegistry::get()
    .add("SoftmaxActivation")
    .describe(
        "Softmax activation. mode='instance' (default): softmax over all axes but the first, "
        "for each sample. mode='channel': softmax over axis 1 at each position.")
    .input("data", "Input data.")
    .choice("mode", {"channel", "instance"}, "instance",
            "instance: per sample over all other axes; channel: across channels.")
    .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
      softmax_activation_view(p, in[0]);
      (*out)[0] = in[0];
    })
    .type_fn(real_type())
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      const SoftmaxView v = softmax_activation_view(p, in[0].shape);
      MXN_REAL_SWITCH(in[0].dtype, T, {
        softmax_forward<T, T>(v, 1.0, false, in[0].ptr<T>(), out[0].ptr<T>());
      });
    })
    .grad([](const NodePtr& n, const std::vector<NodeEntry>& og) {
      return backward_entries("_backward_SoftmaxActivation", n, {og[0], fwd_output(n, 0)}, {0});
    });

MXN_REGISTER_OP(_backward_SoftmaxActivation)
    .backward_for("SoftmaxActivation")
    .input("out_grad")
    .input("output")
    .shape_fn([](const OpParams&, const std::vector<Shape>& in, std::vector<Shape>* out) {
      (*out)[0] = in[1];
    })
    .type_fn(real_type())
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      const SoftmaxView v = softmax_activation_view(p, in[1].shape);
      MXN_REAL_SWITCH(in[1].dtype, T, {
        softmax_backward<T, T>(v, 1.0, false, in[0].ptr<T>(), in[1].ptr<T>(), out[0].ptr<T>());
      });
    });

}  // namespace mxn::ops::nn
