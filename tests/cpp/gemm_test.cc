// The tiled float32 GEMM of builds without BLAS (core/ops/gemm_tiled.h) against its oracle,
// gemm_ref (core/ops/nn_util.h): every transpose combination, alpha/beta (beta = 0 over NaN
// garbage in C), padded leading dimensions, and shapes at and around the register tile
// (4 x 8) and the cache blocks (MC 128 rows, KC 256 deep, NC 2048 columns), so every edge
// path runs. The native CI build uses OpenBLAS, so this is where the kernel runs natively.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/ops/gemm_tiled.h"
#include "core/ops/nn_util.h"

namespace {

using mxn::ops::nn::gemm_ref;
using mxn::ops::nn::sgemm_tiled;

struct Shape3 {
  int64_t m, n, k;
};

// Runs one product both ways and checks every element of C within the float error bound of
// a k-term dot product (both results are within it of the exact value).
void check(bool ta, bool tb, Shape3 s, float alpha, float beta, int64_t pad, std::mt19937* rng) {
  const int64_t m = s.m, n = s.n, k = s.k;
  const int64_t arows = ta ? k : m, acols = ta ? m : k;
  const int64_t brows = tb ? n : k, bcols = tb ? k : n;
  const int64_t lda = acols + pad, ldb = bcols + pad, ldc = n + pad;
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> a(size_t(arows * lda)), b(size_t(brows * ldb)), c0(size_t(m * ldc));
  for (float& v : a) v = u(*rng);
  for (float& v : b) v = u(*rng);
  for (float& v : c0) v = u(*rng);
  if (beta == 0.0f) {  // beta = 0 must not read C: garbage there may be NaN
    for (float& v : c0) v = std::numeric_limits<float>::quiet_NaN();
  }
  std::vector<float> got = c0, want = c0;
  sgemm_tiled(ta, tb, m, n, k, alpha, a.data(), lda, b.data(), ldb, beta, got.data(), ldc);
  gemm_ref<float>(ta, tb, m, n, k, alpha, a.data(), lda, b.data(), ldb, beta, want.data(), ldc);
  const std::string what = "ta=" + std::to_string(ta) + " tb=" + std::to_string(tb) +
                           " m=" + std::to_string(m) + " n=" + std::to_string(n) +
                           " k=" + std::to_string(k) + " alpha=" + std::to_string(alpha) +
                           " beta=" + std::to_string(beta) + " pad=" + std::to_string(pad);
  int bad = 0;
  for (int64_t i = 0; i < m && bad < 5; ++i) {
    for (int64_t j = 0; j < ldc && bad < 5; ++j) {
      const float g = got[i * ldc + j], w = want[i * ldc + j];
      if (j >= n) {  // padding columns of C are never written
        const float orig = c0[i * ldc + j];
        if (!(std::memcmp(&g, &orig, sizeof(float)) == 0)) {
          ADD_FAILURE() << what << ": wrote C(" << i << ", " << j << ") outside the n columns";
          ++bad;
        }
        continue;
      }
      double mag = 0.0;  // sum |alpha a b| + |beta c|: the scale of the rounding error
      for (int64_t p = 0; p < k; ++p) {
        const float av = ta ? a[p * lda + i] : a[i * lda + p];
        const float bv = tb ? b[j * ldb + p] : b[p * ldb + j];
        mag += std::fabs(double(alpha) * av * bv);
      }
      if (beta != 0.0f) mag += std::fabs(double(beta) * c0[i * ldc + j]);
      const double tol = 2.0 * double(k + 2) * FLT_EPSILON * mag + 1e-30;
      if (!std::isfinite(g) || std::fabs(double(g) - double(w)) > tol) {
        ADD_FAILURE() << what << ": C(" << i << ", " << j << ") = " << g << ", gemm_ref " << w
                      << " (tolerance " << tol << ")";
        ++bad;
      }
    }
  }
}

const Shape3 kSmall[] = {
    {1, 1, 1}, {1, 1, 7}, {1, 8, 1}, {4, 8, 1}, {4, 8, 3}, {3, 7, 5}, {5, 9, 2},
    {1, 17, 4}, {17, 1, 4}, {2, 3, 1}, {8, 16, 8}, {7, 15, 9}, {9, 17, 31}, {6, 10, 12},
};

TEST(GemmTiled, EveryTailAroundTheRegisterTile) {
  std::mt19937 rng(1);
  for (int64_t m = 1; m <= 9; ++m) {
    for (int64_t n = 1; n <= 17; ++n) {
      for (int64_t k : {1, 2, 5}) {
        for (int t = 0; t < 4; ++t) check(t & 1, t & 2, {m, n, k}, 1.0f, 0.0f, 0, &rng);
      }
    }
  }
}

TEST(GemmTiled, TransposesAlphaBetaAndStrides) {
  std::mt19937 rng(2);
  const float ab[][2] = {{1.0f, 0.0f}, {0.5f, 0.0f}, {1.0f, 1.0f}, {-2.0f, 0.25f}, {0.0f, 2.0f},
                         {0.0f, 0.0f}, {1.5f, -1.0f}};
  for (const Shape3& s : kSmall) {
    for (int t = 0; t < 4; ++t) {
      for (const auto& x : ab) {
        for (int64_t pad : {0, 3}) check(t & 1, t & 2, s, x[0], x[1], pad, &rng);
      }
    }
  }
}

TEST(GemmTiled, DepthAroundTheKBlock) {
  std::mt19937 rng(3);
  for (int64_t k : {255, 256, 257, 511, 513, 1000}) {
    for (int t = 0; t < 4; ++t) {
      check(t & 1, t & 2, {5, 11, k}, 1.0f, 0.0f, 1, &rng);
      check(t & 1, t & 2, {6, 9, k}, 0.75f, -0.5f, 0, &rng);  // later k blocks add to C
    }
  }
}

TEST(GemmTiled, RowsAndColumnsAroundTheCacheBlocks) {
  std::mt19937 rng(4);
  const Shape3 shapes[] = {{127, 9, 20}, {128, 9, 20}, {129, 9, 20}, {131, 17, 300},
                           {3, 2047, 5}, {3, 2048, 5}, {5, 2049, 7}, {130, 2055, 260},
                           {64, 196, 576}, {1, 1000, 512}};
  for (const Shape3& s : shapes) {
    for (int t = 0; t < 4; ++t) check(t & 1, t & 2, s, 1.0f, t == 3 ? 0.5f : 0.0f, 0, &rng);
  }
}

TEST(GemmTiled, ZeroDepthScalesByBeta) {
  std::vector<float> c = {1.0f, 2.0f, 3.0f, 4.0f};
  sgemm_tiled(false, false, 2, 2, 0, 1.0f, nullptr, 1, nullptr, 2, 0.5f, c.data(), 2);
  EXPECT_EQ(c, (std::vector<float>{0.5f, 1.0f, 1.5f, 2.0f}));
  c.assign(4, std::numeric_limits<float>::quiet_NaN());
  sgemm_tiled(false, false, 2, 2, 0, 1.0f, nullptr, 1, nullptr, 2, 0.0f, c.data(), 2);
  EXPECT_EQ(c, (std::vector<float>{0.0f, 0.0f, 0.0f, 0.0f}));
}

TEST(GemmTiled, ExactOnSmallIntegers) {
  // integer inputs: every partial sum is exact, so the result equals gemm_ref's bit for bit
  // whatever the summation order (the conformance suite relies on it: its convolutions and
  // products are integer valued, and the WebAssembly results must equal the BLAS build's)
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> d(-8, 8);
  const int64_t m = 13, n = 21, k = 300;
  std::vector<float> a(m * k), b(k * n), c1(m * n), c2(m * n);
  for (float& v : a) v = float(d(rng));
  for (float& v : b) v = float(d(rng));
  sgemm_tiled(false, false, m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f, c1.data(), n);
  gemm_ref<float>(false, false, m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f, c2.data(), n);
  EXPECT_EQ(c1, c2);
}

}  // namespace
