// The packed, register-tiled float32 GEMM (gemm_tiled.h), in the BLIS loop order:
//
//   for jc in n, step NC          B block (KC x NC) packed into NR-column panels (L2/L3)
//     for pc in k, step KC
//       for ic in m, step MC      A block (MC x KC) packed into MR-row panels (L2)
//         for jr in NC, step NR   one B panel (KC x NR) stays in L1 ...
//           for ir in MC, step MR ... while the micro-kernel runs down the A panels
//
// The micro-kernel keeps an MR x NR tile of C in MR * NR/4 128-bit accumulators (GCC/Clang
// vector extensions: WASM SIMD with -msimd128, SSE on x86-64, NEON on arm64) and adds one
// rank-1 update per k: NR/4 loads of B, MR broadcasts of A, MR * NR/4 multiply-adds (no FMA
// contraction: each product is rounded, then added). Packed panels are zero-padded to whole
// tiles; edge tiles run the same kernel into a scratch tile and copy its valid part.
#include "core/ops/gemm_tiled.h"

#include <algorithm>
#include <cstring>

#include "core/op/workspace.h"

namespace mxn::ops::nn {
namespace {

typedef float v4f __attribute__((vector_size(16)));

inline v4f load4(const float* p) {
  v4f v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
inline void store4(float* p, v4f v) { std::memcpy(p, &v, sizeof(v)); }
inline v4f splat4(float x) { return v4f{x, x, x, x}; }

// 4 x 8 measured fastest in V8 (x86-64: 16 xmm registers): 6 x 8, 4 x 12, 3 x 16 and 5 x 8
// spill and run 25-40% slower; 2 x 16 is about even.
constexpr int kMR = 4;           // rows of the register tile
constexpr int kNR = 8;           // columns (two vectors)
constexpr int64_t kKC = 256;     // depth of one packed block: a B panel is kKC * kNR * 4 = 8 KB
constexpr int64_t kMC = 128 / kMR * kMR;    // rows of the packed A block (128 KB)
constexpr int64_t kNC = 2048 / kNR * kNR;   // columns of the packed B block (2 MB)

// How the tile meets C: kOverwrite C = alpha*acc; kScale C = alpha*acc + beta*C (the first
// k block); kAdd C += alpha*acc (the later blocks).
enum Mode { kOverwrite, kScale, kAdd };

// C[0:kMR, 0:kNR] (row stride ldc) from kc rank-1 updates of the packed panels ap (kc x kMR)
// and bp (kc x kNR). The constant-bound loops unroll: the accumulators live in registers.
inline void micro_kernel(int64_t kc, const float* __restrict ap, const float* __restrict bp,
                         float* c, int64_t ldc, float alpha, float beta, Mode mode) {
  constexpr int kNV = kNR / 4;
  v4f acc[kMR][kNV];
  for (int r = 0; r < kMR; ++r) {
    for (int v = 0; v < kNV; ++v) acc[r][v] = v4f{};
  }
  for (int64_t p = 0; p < kc; ++p) {
    v4f bv[kNV];
    for (int v = 0; v < kNV; ++v) bv[v] = load4(bp + 4 * v);
    for (int r = 0; r < kMR; ++r) {
      const v4f a = splat4(ap[r]);
      for (int v = 0; v < kNV; ++v) acc[r][v] += a * bv[v];
    }
    ap += kMR;
    bp += kNR;
  }
  const v4f va = splat4(alpha), vb = splat4(beta);
  for (int r = 0; r < kMR; ++r) {
    float* cr = c + r * ldc;
    for (int v = 0; v < kNV; ++v) {
      v4f y = va * acc[r][v];
      if (mode == kScale) {
        y += vb * load4(cr + 4 * v);
      } else if (mode == kAdd) {
        y = load4(cr + 4 * v) + y;
      }
      store4(cr + 4 * v, y);
    }
  }
}

// The valid mr x nr part of a tile computed into `tile` (kMR x kNR, alpha not applied), with
// the same arithmetic as micro_kernel's store.
void store_edge(const float* tile, int64_t mr, int64_t nr, float* c, int64_t ldc, float alpha,
                float beta, Mode mode) {
  for (int64_t r = 0; r < mr; ++r) {
    float* cr = c + r * ldc;
    for (int64_t j = 0; j < nr; ++j) {
      float y = alpha * tile[r * kNR + j];
      if (mode == kScale) {
        y += beta * cr[j];
      } else if (mode == kAdd) {
        y = cr[j] + y;
      }
      cr[j] = y;
    }
  }
}

// op(A)[i0:i0+mc, p0:p0+kc] into kMR-row panels: panel q holds rows i0+q*kMR.. as kc groups
// of kMR values (rows past mc are zeros).
void pack_a(bool ta, const float* a, int64_t lda, int64_t i0, int64_t p0, int64_t mc,
            int64_t kc, float* out) {
  for (int64_t r0 = 0; r0 < mc; r0 += kMR) {
    const int64_t mr = std::min<int64_t>(kMR, mc - r0);
    float* dst = out + r0 * kc;
    if (!ta) {
      const float* rows[kMR];
      for (int r = 0; r < kMR; ++r) rows[r] = a + (i0 + r0 + std::min<int64_t>(r, mr - 1)) * lda + p0;
      if (mr == kMR) {
        for (int64_t p = 0; p < kc; ++p) {
          for (int r = 0; r < kMR; ++r) dst[p * kMR + r] = rows[r][p];
        }
      } else {
        for (int64_t p = 0; p < kc; ++p) {
          for (int r = 0; r < kMR; ++r) dst[p * kMR + r] = r < mr ? rows[r][p] : 0.0f;
        }
      }
    } else {
      const float* src = a + p0 * lda + i0 + r0;  // op(A)[i][p] = a[p * lda + i]
      for (int64_t p = 0; p < kc; ++p) {
        const float* s = src + p * lda;
        for (int r = 0; r < kMR; ++r) dst[p * kMR + r] = r < mr ? s[r] : 0.0f;
      }
    }
  }
}

// op(B)[p0:p0+kc, j0:j0+nc] into kNR-column panels: panel q holds columns j0+q*kNR.. as kc
// groups of kNR values (columns past nc are zeros).
void pack_b(bool tb, const float* b, int64_t ldb, int64_t p0, int64_t j0, int64_t kc,
            int64_t nc, float* out) {
  const int64_t full = nc / kNR * kNR;
  if (!tb) {
    for (int64_t p = 0; p < kc; ++p) {
      const float* src = b + (p0 + p) * ldb + j0;
      float* dst = out + p * kNR;
      for (int64_t j = 0; j < full; j += kNR) {
        std::memcpy(dst + j * kc, src + j, sizeof(float) * kNR);
      }
      if (full < nc) {
        float* d = dst + full * kc;
        for (int64_t j = full; j < full + kNR; ++j) d[j - full] = j < nc ? src[j] : 0.0f;
      }
    }
  } else {
    for (int64_t j = 0; j < nc; j += kNR) {  // op(B)[p][j] = b[j * ldb + p]
      const int64_t nr = std::min<int64_t>(kNR, nc - j);
      float* dst = out + j * kc;
      for (int64_t q = 0; q < kNR; ++q) {
        if (q < nr) {
          const float* src = b + (j0 + j + q) * ldb + p0;
          for (int64_t p = 0; p < kc; ++p) dst[p * kNR + q] = src[p];
        } else {
          for (int64_t p = 0; p < kc; ++p) dst[p * kNR + q] = 0.0f;
        }
      }
    }
  }
}

}  // namespace

void sgemm_tiled(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                 int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0 || alpha == 0.0f) {
    for (int64_t i = 0; i < m; ++i) {
      float* cr = c + i * ldc;
      for (int64_t j = 0; j < n; ++j) cr[j] = beta == 0.0f ? 0.0f : cr[j] * beta;
    }
    return;
  }
  const int64_t mc_max = std::min(kMC, (m + kMR - 1) / kMR * kMR);
  const int64_t kc_max = std::min(kKC, k);
  const int64_t nc_max = std::min(kNC, (n + kNR - 1) / kNR * kNR);
  Workspace ws;  // the packed blocks (pooled: the next call reuses them)
  float* ap = ws.alloc<float>(mc_max * kc_max);
  float* bp = ws.alloc<float>(nc_max * kc_max);
  alignas(16) float tile[kMR * kNR];
  for (int64_t jc = 0; jc < n; jc += kNC) {
    const int64_t nc = std::min(kNC, n - jc);
    for (int64_t pc = 0; pc < k; pc += kKC) {
      const int64_t kc = std::min(kKC, k - pc);
      const Mode mode = pc > 0 ? kAdd : (beta == 0.0f ? kOverwrite : kScale);
      pack_b(tb, b, ldb, pc, jc, kc, nc, bp);
      for (int64_t ic = 0; ic < m; ic += kMC) {
        const int64_t mc = std::min(kMC, m - ic);
        pack_a(ta, a, lda, ic, pc, mc, kc, ap);
        for (int64_t jr = 0; jr < nc; jr += kNR) {
          const int64_t nr = std::min<int64_t>(kNR, nc - jr);
          const float* bpanel = bp + jr * kc;
          for (int64_t ir = 0; ir < mc; ir += kMR) {
            const int64_t mr = std::min<int64_t>(kMR, mc - ir);
            float* cc = c + (ic + ir) * ldc + jc + jr;
            if (mr == kMR && nr == kNR) {
              micro_kernel(kc, ap + ir * kc, bpanel, cc, ldc, alpha, beta, mode);
            } else {
              micro_kernel(kc, ap + ir * kc, bpanel, tile, kNR, 1.0f, 0.0f, kOverwrite);
              store_edge(tile, mr, nr, cc, ldc, alpha, beta, mode);
            }
          }
        }
      }
    }
  }
}

}  // namespace mxn::ops::nn
