// More random operators with MXNet 1.x names: _random_randint, _shuffle, _sample_multinomial.
// Counter-based like random.cc: the invoke layer reserves one Philox counter per output element
// and draw i uses block (seed, counter + i) only, so the numbers depend on the seed and the
// program order, never on threads or devices.
#include <algorithm>
#include <cmath>

#include "core/base/philox.h"
#include "core/graph/gradient.h"
#include "core/ops/tensor_util.h"

namespace mxn::ops {
namespace {

// 64 random bits of draw i.
uint64_t draw64(const OpContext& ctx, uint64_t i) {
  uint32_t w[4];
  Philox4x32::at(ctx.seed, ctx.counter + i, w);
  return (static_cast<uint64_t>(w[0]) << 32) | w[1];
}
// Uniform in [0, 1) from draw i (53 bits of words 0-1, as _random_uniform).
double draw_uniform(const OpContext& ctx, uint64_t i) {
  uint32_t w[4];
  Philox4x32::at(ctx.seed, ctx.counter + i, w);
  return philox_uniform53(w[0], w[1]);
}

Shape multinomial_shape(const OpParams& p, const Shape& data) {
  MXN_CHECK(data.ndim() >= 1, ErrorCode::kShape, "data must have at least one dimension");
  Shape o;
  for (int d = 0; d + 1 < data.ndim(); ++d) o.push_back(data[d]);
  const Shape& s = p.get_shape("shape");
  for (int d = 0; d < s.ndim(); ++d) o.push_back(s[d]);
  if (o.ndim() == 0) o.push_back(1);  // one draw from a 1-D distribution: shape (1,)
  return o;
}

}  // namespace

MXN_REGISTER_OP(_random_randint)
    .alias("random_randint")
    .alias("randint")
    .describe("Samples integers uniformly from [low, high). Element i uses Philox block "
              "(seed, counter + i): low + (64 bits of words 0-1) mod (high - low).")
    .required("low", ParamType::kInt, "Lower bound (inclusive).")
    .required("high", ParamType::kInt, "Upper bound (exclusive, > low).")
    .param("shape", ParamType::kShape, ParamValue::of_shape(Shape()), "Shape of the output.")
    .ctx_param()
    .param("dtype", ParamType::kDType, ParamValue::of_dtype(DType::kInt32),
           "int32 or int64.")
    .random()
    .shape_fn([](const OpParams& p, const std::vector<Shape>&, std::vector<Shape>* out) {
      MXN_CHECK(p.get_int("low") < p.get_int("high"), ErrorCode::kInvalidArg, "low (",
                p.get_int("low"), ") must be < high (", p.get_int("high"), ")");
      const Shape& s = p.get_shape("shape");
      (*out)[0] = Shape::from_dims(s.data(), s.ndim(), "shape");
    })
    .type_fn([](const OpParams& p, const std::vector<DType>&, std::vector<DType>* out) {
      const DType t = p.get_dtype("dtype");
      MXN_CHECK(t == DType::kInt32 || t == DType::kInt64, ErrorCode::kDType,
                "dtype must be int32 or int64, got ", dtype_name(t));
      (*out)[0] = t;
    })
    .cpu([](const OpContext& ctx, const OpParams& p, const std::vector<TBlob>&,
            const std::vector<TBlob>& out) {
      const int64_t low = p.get_int("low");
      const uint64_t range = static_cast<uint64_t>(p.get_int("high") - low);
      const int64_t n = out[0].size();
      for (int64_t i = 0; i < n; ++i) {
        const int64_t v = low + static_cast<int64_t>(draw64(ctx, static_cast<uint64_t>(i)) % range);
        if (out[0].dtype == DType::kInt32) {
          out[0].ptr<int32_t>()[i] = static_cast<int32_t>(v);
        } else {
          out[0].ptr<int64_t>()[i] = v;
        }
      }
    });

MXN_REGISTER_OP(_shuffle)
    .alias("shuffle")
    .describe("Randomly permutes the input along its first axis (rows of a 2-D array, elements "
              "of a 1-D one). Fisher-Yates from the last row down: row i swaps with row j = "
              "(64 bits of Philox block (seed, counter + i)) mod (i + 1).")
    .input("data", "Input array.")
    .random()
    .shape_fn(same_shape_infer)
    .cpu([](const OpContext& ctx, const OpParams&, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      const Shape& s = in[0].shape;
      if (s.ndim() == 0 || s.size() == 0) {
        copy_bytes(in[0], out[0]);
        return;
      }
      const int64_t n = s[0];
      std::vector<int64_t> perm(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) perm[static_cast<size_t>(i)] = i;
      for (int64_t i = n - 1; i > 0; --i) {
        const int64_t j = static_cast<int64_t>(draw64(ctx, static_cast<uint64_t>(i)) %
                                               static_cast<uint64_t>(i + 1));
        std::swap(perm[static_cast<size_t>(i)], perm[static_cast<size_t>(j)]);
      }
      const size_t row = static_cast<size_t>(s.size() / n) * dtype_size(in[0].dtype);
      const char* src = static_cast<const char*>(in[0].dptr);
      char* dst = static_cast<char*>(out[0].dptr);
      for (int64_t i = 0; i < n; ++i) {
        std::memcpy(dst + i * row, src + perm[static_cast<size_t>(i)] * row, row);
      }
    });

MXN_REGISTER_OP(_sample_multinomial)
    .alias("sample_multinomial")
    .describe(
        "Draws category indices from the distributions in the last axis of data (each row "
        "sums to 1): out.shape = data.shape[:-1] + shape. Draw i uses u = uniform53(Philox "
        "block (seed, counter + i)) and returns the first k with cumsum(p)[k] > u. With "
        "get_prob=True a second output holds log p[k] of each draw; its gradient flows to "
        "data (d log p[k] / d p[k] = 1 / p[k]).")
    .input("data", "Probabilities, shape (..., k).")
    .param("shape", ParamType::kShape, ParamValue::of_shape(Shape()),
           "Draws per distribution.")
    .param("get_prob", ParamType::kBool, ParamValue::of_bool(false),
           "Also return the log-probability of each draw.")
    .param("dtype", ParamType::kDType, ParamValue::of_dtype(DType::kInt32),
           "Dtype of the samples.")
    .random()
    .dynamic_outputs([](const OpParams& p) { return p.get_bool("get_prob") ? 2 : 1; })
    .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
      out->assign(out->size(), multinomial_shape(p, in[0]));
    })
    .type_fn([](const OpParams& p, const std::vector<DType>& in, std::vector<DType>* out) {
      MXN_CHECK(dtype_is_float(in[0]), ErrorCode::kDType,
                "data must be floating point, got ", dtype_name(in[0]));
      (*out)[0] = p.get_dtype("dtype");
      if (out->size() > 1) (*out)[1] = in[0];
    })
    .cpu([](const OpContext& ctx, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      const Shape& ds = in[0].shape;
      const int64_t k = ds[ds.ndim() - 1];
      const int64_t dists = k == 0 ? 0 : ds.size() / k;
      const int64_t per = dists == 0 ? 0 : out[0].size() / dists;
      MXN_CHECK(k > 0 || out[0].size() == 0, ErrorCode::kShape,
                "cannot sample from an empty distribution");
      MXN_FLOAT_SWITCH(in[0].dtype, T, {
        const T* pr = in[0].ptr<T>();
        for (int64_t d = 0; d < dists; ++d) {
          const T* row = pr + d * k;
          for (int64_t j = 0; j < per; ++j) {
            const int64_t i = d * per + j;
            const double u = draw_uniform(ctx, static_cast<uint64_t>(i));
            double c = 0;
            int64_t s = k - 1;
            for (int64_t t = 0; t < k; ++t) {
              c += static_cast<double>(acc_t<T>(row[t]));
              if (c > u) {
                s = t;
                break;
              }
            }
            MXN_DTYPE_SWITCH(out[0].dtype, S,
                             { out[0].ptr<S>()[i] = S(static_cast<acc_t<S>>(s)); });
            if (out.size() > 1) {
              out[1].ptr<T>()[i] =
                  T(static_cast<acc_t<T>>(std::log(static_cast<double>(acc_t<T>(row[s])))));
            }
          }
        }
      });
    })
    .grad([](const NodePtr& node, const std::vector<NodeEntry>& og) {
      if (!node->params.get_bool("get_prob")) return std::vector<NodeEntry>{NodeEntry{}};
      NodePtr b = make_backward_node("_backward_sample_multinomial", node,
                                     {og[1], node->inputs[0], NodeEntry{node, 0}});
      return std::vector<NodeEntry>{NodeEntry{b, 0}};
    });

MXN_REGISTER_OP(_backward_sample_multinomial)
    .describe("Gradient of _sample_multinomial's log-probabilities: for each draw k, "
              "ograd / p[k] added at data[..., k].")
    .input("ograd_prob")
    .input("data")
    .input("samples")
    .backward_for("_sample_multinomial")
    .shape_fn([](const OpParams&, const std::vector<Shape>& in, std::vector<Shape>* out) {
      (*out)[0] = in[1];
    })
    .type_fn([](const OpParams&, const std::vector<DType>& in, std::vector<DType>* out) {
      (*out)[0] = in[1];
    })
    .cpu([](const OpContext&, const OpParams&, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      const Shape& ds = in[1].shape;
      const int64_t k = ds[ds.ndim() - 1];
      const int64_t dists = k == 0 ? 0 : ds.size() / k;
      const int64_t per = dists == 0 ? 0 : in[2].size() / dists;
      zero_fill(out[0]);
      MXN_FLOAT_SWITCH(out[0].dtype, T, {
        using A = acc_t<T>;
        const T* g = in[0].ptr<T>();
        const T* pr = in[1].ptr<T>();
        T* d = out[0].ptr<T>();
        for (int64_t r = 0; r < dists; ++r) {
          for (int64_t j = 0; j < per; ++j) {
            const int64_t i = r * per + j;
            const int64_t s = read_index(in[2], i);
            T& dst = d[r * k + s];
            dst = T(static_cast<A>(A(dst) + A(g[i]) / A(pr[r * k + s])));
          }
        }
      });
    });

}  // namespace mxn::ops
