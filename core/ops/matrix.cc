// Shape manipulation with MXNet 1.x names: Reshape, transpose, slice_axis, slice, Concat,
// expand_dims, Flatten. Every operator here copies into a new output (views that share
// storage are the NDArray's own business: NDArray::slice/at/reshape).
#include <cstring>

#include "core/graph/gradient.h"
#include "core/ops/nn_kept_layouts.h"
#include "core/ops/nn_util.h"
#include "core/ops/slice_util.h"
#include "core/ops/tensor_util.h"
#include "core/tensor/reshape_codes.h"

namespace mxn::ops {
namespace {

void copy_all(const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const size_t n = static_cast<size_t>(in[0].size()) * dtype_size(in[0].dtype);
  if (n > 0) std::memcpy(out[0].dptr, in[0].dptr, n);
}

void copy_compute(const OpContext&, const OpParams&, const std::vector<TBlob>& in,
                  const std::vector<TBlob>& out) {
  copy_all(in, out);
}

// ---- transpose ----------------------------------------------------------------------------
// The permutation (normalised, validated); empty axes reverse the dimensions.
void transpose_axes(const OpParams& p, const Shape& in, int* perm) {
  const Shape& axes = p.get_shape("axes");
  const int nd = in.ndim();
  if (axes.ndim() == 0) {
    for (int d = 0; d < nd; ++d) perm[d] = nd - 1 - d;
    return;
  }
  if (axes.ndim() != nd) {
    throw Error(ErrorCode::kInvalidArg, cat("axes ", axes.str(), " must list every axis of the ",
                                            nd, "-D input of shape ", in.str()));
  }
  bool seen[kMaxNdim] = {};
  for (int d = 0; d < nd; ++d) {
    const int64_t a = axes[d];
    if (a < -nd || a >= nd) {
      throw Error(ErrorCode::kInvalidArg, cat("axis ", a, " in axes ", axes.str(),
                                              " is out of range for input of shape ", in.str()))
          .with_axis(static_cast<int>(a));
    }
    const int n = static_cast<int>(a < 0 ? a + nd : a);
    if (seen[n]) {
      throw Error(ErrorCode::kInvalidArg,
                  cat("axes ", axes.str(), " repeats axis ", a, " (input shape ", in.str(), ")"))
          .with_axis(static_cast<int>(a));
    }
    seen[n] = true;
    perm[d] = n;
  }
}

// ---- slice --------------------------------------------------------------------------------
// Output shape, per-axis source strides and source offset of slice(begin, end, step).
Shape slice_plan(const OpParams& p, const Shape& in, int64_t* st, int64_t* offset) {
  const Shape& begin = p.get_shape("begin");
  const Shape& end = p.get_shape("end");
  const Shape& step = p.get_shape("step");
  const int nd = in.ndim();
  if (begin.ndim() != end.ndim()) {
    throw Error(ErrorCode::kInvalidArg, cat("begin ", begin.str(), " and end ", end.str(),
                                            " must have the same length"));
  }
  if (begin.ndim() > nd) {
    throw Error(ErrorCode::kInvalidArg, cat("begin ", begin.str(), " has more entries than the ",
                                            nd, " dimensions of input shape ", in.str()));
  }
  if (step.ndim() != 0 && step.ndim() != begin.ndim()) {
    throw Error(ErrorCode::kInvalidArg, cat("step ", step.str(), " must be empty or as long as "
                                            "begin ", begin.str()));
  }
  int64_t in_st[kMaxNdim];
  strides_of(in, in_st);
  Shape out = in;
  *offset = 0;
  for (int d = 0; d < nd; ++d) {
    st[d] = in_st[d];
    if (d >= begin.ndim()) continue;
    const int64_t s = step.ndim() == 0 || step[d] == kNoneIndex ? 1 : step[d];
    if (s == 0) {
      throw Error(ErrorCode::kInvalidArg, cat("step ", step.str(), " has 0 at axis ", d))
          .with_axis(d);
    }
    int64_t b = 0;
    out[d] = slice_indices(in[d], begin[d], end[d], s, &b);
    if (out[d] > 0) *offset += b * in_st[d];
    st[d] = in_st[d] * s;
  }
  return out;
}

// ---- slice_axis ---------------------------------------------------------------------------
int slice_axis_plan(const OpParams& p, const Shape& in, int64_t* begin, int64_t* end) {
  const int64_t axis = p.get_int("axis");
  const int nd = in.ndim();
  if (nd == 0 || axis < -nd || axis >= nd) {
    throw Error(ErrorCode::kInvalidArg, cat("axis ", axis, " is out of range for input of shape ",
                                            in.str()))
        .with_axis(static_cast<int>(axis));
  }
  const int a = static_cast<int>(axis < 0 ? axis + nd : axis);
  const int64_t len = in[a];
  int64_t b = p.get_int("begin");
  int64_t e = p.is_none("end") ? len : p.get_int("end");
  if (b < 0) b += len;
  if (e < 0) e += len;
  if (len == 0) {
    b = e = 0;
  } else if (b < 0 || e > len || b >= e) {
    throw Error(ErrorCode::kInvalidArg,
                cat("invalid begin=", p.get_int("begin"), ", end=",
                    p.is_none("end") ? std::string("None") : std::to_string(p.get_int("end")),
                    " for axis ", axis, " of length ", len, " (input shape ", in.str(),
                    "); need 0 <= begin < end <= length after adding the length to negative "
                    "values"))
        .with_axis(static_cast<int>(axis));
  }
  *begin = b;
  *end = e;
  return a;
}

// ---- concat -------------------------------------------------------------------------------
int concat_axis(const OpParams& p, const std::vector<Shape>& in) {
  const int nd = in[0].ndim();
  const int64_t dim = p.get_int("dim");
  if (nd == 0) {
    throw Error(ErrorCode::kShape, "cannot concatenate 0-d arrays").with_arg(0);
  }
  if (dim < -nd || dim >= nd) {
    throw Error(ErrorCode::kInvalidArg, cat("dim ", dim, " is out of range for inputs of shape ",
                                            in[0].str()))
        .with_axis(static_cast<int>(dim));
  }
  return static_cast<int>(dim < 0 ? dim + nd : dim);
}

// Gradient of an operator that only changes the shape: the output gradient reshaped back.
GradientFn grad_reshape_back() {
  return [](const NodePtr& node, const std::vector<NodeEntry>& og) {
    return std::vector<NodeEntry>{
        NodeEntry{make_node("reshape_like", node->name + "_grad", {og[0], node->inputs[0]}), 0}};
  };
}

void shape_of_input1(const OpParams&, const std::vector<Shape>& in, std::vector<Shape>* out) {
  (*out)[0] = in[1];
}
void type_of_input1(const OpParams&, const std::vector<DType>& in, std::vector<DType>* out) {
  (*out)[0] = in[1];
}

}  // namespace

MXN_REGISTER_OP(Reshape)
    .alias("reshape")
    .describe(
        "Copies the input into a new shape with the same number of elements. `shape` may use "
        "MXNet's codes: 0 copies a dimension, -1 infers one, -2 copies the rest, -3 merges two "
        "dimensions, -4 splits one into the next two values; reverse=True applies the codes "
        "from the right.")
    .input("data", "Input array.")
    .required("shape", ParamType::kShape, "Target shape (with reshape codes).")
    .param("reverse", ParamType::kBool, ParamValue::of_bool(false),
           "Match the codes from the right.")
    .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
      (*out)[0] = infer_reshape(in[0], p.get_shape("shape"), p.get_bool("reverse"));
    })
    .cpu(copy_compute)
    .grad(grad_reshape_back());

MXN_REGISTER_OP(transpose)
    .describe("Permutes the dimensions: out.shape[i] = data.shape[axes[i]]. Empty axes (the "
              "default) reverse them; negative axes count from the end.")
    .input("data", "Input array.")
    .param("axes", ParamType::kShape, ParamValue::of_shape(Shape()),
           "The permutation; empty reverses the axes.")
    .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
      int perm[kMaxNdim];
      transpose_axes(p, in[0], perm);
      Shape s = in[0];
      for (int d = 0; d < in[0].ndim(); ++d) s[d] = in[0][perm[d]];
      (*out)[0] = s;
    })
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      int perm[kMaxNdim];
      transpose_axes(p, in[0].shape, perm);
      int64_t in_st[kMaxNdim], st[kMaxNdim];
      strides_of(in[0].shape, in_st);
      for (int d = 0; d < in[0].shape.ndim(); ++d) st[d] = in_st[perm[d]];
      strided_gather(in[0], out[0], st, 0);
    })
    .grad([](const NodePtr& node, const std::vector<NodeEntry>& og) {
      // The inverse permutation (empty axes reverse, which is its own inverse).
      const Shape& axes = node->params.get_shape("axes");
      Shape inv = axes;
      const int64_t nd = axes.ndim();
      for (int64_t d = 0; d < nd; ++d) {
        const int64_t a = axes[static_cast<int>(d)] < 0 ? axes[static_cast<int>(d)] + nd
                                                        : axes[static_cast<int>(d)];
        inv[static_cast<int>(a)] = d;
      }
      return std::vector<NodeEntry>{NodeEntry{
          make_node("transpose", node->name + "_grad", {og[0]},
                    {{"axes", ParamValue::of_shape(inv)}}),
          0}};
    });

MXN_REGISTER_OP(slice_axis)
    .describe("Slices along one axis: data[..., begin:end, ...]. Negative begin/end count "
              "from the end; end=None slices to the end. Needs begin < end (MXNet 1.x), "
              "except that a zero-length axis gives an empty result.")
    .input("data", "Input array.")
    .required("axis", ParamType::kInt, "The axis to slice (negative counts from the end).")
    .required("begin", ParamType::kInt, "First index.")
    .nullable("end", ParamType::kInt, "One past the last index; None means the axis length.")
    .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
      int64_t b, e;
      const int a = slice_axis_plan(p, in[0], &b, &e);
      Shape s = in[0];
      s[a] = e - b;
      (*out)[0] = s;
    })
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      int64_t b, e;
      const int a = slice_axis_plan(p, in[0].shape, &b, &e);
      int64_t st[kMaxNdim];
      strides_of(in[0].shape, st);
      strided_gather(in[0], out[0], st, b * st[a]);
    })
    .grad(grad_by_backward_op("_backward_slice_axis", true, false));

MXN_REGISTER_OP(_backward_slice_axis)
    .describe("Gradient of slice_axis: (ograd, data) -> zeros of data's shape with ograd "
              "written into the slice.")
    .input("ograd")
    .input("data")
    .backward_for("slice_axis")
    .shape_fn(shape_of_input1)
    .type_fn(type_of_input1)
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      int64_t b, e;
      const int a = slice_axis_plan(p, in[1].shape, &b, &e);
      int64_t st[kMaxNdim];
      strides_of(in[1].shape, st);
      zero_fill(out[0]);
      strided_scatter_add(in[0], out[0], st, b * st[a]);
    });

MXN_REGISTER_OP(slice)
    .alias("crop")
    .describe(
        "Slices with Python semantics per axis: data[begin[0]:end[0]:step[0], ...]; axes "
        "beyond len(begin) are kept whole. A None entry (MXNet writes begin=(None, 1)) is "
        "passed as INT64_MIN (-9223372036854775808), the core's kNoneIndex: it means the "
        "start (or, with a negative step, the end) of the axis. step is empty or as long as "
        "begin; 0 is an error.")
    .input("data", "Input array.")
    .required("begin", ParamType::kShape, "Start indices (INT64_MIN for None).")
    .required("end", ParamType::kShape, "Stop indices, exclusive (INT64_MIN for None).")
    .param("step", ParamType::kShape, ParamValue::of_shape(Shape()),
           "Steps (empty: all 1; INT64_MIN for None).")
    .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
      int64_t st[kMaxNdim], off;
      (*out)[0] = slice_plan(p, in[0], st, &off);
    })
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      int64_t st[kMaxNdim], off;
      slice_plan(p, in[0].shape, st, &off);
      strided_gather(in[0], out[0], st, off);
    })
    .grad(grad_by_backward_op("_backward_slice", true, false));

MXN_REGISTER_OP(_backward_slice)
    .describe("Gradient of slice: (ograd, data) -> zeros of data's shape with ograd written "
              "into the sliced positions.")
    .input("ograd")
    .input("data")
    .backward_for("slice")
    .shape_fn(shape_of_input1)
    .type_fn(type_of_input1)
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      int64_t st[kMaxNdim], off;
      slice_plan(p, in[1].shape, st, &off);
      zero_fill(out[0]);
      strided_scatter_add(in[0], out[0], st, off);
    });

MXN_REGISTER_OP(Concat)
    .alias("concat")
    .describe("Joins arrays along dimension `dim` (negative counts from the end). All inputs "
              "have the same dtype, ndim and size on every other dimension.")
    .input("data", "The arrays to join.")
    .variadic("num_args")
    .param("dim", ParamType::kInt, ParamValue::of_int(1), "The dimension to join along.")
    .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
      MXN_CHECK(!in.empty(), ErrorCode::kInvalidArg, "needs at least one input");
      const int axis = concat_axis(p, in);
      Shape s = in[0];
      for (size_t i = 1; i < in.size(); ++i) {
        bool ok = in[i].ndim() == s.ndim();
        for (int d = 0; ok && d < s.ndim(); ++d) ok = d == axis || in[i][d] == in[0][d];
        if (!ok) {
          throw Error(ErrorCode::kShape,
                      cat("input ", i, " has shape ", in[i].str(), " but input 0 has shape ",
                          in[0].str(), "; they must match except on dim ", axis))
              .with_arg(static_cast<int>(i));
        }
        s[axis] += in[i][axis];
      }
      (*out)[0] = s;
    })
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      std::vector<Shape> shapes;
      for (const TBlob& b : in) shapes.push_back(b.shape);
      const int axis = concat_axis(p, shapes);
      const size_t es = dtype_size(out[0].dtype);
      int64_t outer = 1;
      for (int d = 0; d < axis; ++d) outer *= out[0].shape[d];
      int64_t inner = 1;
      for (int d = axis + 1; d < out[0].shape.ndim(); ++d) inner *= out[0].shape[d];
      const size_t out_row = static_cast<size_t>(out[0].shape[axis] * inner) * es;
      char* dst = static_cast<char*>(out[0].dptr);
      // Split over the cores: by rows where there are enough, else each input's row in
      // pieces (a batch-1 NCHW or channel-blocked concatenation has one row).
      if (outer >= nn::nn_num_threads()) {
        nn::parallel_for(outer, static_cast<int64_t>(out_row / 4), [&](int64_t o0, int64_t o1) {
          size_t col = 0;
          for (const TBlob& b : in) {
            const size_t row = static_cast<size_t>(b.shape[axis] * inner) * es;
            const char* src = static_cast<const char*>(b.dptr);
            for (int64_t o = o0; o < o1 && row > 0; ++o) {
              std::memcpy(dst + o * out_row + col, src + o * row, row);
            }
            col += row;
          }
        });
        return;
      }
      size_t col = 0;
      for (const TBlob& b : in) {
        const size_t row = static_cast<size_t>(b.shape[axis] * inner) * es;
        const char* src = static_cast<const char*>(b.dptr);
        for (int64_t o = 0; o < outer && row > 0; ++o) {
          nn::copy_bytes_parallel(dst + o * out_row + col, src + o * row, row);
        }
        col += row;
      }
    })
    .grad([](const NodePtr& node, const std::vector<NodeEntry>& og) {
      // _backward_Concat reads the output gradient and all inputs but the last (whose size
      // along dim is what remains).
      std::vector<NodeEntry> in{og[0]};
      for (size_t i = 0; i + 1 < node->inputs.size(); ++i) in.push_back(node->inputs[i]);
      NodePtr b = make_backward_node("_backward_Concat", node, std::move(in));
      // The recorded parameters may leave num_args unset (filled from the inputs at invoke).
      b->params.set("num_args", ParamValue::of_int(static_cast<int64_t>(node->inputs.size())));
      return outputs_of(b);
    });

MXN_REGISTER_OP(_backward_Concat)
    .describe("Gradient of Concat: (ograd, data0, ..., data[n-2]) -> n gradients, the pieces "
              "of ograd along dim.")
    .input("inputs")
    .variadic("num_args")  // ograd + the first num_args-1 forward inputs
    .backward_for("Concat")
    .dynamic_outputs([](const OpParams& p) { return static_cast<int>(p.get_int("num_args")); })
    .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
      const Shape& g = in[0];
      const int axis = concat_axis(p, {g});
      int64_t rest = g[axis];
      for (size_t i = 1; i < in.size(); ++i) {
        (*out)[i - 1] = in[i];
        rest -= in[i][axis];
      }
      Shape last = g;
      last[axis] = rest;
      out->back() = last;
    })
    .type_fn([](const OpParams&, const std::vector<DType>& in, std::vector<DType>* out) {
      out->assign(out->size(), in[0]);
    })
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      const TBlob& g = in[0];
      const int axis = concat_axis(p, {g.shape});
      int64_t st[kMaxNdim];
      strides_of(g.shape, st);
      int64_t begin = 0;
      for (const TBlob& o : out) {
        strided_gather(g, o, st, begin * st[axis]);
        begin += o.shape[axis];
      }
    });

MXN_REGISTER_OP(expand_dims)
    .describe("Inserts a dimension of size 1 at `axis` (in [-ndim-1, ndim]; negative counts "
              "from the end of the result).")
    .input("data", "Input array.")
    .required("axis", ParamType::kInt, "Position of the new axis.")
    .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
      const int nd = in[0].ndim();
      const int64_t axis = p.get_int("axis");
      if (axis < -nd - 1 || axis > nd) {
        throw Error(ErrorCode::kInvalidArg, cat("axis ", axis, " is out of range [", -nd - 1,
                                                ", ", nd, "] for input of shape ", in[0].str()))
            .with_axis(static_cast<int>(axis));
      }
      const int a = static_cast<int>(axis < 0 ? axis + nd + 1 : axis);
      Shape s;
      for (int d = 0; d < a; ++d) s.push_back(in[0][d]);
      s.push_back(1);
      for (int d = a; d < nd; ++d) s.push_back(in[0][d]);
      (*out)[0] = s;
    })
    .cpu(copy_compute)
    .grad(grad_reshape_back());

MXN_REGISTER_OP(Flatten)
    .alias("flatten")
    .describe("Collapses all dimensions but the first: (d0, d1, ..., dk) -> (d0, d1*...*dk). "
              "A 1-D input (n,) gives (n, 1); a 0-d input gives (1, 1).")
    .input("data", "Input array.")
    .shape_fn([](const OpParams&, const std::vector<Shape>& in, std::vector<Shape>* out) {
      const Shape& s = in[0];
      if (s.ndim() == 0) {
        (*out)[0] = Shape{1, 1};
        return;
      }
      int64_t rest = 1;
      for (int d = 1; d < s.ndim(); ++d) rest *= s[d];
      (*out)[0] = Shape{s[0], rest};
    })
    .cpu(copy_compute)
    .grad(grad_reshape_back());

namespace nn {
void concat_channels_last(const std::vector<TBlob>& in, const TBlob& out) {
  const Shape& o = out.shape;
  const int64_t pixels = o[0] * o[2] * o[3];
  const size_t es = dtype_size(out.dtype);
  parallel_for(pixels, o[1], [&](int64_t p0, int64_t p1) {
    char* y = static_cast<char*>(out.dptr) + static_cast<size_t>(p0 * o[1]) * es;
    for (int64_t p = p0; p < p1; ++p) {
      for (const TBlob& b : in) {
        const size_t row = static_cast<size_t>(b.shape[1]) * es;
        std::memcpy(y, static_cast<const char*>(b.dptr) + static_cast<size_t>(p) * row, row);
        y += row;
      }
    }
  });
}
}  // namespace nn

}  // namespace mxn::ops
