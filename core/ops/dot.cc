// Matrix products with MXNet 1.x semantics: dot (N-D, viewed as 2-D matrices) and batch_dot
// (3-D). float32/float64 go through OpenBLAS; other dtypes through a plain loop (float16
// accumulates in float, integers in int64). Builds without BLAS (MXN_NO_BLAS, the WebAssembly
// build) use the plain loop for every dtype.
#if !defined(MXN_NO_BLAS)
#include <cblas.h>
#endif

#include <climits>
#include <cstring>

#include "core/graph/gradient.h"
#include "core/ops/tensor_util.h"

namespace mxn::ops {
namespace {

// A product C(m, n) = op(A) op(B) over k, row-major. A is stored (m, k), or (k, m) when ta;
// B is stored (k, n), or (n, k) when tb.
struct Gemm {
  int64_t m = 0, n = 0, k = 0;
  bool ta = false, tb = false;
};

template <typename T>
void gemm_loop(const Gemm& g, const T* a, const T* b, T* c) {
  using Acc = std::conditional_t<std::is_same_v<T, half_t>, float,
                                 std::conditional_t<std::is_floating_point_v<T>, T, int64_t>>;
  const int64_t as_i = g.ta ? 1 : g.k, as_p = g.ta ? g.m : 1;  // A(i, p) strides
  const int64_t bs_p = g.tb ? 1 : g.n, bs_j = g.tb ? g.k : 1;  // B(p, j) strides
  for (int64_t i = 0; i < g.m; ++i) {
    for (int64_t j = 0; j < g.n; ++j) {
      Acc s = Acc(0);
      for (int64_t p = 0; p < g.k; ++p) {
        s += static_cast<Acc>(acc_t<T>(a[i * as_i + p * as_p])) *
             static_cast<Acc>(acc_t<T>(b[p * bs_p + j * bs_j]));
      }
      if constexpr (std::is_same_v<T, bool>) {
        c[i * g.n + j] = s != 0;
      } else {
        c[i * g.n + j] = T(static_cast<acc_t<T>>(s));
      }
    }
  }
}

template <typename T>
void gemm(const Gemm& g, const T* a, const T* b, T* c) {
  if (g.m == 0 || g.n == 0) return;
  if (g.k == 0) {
    for (int64_t i = 0; i < g.m * g.n; ++i) c[i] = T(0);
    return;
  }
#if !defined(MXN_NO_BLAS)
  constexpr bool kBlas = std::is_same_v<T, float> || std::is_same_v<T, double>;
  if constexpr (kBlas) {
    if (g.m < INT_MAX && g.n < INT_MAX && g.k < INT_MAX) {
      const int m = static_cast<int>(g.m), n = static_cast<int>(g.n), k = static_cast<int>(g.k);
      const CBLAS_TRANSPOSE ta = g.ta ? CblasTrans : CblasNoTrans;
      const CBLAS_TRANSPOSE tb = g.tb ? CblasTrans : CblasNoTrans;
      const int lda = g.ta ? m : k, ldb = g.tb ? k : n;
      if constexpr (std::is_same_v<T, float>) {
        cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, n);
      } else {
        cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, 1.0, a, lda, b, ldb, 0.0, c, n);
      }
      return;
    }
  }
#endif
  gemm_loop(g, a, b, c);
}

int64_t prod(const Shape& s, int from, int to) {
  int64_t p = 1;
  for (int d = from; d < to; ++d) p *= s[d];
  return p;
}

[[noreturn]] void dot_shape_error(const Shape& l, const Shape& r, bool ta, bool tb,
                                  const char* why) {
  throw Error(ErrorCode::kShape, cat("shapes ", l.str(), " and ", r.str(), " (transpose_a=",
                                     ta ? "True" : "False", ", transpose_b=",
                                     tb ? "True" : "False", ") are not aligned: ", why))
      .with_arg(1);
}

// dot's 2-D view of its operands and its output shape (MXNet's DotShape).
Gemm dot_plan(const OpParams& p, const Shape& l, const Shape& r, Shape* out) {
  const bool ta = p.get_bool("transpose_a"), tb = p.get_bool("transpose_b");
  if (l.ndim() == 0 || r.ndim() == 0) {
    throw Error(ErrorCode::kShape, cat("0-d arrays are not supported (shapes ", l.str(), " and ",
                                       r.str(), "); use broadcast_mul"))
        .with_arg(l.ndim() == 0 ? 0 : 1);
  }
  Gemm g;
  g.ta = ta;
  g.tb = tb;
  Shape o;
  if (l.ndim() == 1 && r.ndim() == 1) {
    if (ta || tb) dot_shape_error(l, r, ta, tb, "1-D vectors cannot be transposed");
    if (l[0] != r[0]) dot_shape_error(l, r, ta, tb, "lengths differ");
    g.m = g.n = 1;
    g.k = l[0];
    o.push_back(1);
    *out = o;
    return g;
  }
  const int ln = l.ndim(), rn = r.ndim();
  int64_t kl;
  if (ta) {  // lhs is (l[0], rest) transposed: keeps l[1:]
    kl = l[0];
    g.m = prod(l, 1, ln);
    for (int d = 1; d < ln; ++d) o.push_back(l[d]);
  } else {
    kl = l[ln - 1];
    g.m = prod(l, 0, ln - 1);
    for (int d = 0; d < ln - 1; ++d) o.push_back(l[d]);
  }
  int64_t kr;
  if (tb) {  // rhs is (rest, r[-1]) transposed: keeps r[:-1]
    kr = r[rn - 1];
    g.n = prod(r, 0, rn - 1);
    for (int d = 0; d < rn - 1; ++d) o.push_back(r[d]);
  } else {
    kr = r[0];
    g.n = prod(r, 1, rn);
    for (int d = 1; d < rn; ++d) o.push_back(r[d]);
  }
  if (kl != kr) {
    dot_shape_error(l, r, ta, tb,
                    cat("the contracted dimensions differ (", kl, " vs ", kr, ")").c_str());
  }
  g.k = kl;
  *out = o;
  return g;
}

Gemm batch_plan(const OpParams& p, const Shape& l, const Shape& r, Shape* out, int64_t* batch) {
  const bool ta = p.get_bool("transpose_a"), tb = p.get_bool("transpose_b");
  if (l.ndim() != 3 || r.ndim() != 3) {
    throw Error(ErrorCode::kShape, cat("needs 3-D inputs (batch, rows, cols), got shapes ",
                                       l.str(), " and ", r.str()))
        .with_arg(l.ndim() != 3 ? 0 : 1);
  }
  if (l[0] != r[0]) dot_shape_error(l, r, ta, tb, "the batch sizes differ");
  Gemm g;
  g.ta = ta;
  g.tb = tb;
  g.m = ta ? l[2] : l[1];
  const int64_t kl = ta ? l[1] : l[2];
  const int64_t kr = tb ? r[2] : r[1];
  g.n = tb ? r[1] : r[2];
  if (kl != kr) {
    dot_shape_error(l, r, ta, tb,
                    cat("the contracted dimensions differ (", kl, " vs ", kr, ")").c_str());
  }
  g.k = kl;
  *batch = l[0];
  *out = Shape{l[0], g.m, g.n};
  return g;
}

OpDef& matmul_op(const char* name) {
  return OpRegistry::get()
      .add(name)
      .input("lhs", "First input.")
      .input("rhs", "Second input.")
      .param("transpose_a", ParamType::kBool, ParamValue::of_bool(false),
             "Transpose the first input before the product.")
      .param("transpose_b", ParamType::kBool, ParamValue::of_bool(false),
             "Transpose the second input before the product.");
}

// Gradients of C = op(A) op(B) for one (m, n, k, ta, tb) product: dA has A's stored layout,
// dB has B's. Each is one product of dC with the other operand.
template <typename T>
void gemm_backward(const Gemm& g, const T* dc, const T* a, const T* b, T* da, T* db) {
  if (da != nullptr) {
    Gemm d;
    if (!g.ta) {  // dA (m, k) = dC op(B)^T
      d = Gemm{g.m, g.k, g.n, false, !g.tb};
      gemm<T>(d, dc, b, da);
    } else {  // dA (k, m) = op(B) dC^T
      d = Gemm{g.k, g.m, g.n, g.tb, true};
      gemm<T>(d, b, dc, da);
    }
  }
  if (db != nullptr) {
    Gemm d;
    if (!g.tb) {  // dB (k, n) = op(A)^T dC
      d = Gemm{g.k, g.n, g.m, !g.ta, false};
      gemm<T>(d, a, dc, db);
    } else {  // dB (n, k) = dC^T op(A)
      d = Gemm{g.n, g.k, g.m, true, g.ta};
      gemm<T>(d, dc, a, db);
    }
  }
}

void scale_inplace(const TBlob& b, double alpha) {
  if (alpha == 1.0) return;
  MXN_FLOAT_SWITCH(b.dtype, T, {
    T* p = b.ptr<T>();
    const int64_t n = b.size();
    for (int64_t i = 0; i < n; ++i) p[i] = T(static_cast<acc_t<T>>(acc_t<T>(p[i]) * alpha));
  });
}

void lhs_rhs_shapes(const OpParams&, const std::vector<Shape>& in, std::vector<Shape>* out) {
  (*out)[0] = in[1];
  (*out)[1] = in[2];
}
void lhs_rhs_types(const OpParams&, const std::vector<DType>& in, std::vector<DType>* out) {
  (*out)[0] = in[1];
  (*out)[1] = in[2];
}

OpDef& matmul_backward(const char* fwd) {
  return OpRegistry::get()
      .add(std::string("_backward_") + fwd)
      .describe(cat("Gradient of ", fwd, ": (ograd, lhs, rhs) -> (dlhs, drhs)."))
      .input("ograd")
      .input("lhs")
      .input("rhs")
      .output_names({"lhs_grad", "rhs_grad"})
      .backward_for(fwd)
      .shape_fn(lhs_rhs_shapes)
      .type_fn(lhs_rhs_types);
}

// _linalg_gemm2: batched over all leading axes; rows on axis -2.
Gemm gemm2_plan(const OpParams& p, const Shape& a, const Shape& b, Shape* out, int64_t* batch) {
  const bool ta = p.get_bool("transpose_a"), tb = p.get_bool("transpose_b");
  const int64_t axis = p.get_int("axis");
  MXN_CHECK(a.ndim() >= 2 && b.ndim() >= 2, ErrorCode::kShape,
            "needs inputs with at least 2 dimensions, got shapes ", a.str(), " and ", b.str());
  MXN_CHECK(axis == -2 || axis == a.ndim() - 2, ErrorCode::kNotImplemented,
            "only axis=-2 (rows on the second-to-last axis) is supported, got axis=", axis);
  MXN_CHECK(a.ndim() == b.ndim(), ErrorCode::kShape, "inputs must have the same number of "
            "dimensions, got shapes ", a.str(), " and ", b.str());
  const int nd = a.ndim();
  int64_t nb = 1;
  Shape o;
  for (int d = 0; d < nd - 2; ++d) {
    if (a[d] != b[d]) dot_shape_error(a, b, ta, tb, "the batch dimensions differ");
    nb *= a[d];
    o.push_back(a[d]);
  }
  Gemm g;
  g.ta = ta;
  g.tb = tb;
  g.m = ta ? a[nd - 1] : a[nd - 2];
  const int64_t kl = ta ? a[nd - 2] : a[nd - 1];
  const int64_t kr = tb ? b[nd - 1] : b[nd - 2];
  g.n = tb ? b[nd - 2] : b[nd - 1];
  if (kl != kr) {
    dot_shape_error(a, b, ta, tb,
                    cat("the contracted dimensions differ (", kl, " vs ", kr, ")").c_str());
  }
  g.k = kl;
  o.push_back(g.m);
  o.push_back(g.n);
  *out = o;
  *batch = nb;
  return g;
}

}  // namespace

MXN_OP_REGISTRATION =
    matmul_op("dot")
        .describe(
            "Dot product of two arrays (MXNet 1.x). 1-D with 1-D gives the inner product "
            "with shape (1,). Otherwise the last axis of lhs is contracted with the first "
            "axis of rhs: out.shape = lhs.shape[:-1] + rhs.shape[1:]. transpose_a views lhs "
            "as a (shape[0], rest) matrix and transposes it (contracting lhs's first axis, "
            "keeping lhs.shape[1:]); transpose_b views rhs as (rest, shape[-1]) and "
            "transposes it (contracting rhs's last axis, keeping rhs.shape[:-1]). 0-d inputs "
            "are not supported.")
        .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
          dot_plan(p, in[0], in[1], &(*out)[0]);
        })
        .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
                const std::vector<TBlob>& out) {
          Shape o;
          const Gemm g = dot_plan(p, in[0].shape, in[1].shape, &o);
          MXN_DTYPE_SWITCH(out[0].dtype, T,
                           { gemm<T>(g, in[0].ptr<T>(), in[1].ptr<T>(), out[0].ptr<T>()); });
        })
        .grad(grad_by_backward_op("_backward_dot", true, false));

MXN_OP_REGISTRATION = matmul_backward("dot").cpu(
    [](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
       const std::vector<TBlob>& out) {
      Shape o;
      const Gemm g = dot_plan(p, in[1].shape, in[2].shape, &o);
      MXN_FLOAT_SWITCH(out[0].dtype, T, {
        gemm_backward<T>(g, in[0].ptr<T>(), in[1].ptr<T>(), in[2].ptr<T>(), out[0].ptr<T>(),
                         out[1].ptr<T>());
      });
    });

MXN_OP_REGISTRATION =
    matmul_op("batch_dot")
        .describe(
            "Batched matrix product of 3-D arrays: out[i] = dot(lhs[i], rhs[i]) with lhs "
            "(batch, M, K) (or (batch, K, M) with transpose_a) and rhs (batch, K, N) (or "
            "(batch, N, K) with transpose_b); out is (batch, M, N).")
        .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
          int64_t b;
          batch_plan(p, in[0], in[1], &(*out)[0], &b);
        })
        .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
                const std::vector<TBlob>& out) {
          Shape o;
          int64_t batch;
          const Gemm g = batch_plan(p, in[0].shape, in[1].shape, &o, &batch);
          MXN_DTYPE_SWITCH(out[0].dtype, T, {
            const T* a = in[0].ptr<T>();
            const T* b = in[1].ptr<T>();
            T* c = out[0].ptr<T>();
            for (int64_t i = 0; i < batch; ++i) {
              gemm<T>(g, a + i * g.m * g.k, b + i * g.k * g.n, c + i * g.m * g.n);
            }
          });
        })
        .grad(grad_by_backward_op("_backward_batch_dot", true, false));

namespace {
// Batched backward shared by batch_dot and _linalg_gemm2 (alpha scales both gradients).
void batched_backward(const Gemm& g, int64_t batch, double alpha, const std::vector<TBlob>& in,
                      const std::vector<TBlob>& out) {
  MXN_FLOAT_SWITCH(out[0].dtype, T, {
    const T* dc = in[0].ptr<T>();
    const T* a = in[1].ptr<T>();
    const T* b = in[2].ptr<T>();
    T* da = out[0].ptr<T>();
    T* db = out[1].ptr<T>();
    for (int64_t i = 0; i < batch; ++i) {
      gemm_backward<T>(g, dc + i * g.m * g.n, a + i * g.m * g.k, b + i * g.k * g.n,
                       da + i * g.m * g.k, db + i * g.k * g.n);
    }
  });
  scale_inplace(out[0], alpha);
  scale_inplace(out[1], alpha);
}
}  // namespace

MXN_OP_REGISTRATION = matmul_backward("batch_dot").cpu(
    [](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
       const std::vector<TBlob>& out) {
      Shape o;
      int64_t batch;
      const Gemm g = batch_plan(p, in[1].shape, in[2].shape, &o, &batch);
      batched_backward(g, batch, 1.0, in, out);
    });

MXN_OP_REGISTRATION =
    OpRegistry::get()
        .add("_linalg_gemm2")
        .alias("linalg_gemm2")
        .input("A", "First input.")
        .input("B", "Second input.")
        .param("transpose_a", ParamType::kBool, ParamValue::of_bool(false),
               "Transpose A before the product.")
        .param("transpose_b", ParamType::kBool, ParamValue::of_bool(false),
               "Transpose B before the product.")
        .describe(
            "Batched matrix product out = alpha * op(A) op(B) over all leading axes: A is "
            "(..., M, K) (or (..., K, M) with transpose_a), B is (..., K, N) (or (..., N, K) "
            "with transpose_b); the leading axes must be equal. Only axis=-2 is supported.")
        .param("alpha", ParamType::kFloat, ParamValue::of_float(1.0), "Scalar factor.")
        .param("axis", ParamType::kInt, ParamValue::of_int(-2),
               "The axis of the matrix rows (only -2 is supported).")
        .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
          int64_t b;
          gemm2_plan(p, in[0], in[1], &(*out)[0], &b);
        })
        .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
                const std::vector<TBlob>& out) {
          Shape o;
          int64_t batch;
          const Gemm g = gemm2_plan(p, in[0].shape, in[1].shape, &o, &batch);
          MXN_FLOAT_SWITCH(out[0].dtype, T, {
            const T* a = in[0].ptr<T>();
            const T* b = in[1].ptr<T>();
            T* c = out[0].ptr<T>();
            for (int64_t i = 0; i < batch; ++i) {
              gemm<T>(g, a + i * g.m * g.k, b + i * g.k * g.n, c + i * g.m * g.n);
            }
          });
          scale_inplace(out[0], p.get_float("alpha"));
        })
        .grad(grad_by_backward_op("_backward__linalg_gemm2", true, false));

MXN_OP_REGISTRATION = matmul_backward("_linalg_gemm2").cpu(
    [](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
       const std::vector<TBlob>& out) {
      Shape o;
      int64_t batch;
      const Gemm g = gemm2_plan(p, in[1].shape, in[2].shape, &o, &batch);
      batched_backward(g, batch, p.get_float("alpha"), in, out);
    });

}  // namespace mxn::ops
