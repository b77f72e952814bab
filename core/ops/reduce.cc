// Reductions over axes (sum, mean, prod, max, min, nansum) with MXNet 1.x's parameters and
// quirks: axis=None or () reduces every axis; a full reduction without keepdims gives shape
// (1,), not a 0-d array; exclude=True reduces the axes NOT listed.
#include <cmath>
#include <limits>
#include <memory>

#include "core/graph/gradient.h"
#include "core/ops/tensor_util.h"

namespace mxn::ops {
namespace {

// Which axes of `in` are reduced, from the axis/exclude parameters.
void reduced_axes(const OpParams& p, const Shape& in, bool reduce[kMaxNdim]) {
  const int nd = in.ndim();
  const bool all = p.is_none("axis") || p.get_shape("axis").ndim() == 0;
  for (int d = 0; d < kMaxNdim; ++d) reduce[d] = all;
  if (all) return;
  const Shape& axes = p.get_shape("axis");
  bool listed[kMaxNdim] = {};
  for (int i = 0; i < axes.ndim(); ++i) {
    const int64_t a = axes[i];
    if (a < -nd || a >= nd) {
      throw Error(ErrorCode::kInvalidArg, cat("axis ", a, " is out of range for input of shape ",
                                              in.str(), " (", nd, " dimension",
                                              nd == 1 ? "" : "s", ")"))
          .with_axis(static_cast<int>(a));
    }
    const int n = static_cast<int>(a < 0 ? a + nd : a);
    if (listed[n]) {
      throw Error(ErrorCode::kInvalidArg,
                  cat("axis ", a, " is repeated in axis=", axes.str(), " (input shape ", in.str(),
                      ")"))
          .with_axis(static_cast<int>(a));
    }
    listed[n] = true;
  }
  const bool exclude = p.op().find_param("exclude") != nullptr && p.get_bool("exclude");
  for (int d = 0; d < nd; ++d) reduce[d] = listed[d] != exclude;
}

// The input shape with reduced axes set to 1 (the keepdims shape).
Shape kept_shape(const Shape& in, const bool reduce[kMaxNdim]) {
  Shape k = in;
  for (int d = 0; d < in.ndim(); ++d) {
    if (reduce[d]) k[d] = 1;
  }
  return k;
}

void reduce_shape(const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out,
                  bool needs_elements) {
  bool reduce[kMaxNdim];
  reduced_axes(p, in[0], reduce);
  const Shape keep = kept_shape(in[0], reduce);
  if (needs_elements && keep.size() > 0 && in[0].size() == 0) {
    throw Error(ErrorCode::kShape, cat("cannot reduce input of shape ", in[0].str(),
                                       " over a zero-size axis: max/min have no identity"));
  }
  if (p.get_bool("keepdims")) {
    (*out)[0] = keep;
    return;
  }
  Shape s;
  for (int d = 0; d < in[0].ndim(); ++d) {
    if (!reduce[d]) s.push_back(in[0][d]);
  }
  if (s.ndim() == 0) s.push_back(1);  // MXNet 1.x: a full reduction has shape (1,)
  (*out)[0] = s;
}

// Accumulator type: float16 in float, float32 in double, integers in int64, bool as int64.
template <typename T>
using sum_acc_t = std::conditional_t<
    std::is_same_v<T, half_t>, float,
    std::conditional_t<std::is_floating_point_v<T>, double, int64_t>>;

enum class Kind { kSum, kMean, kProd, kMax, kMin, kNanSum };

template <Kind K, typename T>
void reduce_typed(const TBlob& in, const TBlob& out, const Shape& keep) {
  using S = sum_acc_t<T>;
  using M = acc_t<T>;  // max/min compare in the element's arithmetic type
  using Acc = std::conditional_t<K == Kind::kMax || K == Kind::kMin, M, S>;
  const int64_t n_out = out.size();
  if (n_out == 0) return;
  Acc init;
  if constexpr (K == Kind::kProd) {
    init = Acc(1);
  } else if constexpr (K == Kind::kMax) {
    init = std::numeric_limits<Acc>::has_infinity ? -std::numeric_limits<Acc>::infinity()
                                                  : std::numeric_limits<Acc>::lowest();
  } else if constexpr (K == Kind::kMin) {
    init = std::numeric_limits<Acc>::has_infinity ? std::numeric_limits<Acc>::infinity()
                                                  : std::numeric_limits<Acc>::max();
  } else {
    init = Acc(0);
  }
  std::unique_ptr<Acc[]> acc(new Acc[static_cast<size_t>(n_out)]);
  Acc* a = acc.get();
  for (int64_t i = 0; i < n_out; ++i) a[i] = init;
  const T* x = in.ptr<T>();
  const auto step = [&](int64_t i, int64_t, int64_t o) {
    const Acc v = static_cast<Acc>(M(x[i]));
    if constexpr (K == Kind::kSum || K == Kind::kMean) {
      a[o] += v;
    } else if constexpr (K == Kind::kNanSum) {
      if (!(v != v)) a[o] += v;
    } else if constexpr (K == Kind::kProd) {
      a[o] *= v;
    } else if constexpr (K == Kind::kMax) {
      if (!(a[o] >= v) && !(a[o] != a[o])) a[o] = v;  // NaN propagates
    } else {
      if (!(a[o] <= v) && !(a[o] != a[o])) a[o] = v;
    }
  };
  if (in.size() > 0) {
    if (keep.size() == 1) {  // full reduction: one accumulator
      const int64_t n = in.size();
      for (int64_t i = 0; i < n; ++i) step(i, 0, 0);
    } else {
      for_each_broadcast(in.shape, in.shape, keep, step);
    }
  }
  T* o = out.ptr<T>();
  if constexpr (K == Kind::kMean) {
    const int64_t count = n_out == 0 ? 0 : in.size() / n_out;
    for (int64_t i = 0; i < n_out; ++i) {
      if constexpr (std::is_integral_v<Acc>) {
        o[i] = static_cast<T>(count == 0 ? Acc(0) : a[i] / count);
      } else {
        o[i] = T(static_cast<Acc>(a[i] / static_cast<Acc>(count)));  // 0/0: NaN
      }
    }
  } else {
    for (int64_t i = 0; i < n_out; ++i) {
      if constexpr (std::is_same_v<T, bool>) {
        o[i] = a[i] != Acc(0);
      } else {
        o[i] = T(static_cast<M>(a[i]));
      }
    }
  }
}

template <Kind K>
void reduce_compute(const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
                    const std::vector<TBlob>& out) {
  bool reduce[kMaxNdim];
  reduced_axes(p, in[0].shape, reduce);
  const Shape keep = kept_shape(in[0].shape, reduce);
  MXN_DTYPE_SWITCH(in[0].dtype, T, { reduce_typed<K, T>(in[0], out[0], keep); });
}

template <Kind K>
OpDef& reduce_op(const char* name, const char* what) {
  constexpr bool needs_elements = K == Kind::kMax || K == Kind::kMin;
  return OpRegistry::get()
      .add(name)
      .describe(cat(what,
                    " over the given axes. axis=None or () reduces every axis; a full reduction "
                    "without keepdims has shape (1,) (MXNet 1.x). Over a zero-size axis ",
                    K == Kind::kMean   ? "the result is NaN (integers: 0)."
                    : K == Kind::kProd ? "the result is 1."
                    : needs_elements   ? "it is a ShapeError (no identity)."
                                       : "the result is 0.",
                    K == Kind::kSum || K == Kind::kMean || K == Kind::kNanSum
                        ? " float16 accumulates in float32, float32 in float64."
                        : ""))
      .input("data", "Input array.")
      .nullable("axis", ParamType::kShape,
                "The axis or axes to reduce (negative counts from the end); None or () "
                "reduces all axes.")
      .param("keepdims", ParamType::kBool, ParamValue::of_bool(false),
             "Keep the reduced axes as dimensions of size 1.")
      .param("exclude", ParamType::kBool, ParamValue::of_bool(false),
             "Reduce the axes NOT listed in axis instead.")
      .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
        reduce_shape(p, in, out, needs_elements);
      })
      .cpu(reduce_compute<K>);
}

// _backward_<op>(ograd, data, output) -> the gradient with data's shape. ograd and output have
// the reduced shape; their elements line up with the keepdims shape.
template <Kind K>
void reduce_backward(const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
                     const std::vector<TBlob>& out) {
  bool reduce[kMaxNdim];
  const Shape& xs = in[1].shape;
  reduced_axes(p, xs, reduce);
  const Shape keep = kept_shape(xs, reduce);
  MXN_FLOAT_SWITCH(out[0].dtype, T, {
    using A = acc_t<T>;
    const T* g = in[0].ptr<T>();
    const T* x = in[1].ptr<T>();
    const T* y = in[2].ptr<T>();
    T* o = out[0].ptr<T>();
    if constexpr (K == Kind::kProd) {
      // d/dx_i prod = product of the others, exact with zeros: per group, the product of the
      // non-zero elements and the number of zeros.
      const int64_t ng = keep.size();
      std::vector<double> nz_prod(static_cast<size_t>(ng), 1.0);
      std::vector<int64_t> zeros(static_cast<size_t>(ng), 0);
      for_each_broadcast(xs, xs, keep, [&](int64_t i, int64_t, int64_t k) {
        const double v = static_cast<double>(A(x[i]));
        if (v == 0.0) {
          ++zeros[k];
        } else {
          nz_prod[k] *= v;
        }
      });
      for_each_broadcast(xs, xs, keep, [&](int64_t i, int64_t, int64_t k) {
        const double v = static_cast<double>(A(x[i]));
        double d;
        if (zeros[k] == 0) {
          d = nz_prod[k] / v;
        } else if (zeros[k] == 1 && v == 0.0) {
          d = nz_prod[k];
        } else {
          d = 0.0;
        }
        o[i] = T(static_cast<A>(static_cast<double>(A(g[k])) * d));
      });
    } else {
      const int64_t count = keep.size() == 0 ? 0 : xs.size() / keep.size();
      for_each_broadcast(xs, xs, keep, [&](int64_t i, int64_t, int64_t k) {
        const A gk = A(g[k]);
        if constexpr (K == Kind::kSum) {
          o[i] = T(gk);
        } else if constexpr (K == Kind::kMean) {
          o[i] = T(static_cast<A>(gk / static_cast<A>(count)));
        } else if constexpr (K == Kind::kNanSum) {
          const A v = A(x[i]);
          o[i] = T(v != v ? A(0) : gk);
        } else {  // max/min: every element equal to the result gets the gradient (MXNet)
          o[i] = T(A(x[i]) == A(y[k]) ? gk : A(0));
        }
      });
    }
  });
}

template <Kind K>
OpDef& with_reduce_grad(OpDef& fwd) {
  const std::string bname = "_backward_" + fwd.name;
  OpRegistry::get()
      .add(bname)
      .describe(cat("Gradient of ", fwd.name, "."))
      .input("ograd")
      .input("data")
      .input("output")
      .backward_for(fwd.name)
      .shape_fn([](const OpParams&, const std::vector<Shape>& in, std::vector<Shape>* out) {
        (*out)[0] = in[1];
      })
      .cpu(reduce_backward<K>);
  return fwd.grad(grad_by_backward_op(bname, true, true));
}

}  // namespace

MXN_OP_REGISTRATION =
    with_reduce_grad<Kind::kSum>(reduce_op<Kind::kSum>("sum", "Sum").alias("sum_axis"));
MXN_OP_REGISTRATION =
    with_reduce_grad<Kind::kMean>(reduce_op<Kind::kMean>("mean", "Arithmetic mean"));
MXN_OP_REGISTRATION = with_reduce_grad<Kind::kProd>(reduce_op<Kind::kProd>("prod", "Product"));
MXN_OP_REGISTRATION = with_reduce_grad<Kind::kMax>(
    reduce_op<Kind::kMax>("max", "Maximum (NaN propagates)").alias("max_axis"));
MXN_OP_REGISTRATION = with_reduce_grad<Kind::kMin>(
    reduce_op<Kind::kMin>("min", "Minimum (NaN propagates)").alias("min_axis"));
MXN_OP_REGISTRATION =
    with_reduce_grad<Kind::kNanSum>(reduce_op<Kind::kNanSum>("nansum", "Sum treating NaN as 0"));

// ---- norm ------------------------------------------------------------------------------------
namespace {
void norm_type(const OpParams& p, const std::vector<DType>& in, std::vector<DType>* out) {
  MXN_CHECK(dtype_is_float(in[0]), ErrorCode::kDType, "needs a floating-point input, got ",
            dtype_name(in[0]));
  (*out)[0] = p.is_none("out_dtype") ? in[0] : p.get_dtype("out_dtype");
}
}  // namespace

MXN_REGISTER_OP(norm)
    .describe("The L1 (ord=1) or L2 (ord=2) norm over the given axes (None: every axis; a full "
              "reduction without keepdims has shape (1,), as in MXNet 1.x). Accumulates in "
              "float64.")
    .input("data", "Input array (floating point).")
    .param("ord", ParamType::kInt, ParamValue::of_int(2), "Order of the norm: 1 or 2.")
    .nullable("axis", ParamType::kShape, "The axes to reduce; None reduces all.")
    .nullable("out_dtype", ParamType::kDType, "Dtype of the result (None: the input's).")
    .param("keepdims", ParamType::kBool, ParamValue::of_bool(false),
           "Keep the reduced axes with size 1.")
    .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
      const int64_t ord = p.get_int("ord");
      MXN_CHECK(ord == 1 || ord == 2, ErrorCode::kInvalidArg, "ord must be 1 or 2, got ", ord);
      reduce_shape(p, in, out, false);
    })
    .type_fn(norm_type)
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      bool reduce[kMaxNdim];
      reduced_axes(p, in[0].shape, reduce);
      const Shape keep = kept_shape(in[0].shape, reduce);
      const bool l1 = p.get_int("ord") == 1;
      std::vector<double> acc(static_cast<size_t>(keep.size()), 0.0);
      MXN_FLOAT_SWITCH(in[0].dtype, T, {
        const T* x = in[0].ptr<T>();
        for_each_broadcast(in[0].shape, in[0].shape, keep, [&](int64_t i, int64_t, int64_t k) {
          const double v = static_cast<double>(acc_t<T>(x[i]));
          acc[static_cast<size_t>(k)] += l1 ? std::fabs(v) : v * v;
        });
      });
      MXN_DTYPE_SWITCH(out[0].dtype, T, {
        T* y = out[0].ptr<T>();
        for (size_t k = 0; k < acc.size(); ++k) {
          y[k] = T(static_cast<acc_t<T>>(l1 ? acc[k] : std::sqrt(acc[k])));
        }
      });
    })
    .grad(grad_by_backward_op("_backward_norm", true, true));

MXN_REGISTER_OP(_backward_norm)
    .describe("Gradient of norm: ograd * x / norm (0 where the norm is 0) for ord 2, ograd * "
              "sign(x) for ord 1.")
    .input("ograd")
    .input("data")
    .input("output")
    .backward_for("norm")
    .shape_fn([](const OpParams&, const std::vector<Shape>& in, std::vector<Shape>* out) {
      (*out)[0] = in[1];
    })
    .type_fn([](const OpParams&, const std::vector<DType>& in, std::vector<DType>* out) {
      (*out)[0] = in[1];
    })
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      bool reduce[kMaxNdim];
      const Shape& xs = in[1].shape;
      reduced_axes(p, xs, reduce);
      const Shape keep = kept_shape(xs, reduce);
      const bool l1 = p.get_int("ord") == 1;
      std::vector<double> g(static_cast<size_t>(keep.size())), y(g.size());
      MXN_DTYPE_SWITCH(in[0].dtype, G, {
        for (size_t k = 0; k < g.size(); ++k) {
          g[k] = static_cast<double>(acc_t<G>(in[0].ptr<G>()[k]));
          y[k] = static_cast<double>(acc_t<G>(in[2].ptr<G>()[k]));
        }
      });
      MXN_FLOAT_SWITCH(out[0].dtype, T, {
        const T* x = in[1].ptr<T>();
        T* d = out[0].ptr<T>();
        for_each_broadcast(xs, xs, keep, [&](int64_t i, int64_t, int64_t k) {
          const double v = static_cast<double>(acc_t<T>(x[i]));
          const size_t kk = static_cast<size_t>(k);
          double r;
          if (l1) {
            r = g[kk] * (v > 0 ? 1.0 : v < 0 ? -1.0 : 0.0);
          } else {
            r = y[kk] == 0.0 ? 0.0 : g[kk] * v / y[kk];
          }
          d[i] = T(static_cast<acc_t<T>>(r));
        });
      });
    });

}  // namespace mxn::ops
