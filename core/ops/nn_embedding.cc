// Embedding (MXNet 1.x): out[..., :] = weight[clip(int(data[...]), 0, input_dim - 1), :].
// Indices may have any numeric dtype; weight and output have `dtype`. The weight gradient
// scatter-adds the output gradient rows; indices get no gradient.
#include "core/ops/nn_util.h"

namespace mxn::ops::nn {
namespace {

template <typename F>
void for_each_index(const TBlob& data, int64_t input_dim, F f) {
  MXN_DTYPE_SWITCH(data.dtype, I, {
    const I* idx = data.ptr<I>();
    for (int64_t i = 0; i < data.size(); ++i) {
      int64_t k;
      if constexpr (std::is_same_v<I, half_t>) {
        k = static_cast<int64_t>(float(idx[i]));
      } else {
        k = static_cast<int64_t>(idx[i]);
      }
      k = std::min(std::max<int64_t>(k, 0), input_dim - 1);
      f(i, k);
    }
  });
}

}  // namespace

MXN_REGISTER_OP(Embedding)
    .describe(
        "Maps integer indices to vector representations: out = weight[data] with out.shape = "
        "data.shape + (output_dim,). weight is (input_dim, output_dim); indices are truncated "
        "to integers and clipped to [0, input_dim - 1].")
    .input("data", "The input array to the embedding operator (indices).")
    .input("weight", "The embedding weight matrix (input_dim, output_dim).")
    .required("input_dim", ParamType::kInt, "Vocabulary size of the input indices.")
    .required("output_dim", ParamType::kInt, "Dimension of the embedding vectors.")
    .param("dtype", ParamType::kDType, ParamValue::of_dtype(DType::kFloat32),
           "Data type of weight and output.")
    .param("sparse_grad", ParamType::kBool, ParamValue::of_bool(false),
           "Compute a row_sparse gradient (accepted for compatibility; the gradient is dense).")
    .input_shapes_fn([](const OpParams& p, std::vector<Shape>* in) {
      fill_shape(in, 1, Shape{p.get_int("input_dim"), p.get_int("output_dim")});
    })
    .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
      const int64_t vi = p.get_int("input_dim"), vo = p.get_int("output_dim");
      MXN_CHECK(vi >= 1 && vo >= 1, ErrorCode::kInvalidArg,
                "input_dim and output_dim must be >= 1, got ", vi, " and ", vo);
      if (in[1] != Shape{vi, vo}) {
        shape_error(1, cat("weight has shape ", in[1].str(), " but input_dim=", vi,
                           ", output_dim=", vo, " need (", vi, ",", vo, ")"));
      }
      Shape o = in[0];
      MXN_CHECK(o.ndim() < kMaxNdim, ErrorCode::kShape, "data has too many dimensions");
      o.push_back(vo);
      (*out)[0] = o;
    })
    .type_fn([](const OpParams& p, const std::vector<DType>& in, std::vector<DType>* out) {
      const DType t = p.get_dtype("dtype");
      if (!is_real(t)) {
        throw Error(ErrorCode::kDType, cat("dtype must be float16, float32 or float64, got ",
                                           dtype_name(t)));
      }
      if (in[1] != t) {
        throw Error(ErrorCode::kDType, cat("input 1 ('weight') has dtype ", dtype_name(in[1]),
                                           " but dtype=", dtype_name(t)))
            .with_arg(1);
      }
      if (in[0] == DType::kBool) {
        throw Error(ErrorCode::kDType, "input 0 ('data') must hold numeric indices, got bool")
            .with_arg(0);
      }
      (*out)[0] = t;
    })
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      const int64_t vi = p.get_int("input_dim"), vo = p.get_int("output_dim");
      const size_t row = static_cast<size_t>(vo) * dtype_size(out[0].dtype);
      const char* w = static_cast<const char*>(in[1].dptr);
      char* o = static_cast<char*>(out[0].dptr);
      for_each_index(in[0], vi, [&](int64_t i, int64_t k) {
        std::memcpy(o + i * row, w + k * row, row);
      });
    })
    .grad([](const NodePtr& n, const std::vector<NodeEntry>& og) {
      return backward_entries("_backward_Embedding", n, {og[0], fwd_input(n, 0)}, {-1, 0});
    });

MXN_REGISTER_OP(_backward_Embedding)
    .backward_for("Embedding")
    .input("out_grad")
    .input("data")
    .shape_fn([](const OpParams& p, const std::vector<Shape>&, std::vector<Shape>* out) {
      (*out)[0] = Shape{p.get_int("input_dim"), p.get_int("output_dim")};
    })
    .type_fn([](const OpParams&, const std::vector<DType>& in, std::vector<DType>* out) {
      (*out)[0] = in[0];
    })
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      const int64_t vi = p.get_int("input_dim"), vo = p.get_int("output_dim");
      MXN_REAL_SWITCH(out[0].dtype, T, {
        using A = acc_t<T>;
        std::vector<A> acc(static_cast<size_t>(vi * vo), A(0));
        const T* g = in[0].ptr<T>();
        for_each_index(in[1], vi, [&](int64_t i, int64_t k) {
          const T* gr = g + i * vo;
          A* ar = acc.data() + k * vo;
          for (int64_t j = 0; j < vo; ++j) ar[j] += A(gr[j]);
        });
        T* d = out[0].ptr<T>();
        for (int64_t j = 0; j < vi * vo; ++j) d[j] = T(acc[j]);
      });
    });

}  // namespace mxn::ops::nn
