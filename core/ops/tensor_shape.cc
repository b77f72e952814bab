// Shape manipulation beyond matrix.cc, with MXNet 1.x names: reshape_like, squeeze, SwapAxis,
// reverse (flip), stack, SliceChannel (split), slice_like, broadcast_to / broadcast_like /
// broadcast_axis, tile, repeat, Pad, shape_array, size_array. Every operator copies into a new
// output; gradients are registered beside each.
#include <algorithm>

#include "core/graph/gradient.h"
#include "core/ops/tensor_util.h"

namespace mxn::ops {
namespace {

void shape_of_input1(const OpParams&, const std::vector<Shape>& in, std::vector<Shape>* out) {
  (*out)[0] = in[1];
}
void type_of_input0(const OpParams&, const std::vector<DType>& in, std::vector<DType>* out) {
  out->assign(out->size(), in[0]);
}
void type_of_input1(const OpParams&, const std::vector<DType>& in, std::vector<DType>* out) {
  (*out)[0] = in[1];
}
void copy_compute(const OpContext&, const OpParams&, const std::vector<TBlob>& in,
                  const std::vector<TBlob>& out) {
  copy_bytes(in[0], out[0]);
}

// The output gradient reshaped to the first input's shape; other inputs get none.
GradientFn grad_reshape_back() {
  return [](const NodePtr& node, const std::vector<NodeEntry>& og) {
    std::vector<NodeEntry> g(node->inputs.size());
    g[0] = NodeEntry{make_node("reshape_like", node->name + "_grad", {og[0], node->inputs[0]}), 0};
    return g;
  };
}

// One backward node (ograd, data) whose single output is the first input's gradient; other
// inputs get none.
GradientFn grad_first_input(const std::string& backward_op) {
  return [backward_op](const NodePtr& node, const std::vector<NodeEntry>& og) {
    std::vector<NodeEntry> g(node->inputs.size());
    g[0] = NodeEntry{make_backward_node(backward_op, node, {og[0], node->inputs[0]}), 0};
    return g;
  };
}

// Registers _backward_<fwd>(ograd, data) -> sum of ograd back to data's shape (the gradient of
// every broadcast).
void register_sum_back(const char* fwd) {
  OpRegistry::get()
      .add(std::string("_backward_") + fwd)
      .describe(cat("Gradient of ", fwd, ": ograd summed over the broadcast axes."))
      .input("ograd")
      .input("data")
      .backward_for(fwd)
      .shape_fn(shape_of_input1)
      .type_fn(type_of_input1)
      .cpu([](const OpContext&, const OpParams&, const std::vector<TBlob>& in,
              const std::vector<TBlob>& out) { sum_to_shape(in[0], out[0]); });
}

// Broadcast copy: out (shape out.shape) from in, whose dims (right-aligned) are 1 or equal.
void broadcast_copy(const TBlob& in, const TBlob& out) {
  const int nd = out.shape.ndim(), ni = in.shape.ndim();
  int64_t in_st[kMaxNdim], st[kMaxNdim];
  strides_of(in.shape, in_st);
  for (int d = 0; d < nd; ++d) {
    const int di = d - (nd - ni);
    st[d] = di < 0 || in.shape[di] == 1 ? 0 : in_st[di];
  }
  strided_gather(in, out, st, 0);
}

void check_broadcastable(const Shape& from, const Shape& to) {
  MXN_CHECK(from.ndim() <= to.ndim(), ErrorCode::kShape, "cannot broadcast shape ", from.str(),
            " to ", to.str(), " (fewer dimensions)");
  const int off = to.ndim() - from.ndim();
  for (int d = 0; d < from.ndim(); ++d) {
    if (from[d] != 1 && from[d] != to[d + off]) {
      throw Error(ErrorCode::kShape, cat("cannot broadcast shape ", from.str(), " to ", to.str(),
                                         " (axis ", d, ": ", from[d], " vs ", to[d + off], ")"))
          .with_axis(d);
    }
  }
}

// ---- reshape_like ----------------------------------------------------------------------------
// Python-style [begin, end) of a nullable range over ndim dims.
void range_of(const OpParams& p, const char* b, const char* e, int nd, int* rb, int* re) {
  int64_t lo = p.is_none(b) ? 0 : p.get_int(b);
  int64_t hi = p.is_none(e) ? nd : p.get_int(e);
  if (lo < 0) lo += nd;
  if (hi < 0) hi += nd;
  MXN_CHECK(lo >= 0 && hi <= nd && lo <= hi, ErrorCode::kInvalidArg, b, "/", e,
            " select an invalid range [", lo, ", ", hi, ") of ", nd, " dimensions");
  *rb = static_cast<int>(lo);
  *re = static_cast<int>(hi);
}

// ---- squeeze ----------------------------------------------------------------------------------
Shape squeeze_shape(const OpParams& p, const Shape& in) {
  const int nd = in.ndim();
  bool drop[kMaxNdim] = {};
  if (p.is_none("axis")) {
    for (int d = 0; d < nd; ++d) drop[d] = in[d] == 1;
  } else {
    const Shape& axes = p.get_shape("axis");
    for (int i = 0; i < axes.ndim(); ++i) {
      const int a = normalize_axis(axes[i], nd, in);
      if (in[a] != 1) {
        throw Error(ErrorCode::kInvalidArg, cat("cannot squeeze axis ", axes[i], " of shape ",
                                                in.str(), ": its size is ", in[a], ", not 1"))
            .with_axis(static_cast<int>(axes[i]));
      }
      drop[a] = true;
    }
  }
  Shape s;
  for (int d = 0; d < nd; ++d) {
    if (!drop[d]) s.push_back(in[d]);
  }
  if (s.ndim() == 0 && nd > 0) s.push_back(1);  // MXNet 1.x: never a 0-d result
  return s;
}

// ---- SwapAxis ---------------------------------------------------------------------------------
void swap_plan(const OpParams& p, const Shape& in, int* a, int* b) {
  const int nd = in.ndim();
  *a = normalize_axis(p.get_int("dim1"), nd, in, "dim1");
  *b = normalize_axis(p.get_int("dim2"), nd, in, "dim2");
}

// ---- reverse ------------------------------------------------------------------------------------
void reverse_plan(const OpParams& p, const Shape& in, int64_t* st, int64_t* offset) {
  const int nd = in.ndim();
  strides_of(in, st);
  bool rev[kMaxNdim] = {};
  const Shape& axes = p.get_shape("axis");
  for (int i = 0; i < axes.ndim(); ++i) rev[normalize_axis(axes[i], nd, in)] = true;
  *offset = 0;
  for (int d = 0; d < nd; ++d) {
    if (rev[d] && in[d] > 0) {
      *offset += (in[d] - 1) * st[d];
      st[d] = -st[d];
    }
  }
}

// ---- stack / SliceChannel ---------------------------------------------------------------------
int64_t prod_range(const Shape& s, int from, int to) {
  int64_t p = 1;
  for (int d = from; d < to; ++d) p *= s[d];
  return p;
}

Shape insert_axis(const Shape& s, int axis, int64_t size) {
  Shape o;
  for (int d = 0; d < axis; ++d) o.push_back(s[d]);
  o.push_back(size);
  for (int d = axis; d < s.ndim(); ++d) o.push_back(s[d]);
  return o;
}

// Copies `n` blocks of `block` bytes from src (stride src_stride) to dst (stride dst_stride).
void copy_blocks(const char* src, char* dst, int64_t n, size_t block, size_t src_stride,
                 size_t dst_stride) {
  if (block == 0) return;
  for (int64_t i = 0; i < n; ++i) std::memcpy(dst + i * dst_stride, src + i * src_stride, block);
}

int split_axis(const OpParams& p, const Shape& in) {
  return normalize_axis(p.get_int("axis"), in.ndim(), in);
}

// ---- slice_like ---------------------------------------------------------------------------------
Shape slice_like_shape(const OpParams& p, const Shape& data, const Shape& like) {
  const int nd = data.ndim();
  const Shape& axes = p.get_shape("axes");
  Shape out = data;
  if (axes.ndim() == 0) {
    MXN_CHECK(like.ndim() == nd, ErrorCode::kShape, "shape_like ", like.str(),
              " must have as many dimensions as data ", data.str(), " when axes is empty");
    for (int d = 0; d < nd; ++d) out[d] = like[d];
  } else {
    for (int i = 0; i < axes.ndim(); ++i) {
      const int a = normalize_axis(axes[i], nd, data);
      MXN_CHECK(a < like.ndim(), ErrorCode::kShape, "axis ", axes[i],
                " is beyond the dimensions of shape_like ", like.str());
      out[a] = like[a];
    }
  }
  for (int d = 0; d < nd; ++d) {
    if (out[d] > data[d]) {
      throw Error(ErrorCode::kShape, cat("shape_like ", like.str(), " is larger than data ",
                                         data.str(), " on axis ", d))
          .with_axis(d);
    }
  }
  return out;
}

// ---- broadcast_like / broadcast_axis ------------------------------------------------------------
Shape broadcast_like_shape(const OpParams& p, const Shape& lhs, const Shape& rhs) {
  if (p.is_none("lhs_axes") && p.is_none("rhs_axes")) {
    check_broadcastable(lhs, rhs);
    return rhs;
  }
  MXN_CHECK(!p.is_none("lhs_axes") && !p.is_none("rhs_axes"), ErrorCode::kInvalidArg,
            "lhs_axes and rhs_axes must be given together");
  const Shape& la = p.get_shape("lhs_axes");
  const Shape& ra = p.get_shape("rhs_axes");
  MXN_CHECK(la.ndim() == ra.ndim(), ErrorCode::kInvalidArg, "lhs_axes ", la.str(),
            " and rhs_axes ", ra.str(), " must have the same length");
  Shape out = lhs;
  for (int i = 0; i < la.ndim(); ++i) {
    const int l = normalize_axis(la[i], lhs.ndim(), lhs, "lhs_axes entry");
    const int r = normalize_axis(ra[i], rhs.ndim(), rhs, "rhs_axes entry");
    MXN_CHECK(lhs[l] == 1 || lhs[l] == rhs[r], ErrorCode::kShape, "cannot broadcast axis ", l,
              " of lhs ", lhs.str(), " (size ", lhs[l], ") to size ", rhs[r]);
    out[l] = rhs[r];
  }
  return out;
}

Shape broadcast_axis_shape(const OpParams& p, const Shape& in) {
  const Shape& axes = p.get_shape("axis");
  const Shape& size = p.get_shape("size");
  MXN_CHECK(axes.ndim() == size.ndim(), ErrorCode::kInvalidArg, "axis ", axes.str(), " and size ",
            size.str(), " must have the same length");
  Shape out = in;
  for (int i = 0; i < axes.ndim(); ++i) {
    const int a = normalize_axis(axes[i], in.ndim(), in);
    if (in[a] != 1) {
      throw Error(ErrorCode::kShape, cat("axis ", axes[i], " of shape ", in.str(),
                                         " has size ", in[a], "; only size-1 axes broadcast"))
          .with_axis(static_cast<int>(axes[i]));
    }
    MXN_CHECK(size[i] >= 0, ErrorCode::kInvalidArg, "size ", size.str(), " must be >= 0");
    out[a] = size[i];
  }
  return out;
}

// ---- tile ----------------------------------------------------------------------------------
// The input and output as 2n-dim views (1, s0, 1, s1, ...) and (r0, s0, r1, s1, ...).
void tile_views(const OpParams& p, const Shape& in, Shape* small, Shape* big, Shape* out) {
  const Shape& reps = p.get_shape("reps");
  const int n = std::max(in.ndim(), reps.ndim());
  MXN_CHECK(2 * n <= kMaxNdim, ErrorCode::kNotImplemented, "tile supports at most ",
            kMaxNdim / 2, " dimensions, got ", n);
  Shape s, b, o;
  for (int d = 0; d < n; ++d) {
    const int di = d - (n - in.ndim()), dr = d - (n - reps.ndim());
    const int64_t sd = di >= 0 ? in[di] : 1;
    const int64_t rd = dr >= 0 ? reps[dr] : 1;
    MXN_CHECK(rd >= 0, ErrorCode::kInvalidArg, "reps ", reps.str(), " must be >= 0");
    s.push_back(1);
    s.push_back(sd);
    b.push_back(rd);
    b.push_back(sd);
    o.push_back(rd * sd);
  }
  *small = s;
  *big = b;
  *out = o;
}

// ---- repeat -------------------------------------------------------------------------------------
// Views (outer, len, 1, inner) and (outer, len, repeats, inner); out shape.
void repeat_views(const OpParams& p, const Shape& in, Shape* small, Shape* big, Shape* out) {
  const int64_t reps = p.get_int("repeats");
  MXN_CHECK(reps >= 0, ErrorCode::kInvalidArg, "repeats must be >= 0, got ", reps);
  if (p.is_none("axis")) {
    const int64_t n = in.size();
    *small = Shape{1, n, 1, 1};
    *big = Shape{1, n, reps, 1};
    *out = Shape{n * reps};
    return;
  }
  const int a = normalize_axis(p.get_int("axis"), in.ndim(), in);
  const int64_t outer = prod_range(in, 0, a), inner = prod_range(in, a + 1, in.ndim());
  *small = Shape{outer, in[a], 1, inner};
  *big = Shape{outer, in[a], reps, inner};
  Shape o = in;
  o[a] = in[a] * reps;
  *out = o;
}

TBlob view(const TBlob& b, const Shape& s) {
  TBlob v = b;
  v.shape = s;
  return v;
}

// ---- Pad --------------------------------------------------------------------------------------
// Per output position along each axis, the source index (-1: the constant).
std::vector<std::vector<int64_t>> pad_maps(const OpParams& p, const Shape& in, Shape* out) {
  const Shape& pw = p.get_shape("pad_width");
  const int nd = in.ndim();
  MXN_CHECK(pw.ndim() == 2 * nd, ErrorCode::kInvalidArg, "pad_width ", pw.str(), " must have 2*",
            nd, " entries (before and after for every axis of ", in.str(), ")");
  const std::string& mode = p.get_string("mode");
  std::vector<std::vector<int64_t>> maps(static_cast<size_t>(nd));
  Shape o = in;
  for (int d = 0; d < nd; ++d) {
    const int64_t before = pw[2 * d], after = pw[2 * d + 1], n = in[d];
    MXN_CHECK(before >= 0 && after >= 0, ErrorCode::kInvalidArg, "pad_width ", pw.str(),
              " must be >= 0");
    if (mode == "reflect") {
      MXN_CHECK(before < n && after < n, ErrorCode::kInvalidArg, "reflect padding of axis ", d,
                " (size ", n, ") must be smaller than the size, got ", before, " and ", after);
    } else if (mode == "edge") {
      MXN_CHECK(n > 0 || (before == 0 && after == 0), ErrorCode::kInvalidArg,
                "edge padding of the empty axis ", d);
    }
    o[d] = n + before + after;
    auto& m = maps[static_cast<size_t>(d)];
    m.resize(static_cast<size_t>(o[d]));
    for (int64_t j = 0; j < o[d]; ++j) {
      int64_t s = j - before;
      if (s < 0 || s >= n) {
        if (mode == "constant") {
          s = -1;
        } else if (mode == "edge") {
          s = s < 0 ? 0 : n - 1;
        } else {
          s = s < 0 ? -s : 2 * (n - 1) - s;
        }
      }
      m[static_cast<size_t>(j)] = s;
    }
  }
  *out = o;
  return maps;
}

// Calls f(out_index, source_offset or -1) for every output element.
template <typename F>
void for_each_pad(const Shape& in, const Shape& out, const std::vector<std::vector<int64_t>>& maps,
                  F f) {
  int64_t st[kMaxNdim];
  strides_of(in, st);
  const int nd = out.ndim();
  for_each_index(out, [&](int64_t i, const int64_t* idx) {
    int64_t src = 0;
    for (int d = 0; d < nd; ++d) {
      const int64_t s = maps[static_cast<size_t>(d)][static_cast<size_t>(idx[d])];
      if (s < 0) {
        src = -1;
        break;
      }
      src += s * st[d];
    }
    f(i, src);
  });
}

}  // namespace

// ---- registrations ------------------------------------------------------------------------------
MXN_REGISTER_OP(reshape_like)
    .describe(
        "Reshapes lhs to the shape of rhs (same number of elements). With lhs_begin/lhs_end "
        "and rhs_begin/rhs_end, only lhs.shape[lhs_begin:lhs_end] is replaced by "
        "rhs.shape[rhs_begin:rhs_end]. The result keeps lhs's dtype.")
    .input("lhs", "The array to reshape.")
    .input("rhs", "The array whose shape is used.")
    .nullable("lhs_begin", ParamType::kInt, "First dimension of lhs to replace (None: 0).")
    .nullable("lhs_end", ParamType::kInt, "End of the replaced dimensions of lhs (None: ndim).")
    .nullable("rhs_begin", ParamType::kInt, "First dimension of rhs to use (None: 0).")
    .nullable("rhs_end", ParamType::kInt, "End of the used dimensions of rhs (None: ndim).")
    .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
      int lb, le, rb, re;
      range_of(p, "lhs_begin", "lhs_end", in[0].ndim(), &lb, &le);
      range_of(p, "rhs_begin", "rhs_end", in[1].ndim(), &rb, &re);
      Shape s;
      for (int d = 0; d < lb; ++d) s.push_back(in[0][d]);
      for (int d = rb; d < re; ++d) s.push_back(in[1][d]);
      for (int d = le; d < in[0].ndim(); ++d) s.push_back(in[0][d]);
      if (s.size() != in[0].size()) {
        throw Error(ErrorCode::kShape, cat("cannot reshape lhs of shape ", in[0].str(), " (",
                                           in[0].size(), " elements) to ", s.str()))
            .with_arg(1);
      }
      (*out)[0] = s;
    })
    .type_fn(type_of_input0)
    .cpu(copy_compute)
    .grad(grad_reshape_back());

MXN_REGISTER_OP(squeeze)
    .describe("Removes axes of size 1: all of them (axis=None) or those listed (each must have "
              "size 1). As in MXNet 1.x, squeezing every axis gives shape (1,), not a 0-d "
              "array.")
    .input("data", "Input array.")
    .nullable("axis", ParamType::kShape, "The axes to remove; None removes every size-1 axis.")
    .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
      (*out)[0] = squeeze_shape(p, in[0]);
    })
    .cpu(copy_compute)
    .grad(grad_reshape_back());

MXN_REGISTER_OP(SwapAxis)
    .alias("swapaxes")
    .describe("Interchanges two axes (negative values count from the end).")
    .input("data", "Input array.")
    .param("dim1", ParamType::kInt, ParamValue::of_int(0), "The first axis.")
    .param("dim2", ParamType::kInt, ParamValue::of_int(0), "The second axis.")
    .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
      int a, b;
      swap_plan(p, in[0], &a, &b);
      Shape s = in[0];
      std::swap(s[a], s[b]);
      (*out)[0] = s;
    })
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      int a, b;
      swap_plan(p, in[0].shape, &a, &b);
      int64_t st[kMaxNdim];
      strides_of(in[0].shape, st);
      std::swap(st[a], st[b]);
      strided_gather(in[0], out[0], st, 0);
    })
    .grad([](const NodePtr& node, const std::vector<NodeEntry>& og) {
      return std::vector<NodeEntry>{NodeEntry{
          make_node("SwapAxis", node->name + "_grad", {og[0]},
                    {{"dim1", node->params.get("dim1")}, {"dim2", node->params.get("dim2")}}),
          0}};
    });

MXN_REGISTER_OP(reverse)
    .alias("flip")
    .describe("Reverses the order of elements along the given axes.")
    .input("data", "Input array.")
    .required("axis", ParamType::kShape, "The axes to reverse.")
    .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
      int64_t st[kMaxNdim], off;
      reverse_plan(p, in[0], st, &off);
      (*out)[0] = in[0];
    })
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      int64_t st[kMaxNdim], off;
      reverse_plan(p, in[0].shape, st, &off);
      strided_gather(in[0], out[0], st, off);
    })
    .grad([](const NodePtr& node, const std::vector<NodeEntry>& og) {
      return std::vector<NodeEntry>{NodeEntry{
          make_node("reverse", node->name + "_grad", {og[0]}, {{"axis", node->params.get("axis")}}),
          0}};
    });

MXN_REGISTER_OP(stack)
    .describe("Joins arrays of equal shape along a new axis `axis` (in [-ndim-1, ndim]).")
    .input("data", "The arrays to stack.")
    .variadic("num_args")
    .param("axis", ParamType::kInt, ParamValue::of_int(0), "Position of the new axis.")
    .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
      MXN_CHECK(!in.empty(), ErrorCode::kInvalidArg, "needs at least one input");
      for (size_t i = 1; i < in.size(); ++i) {
        if (in[i] != in[0]) {
          throw Error(ErrorCode::kShape, cat("input ", i, " has shape ", in[i].str(),
                                             " but input 0 has shape ", in[0].str()))
              .with_arg(static_cast<int>(i));
        }
      }
      const int nd = in[0].ndim();
      const int a = normalize_axis(p.get_int("axis"), nd + 1, in[0]);
      (*out)[0] = insert_axis(in[0], a, static_cast<int64_t>(in.size()));
    })
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      const Shape& s = in[0].shape;
      const int a = normalize_axis(p.get_int("axis"), s.ndim() + 1, s);
      const int64_t outer = prod_range(s, 0, a);
      const size_t es = dtype_size(out[0].dtype);
      const size_t block = static_cast<size_t>(prod_range(s, a, s.ndim())) * es;
      const size_t n = in.size();
      for (size_t i = 0; i < n; ++i) {
        copy_blocks(static_cast<const char*>(in[i].dptr), static_cast<char*>(out[0].dptr) + i * block,
                    outer, block, block, block * n);
      }
    })
    .grad([](const NodePtr& node, const std::vector<NodeEntry>& og) {
      NodePtr b = make_backward_node("_backward_stack", node, {og[0]});
      // The recorded parameters may leave num_args unset (filled from the inputs at invoke).
      b->params.set("num_args", ParamValue::of_int(static_cast<int64_t>(node->inputs.size())));
      return outputs_of(b);
    });

MXN_REGISTER_OP(_backward_stack)
    .describe("Gradient of stack: the slices of ograd along the stacked axis.")
    .input("ograd")
    .backward_for("stack")
    .dynamic_outputs([](const OpParams& p) { return static_cast<int>(p.get_int("num_args")); })
    .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
      const Shape& g = in[0];
      const int a = normalize_axis(p.get_int("axis"), g.ndim(), g);
      Shape s;
      for (int d = 0; d < g.ndim(); ++d) {
        if (d != a) s.push_back(g[d]);
      }
      out->assign(out->size(), s);
    })
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      const Shape& g = in[0].shape;
      const int a = normalize_axis(p.get_int("axis"), g.ndim(), g);
      const int64_t outer = prod_range(g, 0, a);
      const size_t es = dtype_size(in[0].dtype);
      const size_t block = static_cast<size_t>(prod_range(g, a + 1, g.ndim())) * es;
      const size_t n = out.size();
      for (size_t i = 0; i < n; ++i) {
        copy_blocks(static_cast<const char*>(in[0].dptr) + i * block,
                    static_cast<char*>(out[i].dptr), outer, block, block * n, block);
      }
    });

MXN_REGISTER_OP(SliceChannel)
    .alias("split")
    .describe("Splits an array along `axis` into num_outputs equal parts; with "
              "squeeze_axis=True (parts of size 1 only) the axis is removed from each part.")
    .input("data", "Input array.")
    .required("num_outputs", ParamType::kInt, "Number of parts.")
    .param("axis", ParamType::kInt, ParamValue::of_int(1), "The axis to split.")
    .param("squeeze_axis", ParamType::kBool, ParamValue::of_bool(false),
           "Remove the split axis from the parts (its size must equal num_outputs).")
    .dynamic_outputs([](const OpParams& p) {
      const int64_t n = p.get_int("num_outputs");
      MXN_CHECK(n >= 1, ErrorCode::kInvalidArg, "num_outputs must be >= 1, got ", n);
      return static_cast<int>(n);
    })
    .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
      const Shape& s = in[0];
      const int a = split_axis(p, s);
      const int64_t n = p.get_int("num_outputs");
      if (s[a] % n != 0) {
        throw Error(ErrorCode::kShape, cat("axis ", a, " of shape ", s.str(), " (size ", s[a],
                                           ") does not split into ", n, " equal parts"))
            .with_axis(a);
      }
      Shape part = s;
      part[a] = s[a] / n;
      if (p.get_bool("squeeze_axis")) {
        MXN_CHECK(part[a] == 1, ErrorCode::kShape, "squeeze_axis needs parts of size 1 on axis ",
                  a, ", got ", part[a], " (shape ", s.str(), ", num_outputs ", n, ")");
        Shape q;
        for (int d = 0; d < s.ndim(); ++d) {
          if (d != a) q.push_back(s[d]);
        }
        part = q;
      }
      out->assign(out->size(), part);
    })
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      const Shape& s = in[0].shape;
      const int a = split_axis(p, s);
      const size_t n = out.size();
      const int64_t outer = prod_range(s, 0, a);
      const size_t es = dtype_size(in[0].dtype);
      const size_t block = static_cast<size_t>(s[a] / static_cast<int64_t>(n) *
                                               prod_range(s, a + 1, s.ndim())) * es;
      for (size_t i = 0; i < n; ++i) {
        copy_blocks(static_cast<const char*>(in[0].dptr) + i * block,
                    static_cast<char*>(out[i].dptr), outer, block, block * n, block);
      }
    })
    .grad([](const NodePtr& node, const std::vector<NodeEntry>& og) {
      return std::vector<NodeEntry>{
          NodeEntry{make_backward_node("_backward_SliceChannel", node, og), 0}};
    });

MXN_REGISTER_OP(_backward_SliceChannel)
    .describe("Gradient of SliceChannel: the parts' gradients joined along the axis.")
    .input("ograds")
    .variadic("num_outputs")
    .backward_for("SliceChannel")
    .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
      const int64_t n = static_cast<int64_t>(in.size());
      if (p.get_bool("squeeze_axis")) {
        const int a = normalize_axis(p.get_int("axis"), in[0].ndim() + 1, in[0]);
        (*out)[0] = insert_axis(in[0], a, n);
      } else {
        const int a = split_axis(p, in[0]);
        Shape s = in[0];
        s[a] *= n;
        (*out)[0] = s;
      }
    })
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      const Shape& s = out[0].shape;
      const int a = split_axis(p, s);
      const size_t n = in.size();
      const int64_t outer = prod_range(s, 0, a);
      const size_t es = dtype_size(out[0].dtype);
      const size_t block = static_cast<size_t>(s[a] / static_cast<int64_t>(n) *
                                               prod_range(s, a + 1, s.ndim())) * es;
      for (size_t i = 0; i < n; ++i) {
        copy_blocks(static_cast<const char*>(in[i].dptr), static_cast<char*>(out[0].dptr) + i * block,
                    outer, block, block, block * n);
      }
    });

MXN_REGISTER_OP(slice_like)
    .describe("Slices data to the shape of shape_like, from the start of each axis: on the "
              "listed axes, or on every axis (then both have the same ndim) when axes is "
              "empty.")
    .input("data", "Input array.")
    .input("shape_like", "The array whose shape is used.")
    .param("axes", ParamType::kShape, ParamValue::of_shape(Shape()),
           "The axes to slice; empty slices all.")
    .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
      (*out)[0] = slice_like_shape(p, in[0], in[1]);
    })
    .type_fn(type_of_input0)
    .cpu([](const OpContext&, const OpParams&, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      int64_t st[kMaxNdim];
      strides_of(in[0].shape, st);
      strided_gather(in[0], out[0], st, 0);
    })
    .grad(grad_first_input("_backward_slice_like"));

MXN_REGISTER_OP(_backward_slice_like)
    .describe("Gradient of slice_like: ograd written into zeros of data's shape.")
    .input("ograd")
    .input("data")
    .backward_for("slice_like")
    .shape_fn(shape_of_input1)
    .type_fn(type_of_input1)
    .cpu([](const OpContext&, const OpParams&, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      int64_t st[kMaxNdim];
      strides_of(out[0].shape, st);
      zero_fill(out[0]);
      strided_scatter_add(in[0], out[0], st, 0);
    });

MXN_REGISTER_OP(broadcast_to)
    .describe("Broadcasts the input to `shape` (same ndim; a size-1 axis stretches; 0 in "
              "shape keeps the input's size).")
    .input("data", "Input array.")
    .required("shape", ParamType::kShape, "The target shape (0 keeps a dimension).")
    .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
      const Shape& t = p.get_shape("shape");
      MXN_CHECK(t.ndim() == in[0].ndim(), ErrorCode::kShape, "shape ", t.str(),
                " must have as many dimensions as the input ", in[0].str());
      Shape s = t;
      for (int d = 0; d < t.ndim(); ++d) {
        if (t[d] == 0) s[d] = in[0][d];
      }
      check_broadcastable(in[0], s);
      (*out)[0] = s;
    })
    .cpu([](const OpContext&, const OpParams&, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) { broadcast_copy(in[0], out[0]); })
    .grad(grad_first_input("_backward_broadcast_to"));

MXN_REGISTER_OP(broadcast_like)
    .describe("Broadcasts lhs to the shape of rhs; with lhs_axes/rhs_axes, only those axes of "
              "lhs take the sizes of rhs's axes.")
    .input("lhs", "The array to broadcast.")
    .input("rhs", "The array whose shape is used.")
    .nullable("lhs_axes", ParamType::kShape, "Axes of lhs to broadcast.")
    .nullable("rhs_axes", ParamType::kShape, "Axes of rhs giving the sizes.")
    .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
      (*out)[0] = broadcast_like_shape(p, in[0], in[1]);
    })
    .type_fn(type_of_input0)
    .cpu([](const OpContext&, const OpParams&, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) { broadcast_copy(in[0], out[0]); })
    .grad(grad_first_input("_backward_broadcast_like"));

MXN_REGISTER_OP(broadcast_axis)
    .alias("broadcast_axes")
    .describe("Broadcasts size-1 axes `axis` to the sizes `size`.")
    .input("data", "Input array.")
    .param("axis", ParamType::kShape, ParamValue::of_shape(Shape()), "The axes to broadcast.")
    .param("size", ParamType::kShape, ParamValue::of_shape(Shape()), "Their target sizes.")
    .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
      (*out)[0] = broadcast_axis_shape(p, in[0]);
    })
    .cpu([](const OpContext&, const OpParams&, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) { broadcast_copy(in[0], out[0]); })
    .grad(grad_first_input("_backward_broadcast_axis"));

MXN_REGISTER_OP(tile)
    .describe("Repeats the whole array `reps` times per axis (numpy.tile): a shorter reps is "
              "padded with 1s in front, a shorter input shape likewise.")
    .input("data", "Input array.")
    .required("reps", ParamType::kShape, "Repetitions per axis.")
    .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
      Shape small, big, o;
      tile_views(p, in[0], &small, &big, &o);
      (*out)[0] = o;
    })
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      Shape small, big, o;
      tile_views(p, in[0].shape, &small, &big, &o);
      broadcast_copy(view(in[0], small), view(out[0], big));
    })
    .grad(grad_first_input("_backward_tile"));

MXN_REGISTER_OP(_backward_tile)
    .describe("Gradient of tile: ograd summed over the repetitions.")
    .input("ograd")
    .input("data")
    .backward_for("tile")
    .shape_fn(shape_of_input1)
    .type_fn(type_of_input1)
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      Shape small, big, o;
      tile_views(p, out[0].shape, &small, &big, &o);
      sum_to_shape(view(in[0], big), view(out[0], small));
    });

MXN_REGISTER_OP(repeat)
    .describe("Repeats each element `repeats` times along `axis`; axis=None flattens the input "
              "first (the result is 1-D).")
    .input("data", "Input array.")
    .required("repeats", ParamType::kInt, "Repetitions of each element.")
    .nullable("axis", ParamType::kInt, "The axis; None repeats the flattened input.")
    .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
      Shape small, big, o;
      repeat_views(p, in[0], &small, &big, &o);
      (*out)[0] = o;
    })
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      Shape small, big, o;
      repeat_views(p, in[0].shape, &small, &big, &o);
      broadcast_copy(view(in[0], small), view(out[0], big));
    })
    .grad(grad_first_input("_backward_repeat"));

MXN_REGISTER_OP(_backward_repeat)
    .describe("Gradient of repeat: ograd summed over the repetitions.")
    .input("ograd")
    .input("data")
    .backward_for("repeat")
    .shape_fn(shape_of_input1)
    .type_fn(type_of_input1)
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      Shape small, big, o;
      repeat_views(p, out[0].shape, &small, &big, &o);
      sum_to_shape(view(in[0], big), view(out[0], small));
    });

MXN_REGISTER_OP(Pad)
    .alias("pad")
    .describe(
        "Pads every axis: pad_width holds (before, after) for each axis in order (2*ndim "
        "entries). mode constant fills constant_value, edge repeats the border element, "
        "reflect mirrors without repeating it (pads smaller than the axis). Unlike MXNet 1.x "
        "(4-D/5-D inputs, no padding of the first two axes) any ndim and axis may be padded.")
    .input("data", "Input array.")
    .choice("mode", {"constant", "edge", "reflect"}, "constant", "Padding mode.")
    .required("pad_width", ParamType::kShape, "(before, after) per axis.")
    .param("constant_value", ParamType::kFloat, ParamValue::of_float(0.0),
           "Fill value of constant mode.")
    .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
      Shape o;
      pad_maps(p, in[0], &o);
      (*out)[0] = o;
    })
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      Shape o;
      const auto maps = pad_maps(p, in[0].shape, &o);
      MXN_DTYPE_SWITCH(out[0].dtype, T, {
        const T* x = in[0].ptr<T>();
        T* y = out[0].ptr<T>();
        const T c = T(static_cast<acc_t<T>>(p.get_float("constant_value")));
        for_each_pad(in[0].shape, o, maps, [&](int64_t i, int64_t s) { y[i] = s < 0 ? c : x[s]; });
      });
    })
    .grad(grad_first_input("_backward_Pad"));

MXN_REGISTER_OP(_backward_Pad)
    .describe("Gradient of Pad: ograd accumulated onto the elements each position copies.")
    .input("ograd")
    .input("data")
    .backward_for("Pad")
    .shape_fn(shape_of_input1)
    .type_fn(type_of_input1)
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      Shape o;
      const auto maps = pad_maps(p, out[0].shape, &o);
      MXN_FLOAT_SWITCH(out[0].dtype, T, {
        using A = acc_t<T>;
        const T* g = in[0].ptr<T>();
        T* dx = out[0].ptr<T>();
        zero_fill(out[0]);
        for_each_pad(out[0].shape, o, maps, [&](int64_t i, int64_t s) {
          if (s >= 0) dx[s] = T(A(dx[s]) + A(g[i]));
        });
      });
    });

MXN_REGISTER_OP(shape_array)
    .describe("The shape of the input as a 1-D int64 array.")
    .input("data", "Input array.")
    .shape_fn([](const OpParams&, const std::vector<Shape>& in, std::vector<Shape>* out) {
      (*out)[0] = Shape{in[0].ndim()};
    })
    .type_fn([](const OpParams&, const std::vector<DType>&, std::vector<DType>* out) {
      (*out)[0] = DType::kInt64;
    })
    .cpu([](const OpContext&, const OpParams&, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      for (int d = 0; d < in[0].shape.ndim(); ++d) out[0].ptr<int64_t>()[d] = in[0].shape[d];
    })
    .grad(grad_zero());

MXN_REGISTER_OP(size_array)
    .describe("The number of elements of the input as an int64 array of shape (1,).")
    .input("data", "Input array.")
    .shape_fn([](const OpParams&, const std::vector<Shape>&, std::vector<Shape>* out) {
      (*out)[0] = Shape{1};
    })
    .type_fn([](const OpParams&, const std::vector<DType>&, std::vector<DType>* out) {
      (*out)[0] = DType::kInt64;
    })
    .cpu([](const OpContext&, const OpParams&, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) { out[0].ptr<int64_t>()[0] = in[0].size(); })
    .grad(grad_zero());

namespace {
[[maybe_unused]] const bool kSumBackRegistered = [] {
  register_sum_back("broadcast_to");
  register_sum_back("broadcast_like");
  register_sum_back("broadcast_axis");
  return true;
}();
}  // namespace

}  // namespace mxn::ops
