// Output (loss) layers of MXNet 1.x and gradient blockers: SoftmaxOutput (alias Softmax),
// LinearRegressionOutput, LogisticRegressionOutput, MAERegressionOutput, MakeLoss, make_loss,
// BlockGrad (alias stop_gradient). The loss layers' gradients ignore the incoming head
// gradient (MXNet's convention: the layer *is* the loss), except SoftmaxOutput with
// out_grad=True.
#include "core/ops/nn_util.h"

namespace mxn::ops::nn {
namespace {

void identity_kernel(const OpContext&, const OpParams&, const std::vector<TBlob>& in,
                     const std::vector<TBlob>& out) {
  if (in[0].dptr != out[0].dptr && in[0].size() > 0) {
    std::memcpy(out[0].dptr, in[0].dptr, static_cast<size_t>(in[0].size()) * dtype_size(in[0].dtype));
  }
}

// ---- SoftmaxOutput -------------------------------------------------------------------------
struct SmGeom {
  int64_t rows = 0, k = 0, rest = 1;  // softmax over k; rest > 1 only with multi_output
  bool multi = false;
};

SmGeom sm_geom(const OpParams& p, const Shape& d) {
  if (d.ndim() < 1) shape_error(0, "data must have at least 1 dimension, got a 0-d array");
  SmGeom g;
  if (p.get_bool("multi_output")) {
    if (d.ndim() < 2) shape_error(0, cat("multi_output needs data with at least 2 dimensions, got ",
                                         d.str()));
    g.multi = true;
    g.rows = d[0];
    g.k = d[1];
    g.rest = dims_prod(d, 2, d.ndim());
  } else if (p.get_bool("preserve_shape")) {
    g.rows = dims_prod(d, 0, d.ndim() - 1);
    g.k = d[d.ndim() - 1];
  } else {
    g.rows = d[0];
    g.k = d[0] == 0 ? dims_prod(d, 1, d.ndim()) : d.size() / d[0];
  }
  return g;
}

void sm_check_label(const OpParams& p, const Shape& d, const Shape& l) {
  if (l == d) return;  // probabilities as labels
  if (p.get_bool("multi_output")) {
    Shape l1{d[0], d[1] == 0 ? 0 : dims_prod(d, 2, d.ndim())};
    Shape l2{d[0]};
    for (int i = 2; i < d.ndim(); ++i) l2.push_back(d[i]);
    Shape l3 = d;
    l3[1] = 1;
    if (l != l1 && l != l2 && l != l3) {
      shape_error(1, cat("label has shape ", l.str(), " but data ", d.str(),
                         " with multi_output needs ", l1.str(), " or ", l2.str(), " or ",
                         l3.str(), " (or the data's shape for probabilities)"));
    }
    return;
  }
  Shape want;
  for (int i = 0; i + 1 < d.ndim(); ++i) want.push_back(d[i]);
  if (l != want) {
    shape_error(1, cat("label has shape ", l.str(), " but data ", d.str(), " needs ", want.str(),
                       " (or the data's shape for probabilities)"));
  }
}

template <typename T>
void sm_backward(const OpParams& p, const TBlob& og, const TBlob& label, const TBlob& out,
                 const TBlob& dx) {
  using A = acc_t<T>;
  const T* y = out.ptr<T>();
  const T* lab = label.ptr<T>();
  const T* g = og.ptr<T>();
  T* d = dx.ptr<T>();
  const A scale = A(p.get_float("grad_scale"));
  const bool use_og = p.get_bool("out_grad");
  const int64_t n = out.size();
  if (label.shape == out.shape) {
    for (int64_t i = 0; i < n; ++i) {
      A v = (A(y[i]) - A(lab[i])) * scale;
      if (use_og) v *= A(g[i]);
      d[i] = T(v);
    }
    return;
  }
  const SmGeom s = sm_geom(p, out.shape);
  const bool use_ignore = p.get_bool("use_ignore");
  const int ignore = static_cast<int>(p.get_float("ignore_label"));
  const A alpha = A(p.get_float("smooth_alpha"));
  const A smooth = s.k > 1 ? alpha / A(s.k - 1) : A(0);
  const std::string& norm = p.get_string("normalization");
  const int64_t nlabel = label.size();
  int64_t valid = nlabel;
  if (norm == "batch") {
    valid = s.multi ? s.rows : nlabel;
  } else if (norm == "valid") {
    for (int64_t i = 0; i < nlabel; ++i) valid -= static_cast<int>(A(lab[i])) == ignore ? 1 : 0;
    valid = std::max<int64_t>(valid, 1);
  } else {
    valid = 1;
  }
  const A factor =
      scale / (s.multi && norm != "valid" ? A(s.rest) : A(1)) / A(valid);
  for (int64_t r = 0; r < s.rows; ++r) {
    for (int64_t j = 0; j < s.rest; ++j) {
      const int64_t li = r * s.rest + j;
      const int lk = li < nlabel ? static_cast<int>(A(lab[li])) : -1;
      const bool skip = use_ignore && lk == ignore;
      for (int64_t c = 0; c < s.k; ++c) {
        const int64_t e = (r * s.k + c) * s.rest + j;
        A v = A(0);
        if (!skip) {
          v = A(y[e]);
          if (alpha == A(0)) {
            if (c == lk) v -= A(1);
          } else {
            v -= c == lk ? A(1) - alpha : smooth;
          }
          v *= factor;
          if (use_og) v *= A(g[e]);
        }
        d[e] = T(v);
      }
    }
  }
}

// ---- regression outputs --------------------------------------------------------------------
enum class Reg { kLinear, kLogistic, kMae };

void reg_check_label(const Shape& d, const Shape& l) {
  if (l == d) return;
  if (d.ndim() >= 1 && l.ndim() >= 1 && l[0] == d[0] && l.size() == d.size()) return;
  shape_error(1, cat("label has shape ", l.str(), " but data has shape ", d.str(),
                     " (they must match, or have the same first dimension and size)"));
}

OpDef& regression_op(const char* name, Reg kind, const char* doc) {
  OpDef& op = OpRegistry::get()
                  .add(name)
                  .describe(doc)
                  .input("data", "Input data to the function.")
                  .input("label", "Input label to the function.")
                  .param("grad_scale", ParamType::kFloat, ParamValue::of_float(1.0),
                         "Scale the gradient by a float factor.")
                  .input_shapes_fn([](const OpParams&, std::vector<Shape>* in) {
                    if (!known(*in, 0)) return;
                    const Shape& d = (*in)[0];
                    // MXNet: (N, 1) data takes (N,) labels by default
                    fill_shape(in, 1, d.ndim() == 2 && d[1] == 1 ? Shape{d[0]} : d);
                  })
                  .shape_fn([](const OpParams&, const std::vector<Shape>& in,
                               std::vector<Shape>* out) {
                    reg_check_label(in[0], in[1]);
                    (*out)[0] = in[0];
                  })
                  .type_fn(real_type())
                  .cpu([kind](const OpContext&, const OpParams&, const std::vector<TBlob>& in,
                              const std::vector<TBlob>& out) {
                    MXN_REAL_SWITCH(in[0].dtype, T, {
                      using A = acc_t<T>;
                      const T* x = in[0].ptr<T>();
                      T* y = out[0].ptr<T>();
                      for (int64_t i = 0; i < in[0].size(); ++i) {
                        y[i] = kind == Reg::kLogistic ? T(A(1) / (A(1) + std::exp(-A(x[i]))))
                                                      : x[i];
                      }
                    });
                  })
                  .grad([name](const NodePtr& n, const std::vector<NodeEntry>&) {
                    return backward_entries(cat("_backward_", name).c_str(), n,
                                            {fwd_input(n, 1), fwd_output(n, 0)}, {0, -1});
                  });
  OpRegistry::get()
      .add(cat("_backward_", name))
      .backward_for(name)
      .input("label")
      .input("output")
      .shape_fn([](const OpParams&, const std::vector<Shape>& in, std::vector<Shape>* out) {
        (*out)[0] = in[1];
      })
      .type_fn(real_type())
      .cpu([kind](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
                  const std::vector<TBlob>& out) {
        const Shape& ls = in[0].shape;
        const int64_t num_output = ls.ndim() > 0 && ls[0] > 0 ? ls.size() / ls[0] : 1;
        MXN_REAL_SWITCH(in[1].dtype, T, {
          using A = acc_t<T>;
          const A scale = A(p.get_float("grad_scale")) / A(num_output);
          const T* l = in[0].ptr<T>();
          const T* y = in[1].ptr<T>();
          T* d = out[0].ptr<T>();
          for (int64_t i = 0; i < in[1].size(); ++i) {
            const A diff = A(y[i]) - A(l[i]);
            const A v = kind == Reg::kMae ? A(diff > A(0) ? 1 : (diff < A(0) ? -1 : 0)) : diff;
            d[i] = T(v * scale);
          }
        });
      });
  return op;
}

}  // namespace

MXN_REGISTER_OP(SoftmaxOutput)
    .alias("Softmax")
    .describe(
        "Softmax with a cross-entropy gradient. Forward: softmax over the flattened trailing "
        "axes (default), over the last axis (preserve_shape) or over axis 1 (multi_output). "
        "Backward ignores the head gradient (unless out_grad) and gives (out - onehot(label)) "
        "* grad_scale, normalized by normalization: null (1; with multi_output the spatial "
        "size), batch (the batch size; with multi_output times the spatial size) or valid (the "
        "number of labels != ignore_label). use_ignore zeroes the gradient of ignored labels; "
        "smooth_alpha smooths the one-hot target. A label of the data's shape is used as "
        "probabilities (gradient (out - label) * grad_scale).")
    .input("data", "Input array.")
    .input("label", "Ground truth label.")
    .param("grad_scale", ParamType::kFloat, ParamValue::of_float(1.0),
           "Scales the gradient by a float factor.")
    .param("ignore_label", ParamType::kFloat, ParamValue::of_float(-1.0),
           "The instances whose labels == ignore_label are ignored during backward if "
           "use_ignore is set.")
    .param("multi_output", ParamType::kBool, ParamValue::of_bool(false),
           "Compute the softmax along axis 1 (labels have no channel axis).")
    .param("use_ignore", ParamType::kBool, ParamValue::of_bool(false),
           "Whether ignore_label does not contribute to the backward gradient.")
    .param("preserve_shape", ParamType::kBool, ParamValue::of_bool(false),
           "Compute the softmax along the last axis.")
    .choice("normalization", {"batch", "null", "valid"}, "null", "Normalizes the gradient.")
    .param("out_grad", ParamType::kBool, ParamValue::of_bool(false),
           "Multiplies the gradient with the output gradient element-wise.")
    .param("smooth_alpha", ParamType::kFloat, ParamValue::of_float(0.0),
           "Label smoothing: the target is 1 - alpha for the label and alpha / (k - 1) "
           "elsewhere.")
    .input_shapes_fn([](const OpParams& p, std::vector<Shape>* in) {
      if (!known(*in, 0) || (*in)[0].ndim() < 1) return;
      const Shape& d = (*in)[0];
      Shape l;
      if (p.get_bool("multi_output")) {
        if (d.ndim() < 2) return;
        l = Shape{d[0], dims_prod(d, 2, d.ndim())};
      } else {
        for (int i = 0; i + 1 < d.ndim(); ++i) l.push_back(d[i]);
      }
      fill_shape(in, 1, l);
    })
    .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
      sm_geom(p, in[0]);
      sm_check_label(p, in[0], in[1]);
      (*out)[0] = in[0];
    })
    .type_fn(real_type())
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      const SmGeom g = sm_geom(p, in[0].shape);
      MXN_REAL_SWITCH(in[0].dtype, T, {
        using A = acc_t<T>;
        const T* x = in[0].ptr<T>();
        T* y = out[0].ptr<T>();
        for (int64_t r = 0; r < g.rows; ++r) {
          for (int64_t j = 0; j < g.rest; ++j) {
            if (g.k == 0) continue;
            const int64_t base = r * g.k * g.rest + j;
            A m = A(x[base]);
            for (int64_t c = 1; c < g.k; ++c) m = std::max(m, A(x[base + c * g.rest]));
            A s = A(0);
            for (int64_t c = 0; c < g.k; ++c) s += std::exp(A(x[base + c * g.rest]) - m);
            for (int64_t c = 0; c < g.k; ++c) {
              y[base + c * g.rest] = T(std::exp(A(x[base + c * g.rest]) - m) / s);
            }
          }
        }
      });
    })
    .grad([](const NodePtr& n, const std::vector<NodeEntry>& og) {
      return backward_entries("_backward_SoftmaxOutput", n,
                              {og[0], fwd_input(n, 1), fwd_output(n, 0)}, {0, -1});
    });

MXN_REGISTER_OP(_backward_SoftmaxOutput)
    .backward_for("SoftmaxOutput")
    .input("out_grad")
    .input("label")
    .input("output")
    .shape_fn([](const OpParams&, const std::vector<Shape>& in, std::vector<Shape>* out) {
      (*out)[0] = in[2];
    })
    .type_fn(real_type())
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      MXN_REAL_SWITCH(in[2].dtype, T, { sm_backward<T>(p, in[0], in[1], in[2], out[0]); });
    });

MXN_OP_REGISTRATION = regression_op(
    "LinearRegressionOutput", Reg::kLinear,
    "Least-squares regression output: forward is the identity; the gradient is (out - label) * "
    "grad_scale / num_output, num_output being label.size / label.shape[0] (the head gradient "
    "is ignored).");
MXN_OP_REGISTRATION = regression_op(
    "LogisticRegressionOutput", Reg::kLogistic,
    "Logistic regression output: forward is sigmoid(data); the gradient is (out - label) * "
    "grad_scale / num_output (the head gradient is ignored).");
MXN_OP_REGISTRATION = regression_op(
    "MAERegressionOutput", Reg::kMae,
    "Mean-absolute-error regression output: forward is the identity; the gradient is "
    "sign(out - label) * grad_scale / num_output (the head gradient is ignored).");

MXN_REGISTER_OP(MakeLoss)
    .describe(
        "Makes its input a loss: forward is the identity; the gradient is grad_scale (the head "
        "gradient is ignored), divided by the batch size (normalization='batch') or by the "
        "number of elements > valid_thresh (at least 1; normalization='valid').")
    .input("data", "Input array.")
    .param("grad_scale", ParamType::kFloat, ParamValue::of_float(1.0),
           "Gradient scale as a supplement to the unary and binary operators.")
    .param("valid_thresh", ParamType::kFloat, ParamValue::of_float(0.0),
           "Elements > valid_thresh count as valid for normalization='valid'.")
    .choice("normalization", {"batch", "null", "valid"}, "null",
            "How the gradient is normalized.")
    .shape_fn(same_shape_infer)
    .cpu(identity_kernel)
    .grad([](const NodePtr& n, const std::vector<NodeEntry>&) {
      return backward_entries("_backward_MakeLoss", n, {fwd_input(n, 0)}, {0});
    });

MXN_REGISTER_OP(_backward_MakeLoss)
    .backward_for("MakeLoss")
    .input("data")
    .shape_fn(same_shape_infer)
    .type_fn(real_type())
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      const std::string& norm = p.get_string("normalization");
      MXN_REAL_SWITCH(in[0].dtype, T, {
        using A = acc_t<T>;
        const T* x = in[0].ptr<T>();
        const int64_t n = in[0].size();
        A v = A(p.get_float("grad_scale"));
        if (norm == "batch") {
          const int64_t b = in[0].shape.ndim() > 0 ? in[0].shape[0] : 1;
          v /= A(std::max<int64_t>(b, 1));
        } else if (norm == "valid") {
          const A t = A(p.get_float("valid_thresh"));
          int64_t cnt = 0;
          for (int64_t i = 0; i < n; ++i) cnt += A(x[i]) > t ? 1 : 0;
          v /= A(std::max<int64_t>(cnt, 1));
        }
        T* d = out[0].ptr<T>();
        for (int64_t i = 0; i < n; ++i) d[i] = T(v);
      });
    });

MXN_REGISTER_OP(make_loss)
    .describe(
        "Makes its input a loss: forward is the identity; the gradient is ones (the head "
        "gradient is ignored).")
    .input("data", "Input array.")
    .shape_fn(same_shape_infer)
    .cpu(identity_kernel)
    .grad([](const NodePtr& n, const std::vector<NodeEntry>&) {
      return std::vector<NodeEntry>{
          NodeEntry{make_node("ones_like", n->name + "_backward", {fwd_input(n, 0)}), 0}};
    });

MXN_REGISTER_OP(BlockGrad)
    .alias("stop_gradient")
    .describe("Stops gradient computation: forward is the identity; the gradient is zero.")
    .input("data", "The input array.")
    .shape_fn(same_shape_infer)
    .cpu(identity_kernel)
    .grad(grad_zero());

}  // namespace mxn::ops::nn
