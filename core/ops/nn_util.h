// Shared by the neural-network layer families (core/ops/nn_*.cc): the real-dtype switch,
// spatial tuple parameters, GEMM (OpenBLAS; without it a packed register-tiled kernel for
// float, gemm_tiled.h, and a portable reference loop for double), float16 staging,
// scratch memory, a tiny parallel-for and helpers for gradient nodes.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <thread>
#include <vector>

#include "core/graph/gradient.h"
#include "core/op/workspace.h"
#include "core/ops/elemwise_util.h"
#include "core/ops/gemm_tiled.h"

#if !defined(__EMSCRIPTEN__) && !defined(MXN_NO_BLAS)
#define MXN_NN_HAVE_BLAS 1
#include <cblas.h>
#else
#define MXN_NN_HAVE_BLAS 0
#endif

namespace mxn::ops::nn {

// MXN_REAL_SWITCH(dtype, T, body): float32, float64, float16 (computed in float); any other
// dtype is a kDType error.
#define MXN_REAL_SWITCH(dtype, T, ...)                                                   \
  switch (dtype) {                                                                       \
    case ::mxn::DType::kFloat32: { using T = float; __VA_ARGS__ break; }                 \
    case ::mxn::DType::kFloat64: { using T = double; __VA_ARGS__ break; }                \
    case ::mxn::DType::kFloat16: { using T = ::mxn::half_t; __VA_ARGS__ break; }         \
    default:                                                                             \
      ::mxn::throw_error(::mxn::ErrorCode::kDType,                                       \
                         ::mxn::cat("needs float16, float32 or float64 data, got ",      \
                                    ::mxn::dtype_name(dtype)));                          \
  }

inline bool is_real(DType t) {
  return t == DType::kFloat32 || t == DType::kFloat64 || t == DType::kFloat16;
}

// Type inference: every input has one real dtype (named in the error), outputs take it.
void real_same_type(const OpDef& op, const std::vector<DType>& in, std::vector<DType>* out);
inline InferTypeFn real_type() {
  return [](const OpParams& p, const std::vector<DType>& in, std::vector<DType>* out) {
    real_same_type(p.op(), in, out);
  };
}
// The dtype of statistics/parameters stored for data of dtype t (float16 keeps float32).
inline DType param_dtype(DType t) { return t == DType::kFloat16 ? DType::kFloat32 : t; }

// A tuple parameter with one entry per spatial dimension; empty means `fill` everywhere.
std::vector<int64_t> spatial_param(const OpParams& p, const char* name, int nsp, int64_t fill);

// Product of dims [from, to).
inline int64_t dims_prod(const Shape& s, int from, int to) {
  int64_t r = 1;
  for (int d = from; d < to; ++d) r *= s[d];
  return r;
}

// Symbolic shape inference (OpDef::input_shapes_fn): sets input i's shape when unknown.
inline void fill_shape(std::vector<Shape>* in, size_t i, const Shape& s) {
  if (i < in->size() && !(*in)[i].is_known()) (*in)[i] = s;
}
inline bool known(const std::vector<Shape>& in, size_t i) {
  return i < in.size() && in[i].is_known();
}

// Optional trailing inputs: all declared inputs, or all but the last when `drop_last`.
inline std::vector<std::string> leading_inputs(const OpDef& op, bool drop_last) {
  std::vector<std::string> names;
  for (size_t i = 0; i + (drop_last ? 1 : 0) < op.inputs.size(); ++i) names.push_back(op.inputs[i].name);
  return names;
}

[[noreturn]] inline void shape_error(int arg, const std::string& msg) {
  throw Error(ErrorCode::kShape, msg).with_arg(arg);
}

// Row-major C(m, n) = alpha * op(A) op(B) + beta * C. A is (m, k) or, when ta, stored (k, m);
// B is (k, n) or, when tb, stored (n, k). The oracle of sgemm_tiled (tests/cpp/gemm_test.cc).
template <typename T>
void gemm_ref(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
              int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  for (int64_t i = 0; i < m; ++i) {
    T* crow = c + i * ldc;
    for (int64_t j = 0; j < n; ++j) crow[j] = beta == T(0) ? T(0) : crow[j] * beta;
    for (int64_t p = 0; p < k; ++p) {
      const T av = alpha * (ta ? a[p * lda + i] : a[i * lda + p]);
      if (av == T(0)) continue;
      if (!tb) {
        const T* brow = b + p * ldb;
        for (int64_t j = 0; j < n; ++j) crow[j] += av * brow[j];
      } else {
        for (int64_t j = 0; j < n; ++j) crow[j] += av * b[j * ldb + p];
      }
    }
  }
}

#if MXN_NN_HAVE_BLAS
// gemm() with one row (m == 1) or one column (n == 1) of C, as a matrix-vector product:
// OpenBLAS's sgemm packs the whole matrix first (a fully connected layer at batch 1: AlexNet's
// fc6 weights, 105 MB, copied on every call), where gemv reads it once. The sizes fit int (the
// caller checked). With beta == 0, C is zeroed first: BLAS may scale it by 0, keeping NaNs.
template <typename T>
void gemv_blas(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
               int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  auto gemv = [](CBLAS_TRANSPOSE t, int64_t rows, int64_t cols, T al, const T* mat, int64_t ld,
                 const T* x, int64_t incx, T be, T* y, int64_t incy) {
    if constexpr (std::is_same_v<T, float>) {
      cblas_sgemv(CblasRowMajor, t, int(rows), int(cols), al, mat, int(ld), x, int(incx), be, y,
                  int(incy));
    } else {
      cblas_dgemv(CblasRowMajor, t, int(rows), int(cols), al, mat, int(ld), x, int(incx), be, y,
                  int(incy));
    }
  };
  const int64_t len = m == 1 ? n : m, inc = m == 1 ? 1 : ldc;
  if (beta == T(0)) {
    for (int64_t i = 0; i < len; ++i) c[i * inc] = T(0);
  }
  if (m == 1) {  // c(1, n) = a(1, k) op(B): a's elements are a[p * (ta ? lda : 1)]
    const int64_t incx = ta ? lda : 1;
    if (tb) {  // B stored (n, k): c = B a
      gemv(CblasNoTrans, n, k, alpha, b, ldb, a, incx, beta, c, 1);
    } else {  // B stored (k, n): c = B^T a
      gemv(CblasTrans, k, n, alpha, b, ldb, a, incx, beta, c, 1);
    }
  } else {  // c(m, 1) = op(A) b(k, 1): b's elements are b[p * (tb ? 1 : ldb)]
    const int64_t incx = tb ? 1 : ldb;
    if (!ta) {  // A stored (m, k)
      gemv(CblasNoTrans, m, k, alpha, a, lda, b, incx, beta, c, ldc);
    } else {  // A stored (k, m)
      gemv(CblasTrans, k, m, alpha, a, lda, b, incx, beta, c, ldc);
    }
  }
}
#endif

template <typename T>
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
          const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = beta == T(0) ? T(0) : c[i * ldc + j] * beta;
    }
    return;
  }
#if MXN_NN_HAVE_BLAS
  constexpr int64_t kIntMax = 2147483647;
  if (m < kIntMax && n < kIntMax && k < kIntMax && lda < kIntMax && ldb < kIntMax &&
      ldc < kIntMax) {
    constexpr bool kBlasType = std::is_same_v<T, float> || std::is_same_v<T, double>;
    if constexpr (kBlasType) {
      if (m == 1 || n == 1) {
        gemv_blas(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
      }
    }
    const CBLAS_TRANSPOSE cta = ta ? CblasTrans : CblasNoTrans;
    const CBLAS_TRANSPOSE ctb = tb ? CblasTrans : CblasNoTrans;
    if constexpr (std::is_same_v<T, float>) {
      cblas_sgemm(CblasRowMajor, cta, ctb, int(m), int(n), int(k), alpha, a, int(lda), b,
                  int(ldb), beta, c, int(ldc));
      return;
    } else if constexpr (std::is_same_v<T, double>) {
      cblas_dgemm(CblasRowMajor, cta, ctb, int(m), int(n), int(k), alpha, a, int(lda), b,
                  int(ldb), beta, c, int(ldc));
      return;
    }
  }
#else
  if constexpr (std::is_same_v<T, float>) {  // no BLAS (WebAssembly): the tiled kernel
    sgemm_tiled(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
#endif
  gemm_ref(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}


// Runs fn(in, out) with float16 blobs replaced by float32 copies (outputs are converted back
// afterwards); other blobs pass through. Used by kernels that compute in float.
void as_float32(const std::vector<TBlob>& in, const std::vector<TBlob>& out,
                const std::function<void(const std::vector<TBlob>&, const std::vector<TBlob>&)>& fn);

// Runs fn(in, out) on NCHW copies of the arrays `blocked` marks as channel-blocked (float32
// (N, C, H, W), blocked.block channels a block), copying blocked outputs back afterwards; the
// others pass through. The portable kernels' way to serve values the executor keeps blocked,
// where oneDNN declines a call.
void as_nchw(const BlockedIO& blocked, const std::vector<TBlob>& in, const std::vector<TBlob>& out,
             const std::function<void(const std::vector<TBlob>&, const std::vector<TBlob>&)>& fn);

// Splits [0, n) over the cores when the work (n * cost units) is large enough to pay for
// starting threads; f(begin, end) runs on each part.
int nn_num_threads();
// Runs part(t) for t in [0, parts) on parts threads: the calling thread's OpenMP team in
// builds with oneDNN (the team oneDNN and OpenBLAS's OpenMP build run on, so no other pool
// competes for the cores), else threads started for the call; one after another on a thread
// that does not lead teams (leads_parallel_teams, core/engine/engine.h). Rethrows the first
// exception.
void parallel_parts(int parts, const std::function<void(int)>& part);
template <typename F>
void parallel_for(int64_t n, int64_t cost, F f) {
  const int nt = static_cast<int>(std::min<int64_t>(nn_num_threads(), n));
  if (nt < 2 || n * cost < (int64_t(1) << 17)) {
    if (n > 0) f(int64_t(0), n);
    return;
  }
  const int64_t chunk = (n + nt - 1) / nt;
  parallel_parts(nt, [&](int t) {
    const int64_t b = t * chunk, e = std::min(n, b + chunk);
    if (b < e) f(b, e);
  });
}

// memcpy, split over the cores when it is large (parallel_for's threshold, a float a unit).
inline void copy_bytes_parallel(void* dst, const void* src, size_t bytes) {
  constexpr size_t kPiece = 4096;
  const int64_t pieces = static_cast<int64_t>((bytes + kPiece - 1) / kPiece);
  parallel_for(pieces, int64_t(kPiece / 4), [&](int64_t b, int64_t e) {
    const size_t begin = static_cast<size_t>(b) * kPiece;
    const size_t end = std::min(bytes, static_cast<size_t>(e) * kPiece);
    std::memcpy(static_cast<char*>(dst) + begin, static_cast<const char*>(src) + begin,
                end - begin);
  });
}

// ---- gradient helpers ----------------------------------------------------------------
inline NodeEntry fwd_input(const NodePtr& n, int i) { return n->inputs.at(i); }
inline NodeEntry fwd_output(const NodePtr& n, int i) {
  return NodeEntry{n, static_cast<uint32_t>(i)};
}
// One `_backward_<op>` node reading `inputs`; grad_of[i] is the backward output giving the
// gradient of forward input i, or -1 for none (labels, indices, auxiliary states).
std::vector<NodeEntry> backward_entries(const char* backward_op, const NodePtr& fwd,
                                        std::vector<NodeEntry> inputs,
                                        const std::vector<int>& grad_of);

// A required string parameter restricted to `choices` (MXNet's act_type).
OpDef& required_choice(OpDef& op, const char* name, std::vector<std::string> choices,
                       const char* doc);
// A string parameter that may be None, restricted to `choices` when given (layout).
OpDef& nullable_choice(OpDef& op, const char* name, std::vector<std::string> choices,
                       const char* doc);

}  // namespace mxn::ops::nn
