// A packed, register-tiled float32 GEMM for builds without BLAS (WebAssembly first; any
// compiler with GCC/Clang vector extensions). gemm() in nn_util.h calls it for float when
// there is no BLAS; gemm_ref there is its oracle (tests/cpp/gemm_test.cc).
#pragma once
#include <cstdint>

namespace mxn::ops::nn {

// Row-major C(m, n) = alpha * op(A) op(B) + beta * C, the contract of gemm_ref: A is (m, k)
// or, when ta, stored (k, m); B is (k, n) or, when tb, stored (n, k). beta == 0 never reads
// C (NaN garbage there is overwritten). k == 0 scales C by beta. Unlike gemm_ref, zeros in A
// are not skipped: 0 * inf is NaN, as in BLAS.
void sgemm_tiled(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                 int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

}  // namespace mxn::ops::nn
