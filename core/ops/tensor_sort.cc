// Sorting with MXNet 1.x names: topk, sort, argsort. Sorts are stable: equal values keep their
// order (the lower index first), in both directions. Indices are returned as `dtype`
// (float32 by default, as in MXNet).
#include <algorithm>
#include <numeric>

#include "core/graph/gradient.h"
#include "core/ops/tensor_util.h"

namespace mxn::ops {
namespace {

OpDef& last_param_nullable(OpDef& op) {
  op.params.back().nullable = true;
  return op;
}

struct SortPlan {
  int axis;  // in the (possibly flattened) view
  int64_t outer, len, inner, k;
  Shape view;  // the input as sorted (flattened to 1-D when axis is None)
};

// k_param < 0: sort/argsort (full length). Otherwise topk's k (< 1 means the full length).
SortPlan sort_plan(const OpParams& p, const Shape& data, int64_t k_param) {
  SortPlan s;
  if (p.is_none("axis")) {
    s.view = Shape{data.size()};
    s.axis = 0;
  } else {
    MXN_CHECK(data.ndim() >= 1, ErrorCode::kShape, "needs at least one dimension (or axis=None)");
    s.view = data;
    s.axis = normalize_axis(p.get_int("axis"), data.ndim(), data);
  }
  s.len = s.view[s.axis];
  s.outer = 1;
  for (int d = 0; d < s.axis; ++d) s.outer *= s.view[d];
  s.inner = 1;
  for (int d = s.axis + 1; d < s.view.ndim(); ++d) s.inner *= s.view[d];
  s.k = k_param < 1 ? s.len : k_param;
  MXN_CHECK(s.k <= s.len, ErrorCode::kInvalidArg, "k (", s.k, ") exceeds the length ", s.len,
            " of the sorted axis (input shape ", data.str(), ")");
  return s;
}

// For every row, the first k positions of the stable sort: order[row * k + r].
std::vector<int64_t> sorted_order(const TBlob& x, const SortPlan& s, bool ascend) {
  std::vector<int64_t> order(static_cast<size_t>(s.outer * s.inner * s.k));
  std::vector<int64_t> idx(static_cast<size_t>(s.len));
  std::vector<double> v(static_cast<size_t>(s.len));
  MXN_DTYPE_SWITCH(x.dtype, T, {
    const T* p = x.ptr<T>();
    for (int64_t o = 0; o < s.outer; ++o) {
      for (int64_t i = 0; i < s.inner; ++i) {
        for (int64_t j = 0; j < s.len; ++j) {
          v[static_cast<size_t>(j)] =
              static_cast<double>(acc_t<T>(p[(o * s.len + j) * s.inner + i]));
        }
        std::iota(idx.begin(), idx.end(), int64_t(0));
        // NaN sorts as the largest value (NumPy).
        const auto less = [&](int64_t a, int64_t b) {
          const double va = v[static_cast<size_t>(a)], vb = v[static_cast<size_t>(b)];
          if (va != va) return false;
          if (vb != vb) return true;
          return va < vb;
        };
        if (ascend) {
          std::stable_sort(idx.begin(), idx.end(), less);
        } else {
          std::stable_sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) { return less(b, a); });
        }
        const int64_t row = o * s.inner + i;
        std::copy(idx.begin(), idx.begin() + s.k, order.begin() + row * s.k);
      }
    }
  });
  return order;
}

// Output position of element r of row (o, i): the sorted axis shortened to k.
inline int64_t out_pos(const SortPlan& s, int64_t o, int64_t i, int64_t r) {
  return (o * s.k + r) * s.inner + i;
}
inline int64_t in_pos(const SortPlan& s, int64_t o, int64_t i, int64_t j) {
  return (o * s.len + j) * s.inner + i;
}

Shape k_shape(const SortPlan& s) {
  Shape o = s.view;
  o[s.axis] = s.k;
  return o;
}

void write_values(const TBlob& x, const SortPlan& s, const std::vector<int64_t>& order,
                  const TBlob& out) {
  const size_t es = dtype_size(x.dtype);
  const char* src = static_cast<const char*>(x.dptr);
  char* dst = static_cast<char*>(out.dptr);
  for (int64_t o = 0; o < s.outer; ++o) {
    for (int64_t i = 0; i < s.inner; ++i) {
      const int64_t* ord = order.data() + (o * s.inner + i) * s.k;
      for (int64_t r = 0; r < s.k; ++r) {
        std::memcpy(dst + out_pos(s, o, i, r) * static_cast<int64_t>(es),
                    src + in_pos(s, o, i, ord[r]) * static_cast<int64_t>(es), es);
      }
    }
  }
}

void write_indices(const SortPlan& s, const std::vector<int64_t>& order, const TBlob& out) {
  MXN_DTYPE_SWITCH(out.dtype, T, {
    T* y = out.ptr<T>();
    for (int64_t o = 0; o < s.outer; ++o) {
      for (int64_t i = 0; i < s.inner; ++i) {
        const int64_t* ord = order.data() + (o * s.inner + i) * s.k;
        for (int64_t r = 0; r < s.k; ++r) {
          y[out_pos(s, o, i, r)] = T(static_cast<acc_t<T>>(ord[r]));
        }
      }
    }
  });
}

// Gradient of the values output: ograd scattered back to the sorted positions.
void values_backward(const TBlob& g, const TBlob& x, const SortPlan& s, bool ascend,
                     const TBlob& dx) {
  const std::vector<int64_t> order = sorted_order(x, s, ascend);
  zero_fill(dx);
  MXN_FLOAT_SWITCH(dx.dtype, T, {
    const T* gp = g.ptr<T>();
    T* d = dx.ptr<T>();
    for (int64_t o = 0; o < s.outer; ++o) {
      for (int64_t i = 0; i < s.inner; ++i) {
        const int64_t* ord = order.data() + (o * s.inner + i) * s.k;
        for (int64_t r = 0; r < s.k; ++r) d[in_pos(s, o, i, ord[r])] = gp[out_pos(s, o, i, r)];
      }
    }
  });
}

bool index_dtype_ok(DType t) {
  return t == DType::kFloat32 || t == DType::kFloat64 || t == DType::kFloat16 ||
         t == DType::kInt32 || t == DType::kInt64 || t == DType::kUint8;
}

int topk_num_outputs(const OpParams& p) { return p.get_string("ret_typ") == "both" ? 2 : 1; }

void backward_shape(const OpParams&, const std::vector<Shape>& in, std::vector<Shape>* out) {
  (*out)[0] = in[1];
}
void backward_type(const OpParams&, const std::vector<DType>& in, std::vector<DType>* out) {
  (*out)[0] = in[1];
}

}  // namespace

MXN_OP_REGISTRATION =
    last_param_nullable(
        OpRegistry::get()
            .add("topk")
            .describe(
                "The k largest (or, with is_ascend, smallest) elements along `axis` (None: of "
                "the flattened input). ret_typ: 'indices' (their positions, as `dtype`), "
                "'value', 'both' (values then indices) or 'mask' (data's shape, 1 at the "
                "selected positions). k < 1 selects the whole axis. Equal values keep their "
                "order.")
            .input("data", "Input array.")
            .param("axis", ParamType::kInt, ParamValue::of_int(-1),
                   "The axis to select along; None flattens the input."))
        .param("k", ParamType::kInt, ParamValue::of_int(1), "Number of elements to select.")
        .choice("ret_typ", {"value", "indices", "mask", "both"}, "indices", "What to return.")
        .param("is_ascend", ParamType::kBool, ParamValue::of_bool(false),
               "Select the smallest elements instead.")
        .param("dtype", ParamType::kDType, ParamValue::of_dtype(DType::kFloat32),
               "Dtype of the indices.")
        .dynamic_outputs(topk_num_outputs)
        .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
          const SortPlan s = sort_plan(p, in[0], p.get_int("k"));
          const std::string& r = p.get_string("ret_typ");
          if (r == "mask") {
            (*out)[0] = in[0];
          } else {
            out->assign(out->size(), k_shape(s));
          }
        })
        .type_fn([](const OpParams& p, const std::vector<DType>& in, std::vector<DType>* out) {
          const std::string& r = p.get_string("ret_typ");
          const DType it = p.get_dtype("dtype");
          MXN_CHECK(index_dtype_ok(it), ErrorCode::kDType, "dtype ", dtype_name(it),
                    " cannot hold indices");
          if (r == "value" || r == "mask") {
            (*out)[0] = in[0];
          } else if (r == "indices") {
            (*out)[0] = it;
          } else {
            (*out)[0] = in[0];
            (*out)[1] = it;
          }
        })
        .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
                const std::vector<TBlob>& out) {
          const SortPlan s = sort_plan(p, in[0].shape, p.get_int("k"));
          const std::vector<int64_t> order = sorted_order(in[0], s, p.get_bool("is_ascend"));
          const std::string& r = p.get_string("ret_typ");
          if (r == "value") {
            write_values(in[0], s, order, out[0]);
          } else if (r == "indices") {
            write_indices(s, order, out[0]);
          } else if (r == "both") {
            write_values(in[0], s, order, out[0]);
            write_indices(s, order, out[1]);
          } else {
            zero_fill(out[0]);
            MXN_DTYPE_SWITCH(out[0].dtype, T, {
              T* m = out[0].ptr<T>();
              for (int64_t o = 0; o < s.outer; ++o) {
                for (int64_t i = 0; i < s.inner; ++i) {
                  const int64_t* ord = order.data() + (o * s.inner + i) * s.k;
                  for (int64_t k = 0; k < s.k; ++k) {
                    m[in_pos(s, o, i, ord[k])] = T(static_cast<acc_t<T>>(1));
                  }
                }
              }
            });
          }
        })
        .grad([](const NodePtr& node, const std::vector<NodeEntry>& og) {
          const std::string& r = node->params.get_string("ret_typ");
          if (r != "value" && r != "both") return std::vector<NodeEntry>{NodeEntry{}};
          NodePtr b = make_backward_node("_backward_topk", node, {og[0], node->inputs[0]});
          return std::vector<NodeEntry>{NodeEntry{b, 0}};
        });

MXN_REGISTER_OP(_backward_topk)
    .describe("Gradient of topk's values: ograd written back at the selected positions.")
    .input("ograd")
    .input("data")
    .backward_for("topk")
    .shape_fn(backward_shape)
    .type_fn(backward_type)
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      const SortPlan s = sort_plan(p, in[1].shape, p.get_int("k"));
      values_backward(in[0], in[1], s, p.get_bool("is_ascend"), out[0]);
    });

MXN_OP_REGISTRATION =
    last_param_nullable(OpRegistry::get()
                            .add("sort")
                            .describe("Sorts along `axis` (None: the flattened input), "
                                      "ascending unless is_ascend=False; stable.")
                            .input("data", "Input array.")
                            .param("axis", ParamType::kInt, ParamValue::of_int(-1),
                                   "The axis to sort; None flattens the input."))
        .param("is_ascend", ParamType::kBool, ParamValue::of_bool(true), "Ascending order.")
        .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
          (*out)[0] = k_shape(sort_plan(p, in[0], -1));
        })
        .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
                const std::vector<TBlob>& out) {
          const SortPlan s = sort_plan(p, in[0].shape, -1);
          write_values(in[0], s, sorted_order(in[0], s, p.get_bool("is_ascend")), out[0]);
        })
        .grad(grad_by_backward_op("_backward_sort", true, false));

MXN_REGISTER_OP(_backward_sort)
    .describe("Gradient of sort: ograd written back to the sorted positions.")
    .input("ograd")
    .input("data")
    .backward_for("sort")
    .shape_fn(backward_shape)
    .type_fn(backward_type)
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      const SortPlan s = sort_plan(p, in[1].shape, -1);
      values_backward(in[0], in[1], s, p.get_bool("is_ascend"), out[0]);
    });

MXN_OP_REGISTRATION =
    last_param_nullable(OpRegistry::get()
                            .add("argsort")
                            .describe("The positions that sort the input along `axis` (None: "
                                      "the flattened input), as `dtype`; stable.")
                            .input("data", "Input array.")
                            .param("axis", ParamType::kInt, ParamValue::of_int(-1),
                                   "The axis to sort; None flattens the input."))
        .param("is_ascend", ParamType::kBool, ParamValue::of_bool(true), "Ascending order.")
        .param("dtype", ParamType::kDType, ParamValue::of_dtype(DType::kFloat32),
               "Dtype of the indices.")
        .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
          (*out)[0] = k_shape(sort_plan(p, in[0], -1));
        })
        .type_fn([](const OpParams& p, const std::vector<DType>&, std::vector<DType>* out) {
          const DType it = p.get_dtype("dtype");
          MXN_CHECK(index_dtype_ok(it), ErrorCode::kDType, "dtype ", dtype_name(it),
                    " cannot hold indices");
          (*out)[0] = it;
        })
        .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
                const std::vector<TBlob>& out) {
          const SortPlan s = sort_plan(p, in[0].shape, -1);
          write_indices(s, sorted_order(in[0], s, p.get_bool("is_ascend")), out[0]);
        })
        .grad(grad_zero());

}  // namespace mxn::ops
