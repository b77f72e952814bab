// Indexing and selection with MXNet 1.x names: take, pick, gather_nd, one_hot, where, clip,
// argmax, argmin, argmax_channel. Index inputs may have any dtype (floats truncate toward
// zero); values keep the data's dtype.
#include <cmath>

#include "core/graph/gradient.h"
#include "core/ops/tensor_util.h"

namespace mxn::ops {
namespace {

// Makes the last declared parameter accept None besides its default (MXNet's optional<int>).
OpDef& last_param_nullable(OpDef& op) {
  op.params.back().nullable = true;
  return op;
}

void type_of_input0(const OpParams&, const std::vector<DType>& in, std::vector<DType>* out) {
  out->assign(out->size(), in[0]);
}
void shape_of_input1(const OpParams&, const std::vector<Shape>& in, std::vector<Shape>* out) {
  (*out)[0] = in[1];
}
void type_of_input1(const OpParams&, const std::vector<DType>& in, std::vector<DType>* out) {
  (*out)[0] = in[1];
}

int64_t prod_range(const Shape& s, int from, int to) {
  int64_t p = 1;
  for (int d = from; d < to; ++d) p *= s[d];
  return p;
}

// Resolves index j of an axis of length len by mode (clip, wrap, raise).
int64_t resolve_index(int64_t j, int64_t len, const std::string& mode) {
  if (mode == "wrap") {
    if (len == 0) return 0;
    j %= len;
    return j < 0 ? j + len : j;
  }
  if (mode == "raise") {
    if (j < -len || j >= len) {
      throw_error(ErrorCode::kInvalidArg,
                  cat("index ", j, " is out of range for an axis of length ", len));
    }
    return j < 0 ? j + len : j;
  }
  return j < 0 ? 0 : (j >= len ? len - 1 : j);  // clip
}

// ---- take ---------------------------------------------------------------------------------------
struct TakePlan {
  int axis;
  int64_t outer, len, inner, nidx;
};
TakePlan take_plan(const OpParams& p, const Shape& a, const Shape& idx, Shape* out) {
  MXN_CHECK(a.ndim() >= 1, ErrorCode::kShape, "needs an input with at least one dimension");
  TakePlan t;
  t.axis = normalize_axis(p.get_int("axis"), a.ndim(), a);
  t.outer = prod_range(a, 0, t.axis);
  t.len = a[t.axis];
  t.inner = prod_range(a, t.axis + 1, a.ndim());
  t.nidx = idx.size();
  if (out != nullptr) {
    Shape o;
    for (int d = 0; d < t.axis; ++d) o.push_back(a[d]);
    for (int d = 0; d < idx.ndim(); ++d) o.push_back(idx[d]);
    for (int d = t.axis + 1; d < a.ndim(); ++d) o.push_back(a[d]);
    *out = o;
  }
  return t;
}

// ---- pick -----------------------------------------------------------------------------------------
struct PickPlan {
  int axis;
  int64_t outer, len, inner;
};
PickPlan pick_plan(const OpParams& p, const Shape& data, Shape* out) {
  MXN_CHECK(!p.is_none("axis"), ErrorCode::kNotImplemented, "axis=None is not supported");
  MXN_CHECK(data.ndim() >= 1, ErrorCode::kShape, "needs an input with at least one dimension");
  PickPlan k;
  k.axis = normalize_axis(p.get_int("axis"), data.ndim(), data);
  k.outer = prod_range(data, 0, k.axis);
  k.len = data[k.axis];
  k.inner = prod_range(data, k.axis + 1, data.ndim());
  if (out != nullptr) {
    Shape o;
    for (int d = 0; d < data.ndim(); ++d) {
      if (d != k.axis) {
        o.push_back(data[d]);
      } else if (p.get_bool("keepdims")) {
        o.push_back(1);
      }
    }
    *out = o;
  }
  return k;
}

// ---- gather_nd -------------------------------------------------------------------------------------
struct GatherNdPlan {
  int m;             // index depth
  int64_t n;         // number of gathered slices
  int64_t slice;     // elements per slice
  int64_t st[kMaxNdim];
};
GatherNdPlan gather_nd_plan(const Shape& data, const Shape& idx, Shape* out) {
  MXN_CHECK(idx.ndim() >= 1, ErrorCode::kShape, "indices must have at least one dimension");
  GatherNdPlan g;
  g.m = static_cast<int>(idx[0]);
  MXN_CHECK(g.m <= data.ndim(), ErrorCode::kShape, "indices.shape[0] (", g.m,
            ") exceeds the dimensions of data ", data.str());
  g.n = prod_range(idx, 1, idx.ndim());
  g.slice = prod_range(data, g.m, data.ndim());
  strides_of(data, g.st);
  if (out != nullptr) {
    Shape o;
    for (int d = 1; d < idx.ndim(); ++d) o.push_back(idx[d]);
    for (int d = g.m; d < data.ndim(); ++d) o.push_back(data[d]);
    *out = o;
  }
  return g;
}

// The flat offset of slice j (index column j of idx).
int64_t gather_nd_offset(const GatherNdPlan& g, const TBlob& idx, const Shape& data, int64_t j) {
  int64_t off = 0;
  for (int r = 0; r < g.m; ++r) {
    int64_t v = read_index(idx, r * g.n + j);
    const int64_t len = data[r];
    if (v < 0) v += len;
    if (v < 0 || v >= len) {
      throw Error(ErrorCode::kInvalidArg, cat("index ", read_index(idx, r * g.n + j),
                                              " is out of range for axis ", r, " of length ", len,
                                              " (data shape ", data.str(), ")"))
          .with_axis(r);
    }
    off += v * g.st[r];
  }
  return off;
}

// ---- where ----------------------------------------------------------------------------------------
// Per element of x, the condition element: same shape, or 1-D over the first axis.
int64_t where_inner(const Shape& cond, const Shape& x) {
  if (cond == x) return 1;
  MXN_CHECK(cond.ndim() == 1 && x.ndim() >= 1 && cond[0] == x[0], ErrorCode::kShape,
            "condition of shape ", cond.str(), " must have the shape of x ", x.str(),
            " or be 1-D with x.shape[0] elements");
  return x[0] == 0 ? 1 : x.size() / x[0];
}

bool truthy(const TBlob& b, int64_t i) {
  bool t = false;
  MXN_DTYPE_SWITCH(b.dtype, T, {
    if constexpr (std::is_same_v<T, half_t>) {
      t = static_cast<float>(b.ptr<T>()[i]) != 0.0f;
    } else {
      t = b.ptr<T>()[i] != T(0);
    }
  });
  return t;
}

// ---- argmax / argmin -------------------------------------------------------------------------------
struct ArgPlan {
  int64_t outer, len, inner;
};
ArgPlan arg_plan(const OpParams& p, const Shape& data, Shape* out) {
  ArgPlan a;
  const bool keep = p.get_bool("keepdims");
  if (p.is_none("axis")) {
    a.outer = 1;
    a.len = data.size();
    a.inner = 1;
    if (out != nullptr) {
      Shape o;
      if (keep) {
        for (int d = 0; d < data.ndim(); ++d) o.push_back(1);
      }
      if (o.ndim() == 0) o.push_back(1);
      *out = o;
    }
  } else {
    const int ax = normalize_axis(p.get_int("axis"), data.ndim(), data);
    a.outer = prod_range(data, 0, ax);
    a.len = data[ax];
    a.inner = prod_range(data, ax + 1, data.ndim());
    if (out != nullptr) {
      Shape o;
      for (int d = 0; d < data.ndim(); ++d) {
        if (d != ax) {
          o.push_back(data[d]);
        } else if (keep) {
          o.push_back(1);
        }
      }
      if (o.ndim() == 0) o.push_back(1);
      *out = o;
    }
  }
  MXN_CHECK(a.len > 0 || a.outer * a.inner == 0, ErrorCode::kShape,
            "cannot take the arg-extremum over an empty axis (input shape ", data.str(), ")");
  return a;
}

// Float inputs keep their dtype (MXNet); integer and bool inputs give float32 (MXNet would
// give the integer dtype, which cannot hold every index of an int8/uint8 axis).
void arg_type(const OpParams&, const std::vector<DType>& in, std::vector<DType>* out) {
  (*out)[0] = dtype_is_float(in[0]) ? in[0] : DType::kFloat32;
}

template <bool kMax>
void arg_compute(const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
                 const std::vector<TBlob>& out) {
  Shape o;
  const ArgPlan a = arg_plan(p, in[0].shape, nullptr);
  std::vector<int64_t> res(static_cast<size_t>(a.outer * a.inner));
  MXN_DTYPE_SWITCH(in[0].dtype, T, {
    using A = acc_t<T>;
    const T* x = in[0].ptr<T>();
    for (int64_t oi = 0; oi < a.outer; ++oi) {
      for (int64_t ii = 0; ii < a.inner; ++ii) {
        const T* row = x + oi * a.len * a.inner + ii;
        int64_t best = 0;
        A bv = A(row[0]);
        for (int64_t j = 1; j < a.len && !(bv != bv); ++j) {  // the first NaN wins (NumPy)
          const A v = A(row[j * a.inner]);
          if (v != v || (kMax ? v > bv : v < bv)) {
            bv = v;
            best = j;
          }
        }
        res[static_cast<size_t>(oi * a.inner + ii)] = best;
      }
    }
  });
  MXN_DTYPE_SWITCH(out[0].dtype, T, {
    T* y = out[0].ptr<T>();
    for (size_t i = 0; i < res.size(); ++i) y[i] = T(static_cast<acc_t<T>>(res[i]));
  });
}

OpDef& arg_op(const char* name, bool is_max) {
  OpDef& op = OpRegistry::get()
                  .add(name)
                  .describe(cat("Index of the ", is_max ? "maximum" : "minimum",
                                " along `axis` (None: of the flattened input, shape (1,)); ties "
                                "give the first index, a NaN wins. The result is a float "
                                "array (the input's dtype for float inputs, float32 otherwise)."))
                  .input("data", "Input array.")
                  .nullable("axis", ParamType::kInt, "The axis; None flattens the input.")
                  .param("keepdims", ParamType::kBool, ParamValue::of_bool(false),
                         "Keep the reduced axis with size 1.")
                  .shape_fn([](const OpParams& p, const std::vector<Shape>& in,
                               std::vector<Shape>* out) { arg_plan(p, in[0], &(*out)[0]); })
                  .type_fn(arg_type)
                  .grad(grad_zero());
  if (is_max) {
    op.cpu(arg_compute<true>);
  } else {
    op.cpu(arg_compute<false>);
  }
  return op;
}

}  // namespace

MXN_OP_REGISTRATION =
    OpRegistry::get()
        .add("take")
        .describe(
            "Takes elements of `a` along `axis` at `indices`: out.shape = a.shape[:axis] + "
            "indices.shape + a.shape[axis+1:]. mode clip clamps indices to the axis, wrap takes "
            "them modulo its length, raise fails on an index out of range (negative indices "
            "count from the end).")
        .input("a", "The array to take from.")
        .input("indices", "Indices (any dtype; floats truncate).")
        .param("axis", ParamType::kInt, ParamValue::of_int(0), "The axis to take along.")
        .choice("mode", {"clip", "wrap", "raise"}, "clip", "How out-of-range indices behave.")
        .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
          take_plan(p, in[0], in[1], &(*out)[0]);
        })
        .type_fn(type_of_input0)
        .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
                const std::vector<TBlob>& out) {
          const TakePlan t = take_plan(p, in[0].shape, in[1].shape, nullptr);
          const std::string& mode = p.get_string("mode");
          if (t.len == 0 && t.nidx > 0 && t.outer * t.inner > 0) {
            throw_error(ErrorCode::kInvalidArg, "cannot take from an empty axis");
          }
          const size_t es = dtype_size(in[0].dtype);
          const size_t row = static_cast<size_t>(t.inner) * es;
          const char* a = static_cast<const char*>(in[0].dptr);
          char* o = static_cast<char*>(out[0].dptr);
          for (int64_t j = 0; j < t.nidx; ++j) {
            const int64_t k = resolve_index(read_index(in[1], j), t.len, mode);
            for (int64_t oi = 0; oi < t.outer; ++oi) {
              std::memcpy(o + (oi * t.nidx + j) * row, a + (oi * t.len + k) * row, row);
            }
          }
        })
        .grad([](const NodePtr& node, const std::vector<NodeEntry>& og) {
          NodePtr b = make_backward_node("_backward_take", node,
                                         {og[0], node->inputs[0], node->inputs[1]});
          return std::vector<NodeEntry>{NodeEntry{b, 0}, NodeEntry{}};
        });

MXN_REGISTER_OP(_backward_take)
    .describe("Gradient of take: ograd accumulated at the taken positions of a.")
    .input("ograd")
    .input("a")
    .input("indices")
    .backward_for("take")
    .shape_fn(shape_of_input1)
    .type_fn(type_of_input1)
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      const TakePlan t = take_plan(p, in[1].shape, in[2].shape, nullptr);
      const std::string& mode = p.get_string("mode");
      zero_fill(out[0]);
      MXN_FLOAT_SWITCH(out[0].dtype, T, {
        using A = acc_t<T>;
        const T* g = in[0].ptr<T>();
        T* da = out[0].ptr<T>();
        for (int64_t j = 0; j < t.nidx; ++j) {
          const int64_t k = resolve_index(read_index(in[2], j), t.len, mode);
          for (int64_t oi = 0; oi < t.outer; ++oi) {
            const T* src = g + (oi * t.nidx + j) * t.inner;
            T* dst = da + (oi * t.len + k) * t.inner;
            for (int64_t e = 0; e < t.inner; ++e) dst[e] = T(A(dst[e]) + A(src[e]));
          }
        }
      });
    });

MXN_OP_REGISTRATION =
    last_param_nullable(
        OpRegistry::get()
            .add("pick")
            .describe("Picks one element per position along `axis`: out[i..., j...] = "
                      "data[i..., index[i..., j...], j...]; index has the output's shape. "
                      "mode clip clamps indices, wrap takes them modulo the axis length.")
            .input("data", "Input array.")
            .input("index", "Indices (the output's shape; any dtype).")
            .param("axis", ParamType::kInt, ParamValue::of_int(-1), "The axis to pick along."))
        .param("keepdims", ParamType::kBool, ParamValue::of_bool(false),
               "Keep the axis with size 1.")
        .choice("mode", {"clip", "wrap"}, "clip", "How out-of-range indices behave.")
        .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
          Shape o;
          pick_plan(p, in[0], &o);
          if (in[1].size() != o.size()) {
            throw Error(ErrorCode::kShape, cat("index has shape ", in[1].str(),
                                               " but the output has shape ", o.str()))
                .with_arg(1);
          }
          (*out)[0] = o;
        })
        .type_fn(type_of_input0)
        .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
                const std::vector<TBlob>& out) {
          const PickPlan k = pick_plan(p, in[0].shape, nullptr);
          const std::string& mode = p.get_string("mode");
          MXN_DTYPE_SWITCH(in[0].dtype, T, {
            const T* x = in[0].ptr<T>();
            T* y = out[0].ptr<T>();
            for (int64_t oi = 0; oi < k.outer; ++oi) {
              for (int64_t ii = 0; ii < k.inner; ++ii) {
                const int64_t o = oi * k.inner + ii;
                const int64_t j = resolve_index(read_index(in[1], o), k.len, mode);
                y[o] = x[(oi * k.len + j) * k.inner + ii];
              }
            }
          });
        })
        .grad([](const NodePtr& node, const std::vector<NodeEntry>& og) {
          NodePtr b = make_backward_node("_backward_pick", node,
                                         {og[0], node->inputs[0], node->inputs[1]});
          return std::vector<NodeEntry>{NodeEntry{b, 0}, NodeEntry{}};
        });

MXN_REGISTER_OP(_backward_pick)
    .describe("Gradient of pick: ograd written at the picked positions, zeros elsewhere.")
    .input("ograd")
    .input("data")
    .input("index")
    .backward_for("pick")
    .shape_fn(shape_of_input1)
    .type_fn(type_of_input1)
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      const PickPlan k = pick_plan(p, in[1].shape, nullptr);
      const std::string& mode = p.get_string("mode");
      zero_fill(out[0]);
      MXN_FLOAT_SWITCH(out[0].dtype, T, {
        using A = acc_t<T>;
        const T* g = in[0].ptr<T>();
        T* dx = out[0].ptr<T>();
        for (int64_t oi = 0; oi < k.outer; ++oi) {
          for (int64_t ii = 0; ii < k.inner; ++ii) {
            const int64_t o = oi * k.inner + ii;
            const int64_t j = resolve_index(read_index(in[2], o), k.len, mode);
            T& d = dx[(oi * k.len + j) * k.inner + ii];
            d = T(A(d) + A(g[o]));
          }
        }
      });
    });

MXN_REGISTER_OP(gather_nd)
    .describe("Gathers slices of data at N-d indices: indices has shape (M, Y...), the output "
              "(Y..., data.shape[M:]...) with out[y] = data[indices[0, y], ..., indices[M-1, "
              "y]]. Negative indices count from the end; out of range is an error.")
    .input("data", "Input array.")
    .input("indices", "Indices of shape (M, ...), any dtype.")
    .shape_fn([](const OpParams&, const std::vector<Shape>& in, std::vector<Shape>* out) {
      gather_nd_plan(in[0], in[1], &(*out)[0]);
    })
    .type_fn(type_of_input0)
    .cpu([](const OpContext&, const OpParams&, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      const GatherNdPlan g = gather_nd_plan(in[0].shape, in[1].shape, nullptr);
      const size_t es = dtype_size(in[0].dtype);
      const char* x = static_cast<const char*>(in[0].dptr);
      char* y = static_cast<char*>(out[0].dptr);
      const size_t bytes = static_cast<size_t>(g.slice) * es;
      for (int64_t j = 0; j < g.n; ++j) {
        const int64_t off = gather_nd_offset(g, in[1], in[0].shape, j);
        if (bytes > 0) std::memcpy(y + j * bytes, x + off * static_cast<int64_t>(es), bytes);
      }
    })
    .grad([](const NodePtr& node, const std::vector<NodeEntry>& og) {
      NodePtr b = make_backward_node("_backward_gather_nd", node,
                                     {og[0], node->inputs[0], node->inputs[1]});
      return std::vector<NodeEntry>{NodeEntry{b, 0}, NodeEntry{}};
    });

MXN_REGISTER_OP(_backward_gather_nd)
    .describe("Gradient of gather_nd: ograd accumulated at the gathered positions.")
    .input("ograd")
    .input("data")
    .input("indices")
    .backward_for("gather_nd")
    .shape_fn(shape_of_input1)
    .type_fn(type_of_input1)
    .cpu([](const OpContext&, const OpParams&, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      const GatherNdPlan g = gather_nd_plan(in[1].shape, in[2].shape, nullptr);
      zero_fill(out[0]);
      MXN_FLOAT_SWITCH(out[0].dtype, T, {
        using A = acc_t<T>;
        const T* gr = in[0].ptr<T>();
        T* dx = out[0].ptr<T>();
        for (int64_t j = 0; j < g.n; ++j) {
          const int64_t off = gather_nd_offset(g, in[2], in[1].shape, j);
          for (int64_t e = 0; e < g.slice; ++e) {
            dx[off + e] = T(A(dx[off + e]) + A(gr[j * g.slice + e]));
          }
        }
      });
    });

MXN_REGISTER_OP(one_hot)
    .describe("One-hot encoding: out.shape = indices.shape + (depth,), on_value at the index, "
              "off_value elsewhere (an index outside [0, depth) gives a row of off_value).")
    .input("indices", "Indices (any dtype).")
    .required("depth", ParamType::kInt, "Length of the one-hot axis.")
    .param("on_value", ParamType::kFloat, ParamValue::of_float(1.0), "Value at the index.")
    .param("off_value", ParamType::kFloat, ParamValue::of_float(0.0), "Value elsewhere.")
    .param("dtype", ParamType::kDType, ParamValue::of_dtype(DType::kFloat32), "Output dtype.")
    .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
      const int64_t depth = p.get_int("depth");
      MXN_CHECK(depth >= 0, ErrorCode::kInvalidArg, "depth must be >= 0, got ", depth);
      Shape s = in[0];
      s.push_back(depth);
      (*out)[0] = s;
    })
    .type_fn([](const OpParams& p, const std::vector<DType>&, std::vector<DType>* out) {
      (*out)[0] = p.get_dtype("dtype");
    })
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      const int64_t depth = p.get_int("depth");
      MXN_DTYPE_SWITCH(out[0].dtype, T, {
        const T on = T(static_cast<acc_t<T>>(p.get_float("on_value")));
        const T off = T(static_cast<acc_t<T>>(p.get_float("off_value")));
        T* y = out[0].ptr<T>();
        const int64_t n = in[0].size();
        for (int64_t i = 0; i < n; ++i) {
          const int64_t k = read_index(in[0], i);
          for (int64_t d = 0; d < depth; ++d) y[i * depth + d] = d == k ? on : off;
        }
      });
    })
    .grad(grad_zero());

MXN_REGISTER_OP(where)
    .describe("Element-wise choice: x where condition is non-zero, else y. condition has x's "
              "shape, or is 1-D with x.shape[0] elements (a whole row per element); its dtype "
              "may differ from x's.")
    .input("condition", "The condition (any dtype).")
    .input("x", "Values where the condition holds.")
    .input("y", "Values elsewhere.")
    .shape_fn([](const OpParams&, const std::vector<Shape>& in, std::vector<Shape>* out) {
      if (in[1] != in[2]) {
        throw Error(ErrorCode::kShape, cat("x has shape ", in[1].str(), " but y has shape ",
                                           in[2].str()))
            .with_arg(2);
      }
      where_inner(in[0], in[1]);
      (*out)[0] = in[1];
    })
    .type_fn([](const OpParams&, const std::vector<DType>& in, std::vector<DType>* out) {
      if (in[1] != in[2]) {
        throw Error(ErrorCode::kDType, cat("x has dtype ", dtype_name(in[1]), " but y has dtype ",
                                           dtype_name(in[2])))
            .with_arg(2);
      }
      (*out)[0] = in[1];
    })
    .cpu([](const OpContext&, const OpParams&, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      const int64_t inner = where_inner(in[0].shape, in[1].shape);
      const size_t es = dtype_size(out[0].dtype);
      const char* x = static_cast<const char*>(in[1].dptr);
      const char* y = static_cast<const char*>(in[2].dptr);
      char* o = static_cast<char*>(out[0].dptr);
      const int64_t n = out[0].size();
      for (int64_t i = 0; i < n; ++i) {
        std::memcpy(o + i * es, (truthy(in[0], i / inner) ? x : y) + i * es, es);
      }
    })
    .grad([](const NodePtr& node, const std::vector<NodeEntry>& og) {
      NodePtr b = make_backward_node("_backward_where", node, {og[0], node->inputs[0]});
      return std::vector<NodeEntry>{NodeEntry{}, NodeEntry{b, 0}, NodeEntry{b, 1}};
    });

MXN_REGISTER_OP(_backward_where)
    .describe("Gradient of where: (ograd, condition) -> (ograd where true, ograd where false).")
    .input("ograd")
    .input("condition")
    .output_names({"x_grad", "y_grad"})
    .backward_for("where")
    .shape_fn([](const OpParams&, const std::vector<Shape>& in, std::vector<Shape>* out) {
      (*out)[0] = in[0];
      (*out)[1] = in[0];
    })
    .type_fn(type_of_input0)
    .cpu([](const OpContext&, const OpParams&, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      const int64_t inner = where_inner(in[1].shape, in[0].shape);
      MXN_FLOAT_SWITCH(in[0].dtype, T, {
        const T* g = in[0].ptr<T>();
        T* dx = out[0].ptr<T>();
        T* dy = out[1].ptr<T>();
        const int64_t n = in[0].size();
        for (int64_t i = 0; i < n; ++i) {
          const bool c = truthy(in[1], i / inner);
          dx[i] = c ? g[i] : T(0.0f);
          dy[i] = c ? T(0.0f) : g[i];
        }
      });
    });

MXN_REGISTER_OP(clip)
    .describe("Clips every element to [a_min, a_max] (the bounds are converted to the input's "
              "dtype). The gradient passes where a_min <= x <= a_max.")
    .input("data", "Input array.")
    .required("a_min", ParamType::kFloat, "Lower bound.")
    .required("a_max", ParamType::kFloat, "Upper bound.")
    .shape_fn(same_shape_infer)
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      MXN_DTYPE_SWITCH(out[0].dtype, T, {
        using A = acc_t<T>;
        if constexpr (std::is_same_v<T, bool>) {
          copy_bytes(in[0], out[0]);
        } else {
          const A lo = static_cast<A>(p.get_float("a_min")), hi = static_cast<A>(p.get_float("a_max"));
          const T* x = in[0].ptr<T>();
          T* y = out[0].ptr<T>();
          const int64_t n = out[0].size();
          for (int64_t i = 0; i < n; ++i) {
            const A v = A(x[i]);
            y[i] = T(v < lo ? lo : (v > hi ? hi : v));
          }
        }
      });
    })
    .grad(grad_by_backward_op("_backward_clip", true, false));

MXN_REGISTER_OP(_backward_clip)
    .describe("Gradient of clip: ograd where a_min <= x <= a_max, else 0.")
    .input("ograd")
    .input("data")
    .backward_for("clip")
    .shape_fn(shape_of_input1)
    .type_fn(type_of_input1)
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      const double lo = p.get_float("a_min"), hi = p.get_float("a_max");
      MXN_FLOAT_SWITCH(out[0].dtype, T, {
        using A = acc_t<T>;
        const T* g = in[0].ptr<T>();
        const T* x = in[1].ptr<T>();
        T* d = out[0].ptr<T>();
        const int64_t n = out[0].size();
        for (int64_t i = 0; i < n; ++i) {
          const double v = static_cast<double>(A(x[i]));
          d[i] = (v < lo || v > hi) ? T(0.0f) : g[i];
        }
      });
    });

MXN_OP_REGISTRATION = arg_op("argmax", true);
MXN_OP_REGISTRATION = arg_op("argmin", false);
MXN_REGISTER_OP(argmax_channel)
    .describe("Index of the maximum along the last axis (argmax(data, axis=-1)); a float "
              "array like argmax.")
    .input("data", "Input array.")
    .shape_fn([](const OpParams&, const std::vector<Shape>& in, std::vector<Shape>* out) {
      MXN_CHECK(in[0].ndim() >= 1, ErrorCode::kShape, "needs at least one dimension");
      Shape o;
      for (int d = 0; d + 1 < in[0].ndim(); ++d) o.push_back(in[0][d]);
      if (o.ndim() == 0) o.push_back(1);
      (*out)[0] = o;
    })
    .type_fn(arg_type)
    .cpu([](const OpContext& ctx, const OpParams&, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      const OpDef* am = OpRegistry::get().find("argmax");
      const char* keys[] = {"axis"};
      const ParamValue vals[] = {ParamValue::of_int(-1)};
      const OpParams ap = OpParams::parse(*am, 1, keys, vals);
      arg_compute<true>(ctx, ap, in, out);
    })
    .grad(grad_zero());

}  // namespace mxn::ops
