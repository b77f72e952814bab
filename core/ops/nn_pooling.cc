// Pooling (MXNet 1.x): max / avg / sum / lp over 1-D, 2-D and 3-D windows (NCW, NCHW,
// NCDHW), global_pool, pooling_convention valid / full / same (same: 1-D only, as in MXNet),
// count_include_pad. Windows and divisors follow MXNet's CPU kernels (pool.h) exactly: an
// average divides by the window clipped to the padded input (count_include_pad=True) or to the
// input (False); max pooling's gradient goes to the first maximum of each window.
#include <atomic>
#include <limits>

#include "core/base/portable_math.h"
#include "core/ops/nn_util.h"
#include "core/ops/nn_kept_layouts.h"
#include "core/ops/nn_onednn.h"

namespace mxn::ops::nn {
namespace {

enum class PoolType { kMax, kAvg, kSum, kLp };

struct PoolGeom {
  int nsp = 2;
  int64_t planes = 0;  // batch * channels
  int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1};
  int64_t k[3] = {1, 1, 1}, s[3] = {1, 1, 1}, p[3] = {0, 0, 0};
  PoolType type = PoolType::kMax;
  int pval = 2;
  bool include_pad = true;
  int64_t in_size() const { return in[0] * in[1] * in[2]; }
  int64_t out_size() const { return out[0] * out[1] * out[2]; }
};

PoolGeom pool_geom(const OpParams& prm, const Shape& d, Shape* oshape) {
  if (!prm.is_none("layout")) {
    const std::string& l = prm.get_string("layout");
    if (l != "NCW" && l != "NCHW" && l != "NCDHW") {
      throw Error(ErrorCode::kNotImplemented,
                  cat("layout ", l, " is not supported on the CPU (use NCW, NCHW or NCDHW)"));
    }
  }
  if (d.ndim() < 3 || d.ndim() > 5) {
    shape_error(0, cat("data must be 3-D (N, C, W), 4-D (N, C, H, W) or 5-D (N, C, D, H, W), "
                       "got shape ", d.str()));
  }
  PoolGeom g;
  g.nsp = d.ndim() - 2;
  const int off = 3 - g.nsp;  // spatial dims fill the last nsp of the 3 slots
  g.planes = d[0] * d[1];
  for (int i = 0; i < g.nsp; ++i) g.in[off + i] = d[2 + i];
  const std::string& t = prm.get_string("pool_type");
  g.type = t == "max" ? PoolType::kMax : t == "avg" ? PoolType::kAvg : t == "sum" ? PoolType::kSum
                                                                        : PoolType::kLp;
  if (g.type == PoolType::kLp) {
    MXN_CHECK(!prm.is_none("p_value"), ErrorCode::kInvalidArg,
              "pool_type='lp' needs p_value");
    g.pval = static_cast<int>(prm.get_int("p_value"));
    MXN_CHECK(g.pval >= 1, ErrorCode::kInvalidArg, "p_value must be >= 1, got ", g.pval);
  }
  g.include_pad = prm.is_none("count_include_pad") || prm.get_bool("count_include_pad");
  const std::string& conv = prm.get_string("pooling_convention");
  Shape o{d[0], d[1]};
  if (prm.get_bool("global_pool")) {
    for (int i = 0; i < g.nsp; ++i) {
      g.k[off + i] = g.in[off + i];
      o.push_back(1);
    }
  } else {
    const Shape& ks = prm.get_shape("kernel");
    if (ks.ndim() == 0) {
      throw Error(ErrorCode::kInvalidArg, "kernel is required unless global_pool=True");
    }
    if (ks.ndim() != g.nsp) {
      shape_error(0, cat("kernel=", ks.str(), " is ", ks.ndim(), "-D but data of shape ", d.str(),
                         " has ", g.nsp, " spatial dimension", g.nsp == 1 ? "" : "s"));
    }
    const auto st = spatial_param(prm, "stride", g.nsp, 1);
    const auto pd = spatial_param(prm, "pad", g.nsp, 0);
    if (conv == "same") {
      if (g.nsp != 1) {
        throw Error(ErrorCode::kInvalidArg,
                    cat("pooling_convention='same' supports 1-D data only (MXNet), got shape ",
                        d.str()));
      }
      MXN_CHECK(pd[0] == 0, ErrorCode::kInvalidArg,
                "pooling_convention='same' does not take pad");
    }
    for (int i = 0; i < g.nsp; ++i) {
      const int j = off + i;
      g.k[j] = ks[i];
      g.s[j] = st[i];
      g.p[j] = pd[i];
      MXN_CHECK(g.k[j] > 0 && g.s[j] > 0 && g.p[j] >= 0, ErrorCode::kInvalidArg,
                "kernel and stride must be > 0 and pad >= 0");
      if (g.k[j] > g.in[j] + 2 * g.p[j]) {
        shape_error(0, cat("kernel size (", g.k[j], ") exceeds input (", g.in[j], " padded to ",
                           g.in[j] + 2 * g.p[j], ") for data of shape ", d.str()));
      }
      const int64_t span = g.in[j] + 2 * g.p[j] - g.k[j];
      int64_t od;
      if (conv == "valid") {
        od = 1 + span / g.s[j];
      } else if (conv == "full") {
        od = 1 + (span + g.s[j] - 1) / g.s[j];
      } else {  // same (1-D)
        od = (g.in[j] + 2 * g.p[j] + g.s[j] - 1) / g.s[j];
      }
      g.out[j] = od;
      o.push_back(od);
    }
  }
  if (oshape) *oshape = o;
  return g;
}

template <typename A>
A pow_p(A x, int p) {
  switch (p) {
    case 1: return x;
    case 2: return x * x;
    case 3: return x * x * x;
    default: return static_cast<A>(std::pow(x, A(p)));
  }
}
template <typename A>
A root_p(A x, int p) {
  switch (p) {
    case 1: return x;
    case 2: return std::sqrt(x);
    case 3: return pmath::cbrt(x);
    default: return static_cast<A>(std::pow(x, A(1) / A(p)));
  }
}

// The window of output position o, clipped to the input ([b, e) per axis), and its divisor
// (the window clipped to the padded input when count_include_pad, else to the input).
int64_t window_of(const PoolGeom& g, const int64_t* o, int64_t* b, int64_t* e) {
  int64_t size = 1;
  for (int a = 0; a < 3; ++a) {
    b[a] = o[a] * g.s[a] - g.p[a];
    e[a] = std::min(b[a] + g.k[a], g.in[a] + g.p[a]);
    size *= e[a] - b[a];
  }
  int64_t clipped = 1;
  for (int a = 0; a < 3; ++a) {
    b[a] = std::max<int64_t>(b[a], 0);
    e[a] = std::min(e[a], g.in[a]);
    clipped *= std::max<int64_t>(e[a] - b[a], 0);
  }
  return g.include_pad ? size : clipped;
}

// Calls f(out_index, b, e, pool_size) for every output position of a plane.
template <typename F>
void for_each_window(const PoolGeom& g, F f) {
  int64_t oi = 0;
  for (int64_t od = 0; od < g.out[0]; ++od) {
    for (int64_t oh = 0; oh < g.out[1]; ++oh) {
      for (int64_t ow = 0; ow < g.out[2]; ++ow, ++oi) {
        int64_t b[3], e[3];
        const int64_t o[3] = {od, oh, ow};
        const int64_t size = window_of(g, o, b, e);
        f(oi, b, e, size);
      }
    }
  }
}

// One output of a plane from its window: max, sum, average or Lp norm.
template <typename T>
T pool_one(const PoolGeom& g, const T* xp, const int64_t* b, const int64_t* e, int64_t size) {
  using A = acc_t<T>;
  if (g.type == PoolType::kMax) {
    A m = std::numeric_limits<A>::lowest();
    for (int64_t dd = b[0]; dd < e[0]; ++dd) {
      for (int64_t h = b[1]; h < e[1]; ++h) {
        const T* row = xp + (dd * g.in[1] + h) * g.in[2];
        for (int64_t w = b[2]; w < e[2]; ++w) m = std::max(m, A(row[w]));
      }
    }
    return T(m);
  }
  A s = A(0);
  for (int64_t dd = b[0]; dd < e[0]; ++dd) {
    for (int64_t h = b[1]; h < e[1]; ++h) {
      const T* row = xp + (dd * g.in[1] + h) * g.in[2];
      if (g.type == PoolType::kLp) {
        for (int64_t w = b[2]; w < e[2]; ++w) s += pow_p(A(row[w]), g.pval);
      } else {
        for (int64_t w = b[2]; w < e[2]; ++w) s += A(row[w]);
      }
    }
  }
  if (g.type == PoolType::kAvg) {
    return size == 0 ? T(std::numeric_limits<A>::quiet_NaN()) : T(s / A(size));
  }
  if (g.type == PoolType::kLp) return T(root_p(s, g.pval));
  return T(s);
}

// Whether pool_plane_2d / pool_plane_2d_backward take the geometry: 1-D or 2-D (one depth
// slice, no window along it) max, average or sum pooling.
bool rowwise(const PoolGeom& g) {
  return g.in[0] == 1 && g.out[0] == 1 && g.k[0] == 1 && g.p[0] == 0 && g.type != PoolType::kLp;
}

// The output columns [lo, hi) whose windows lie inside the input row:
// ow * s - p >= 0 and ow * s - p + k <= W.
void interior_columns(const PoolGeom& g, int64_t* lo, int64_t* hi) {
  const int64_t W = g.in[2], OW = g.out[2], kw = g.k[2], sw = g.s[2], pw = g.p[2];
  *lo = std::min(OW, (pw + sw - 1) / sw);
  *hi = std::max(*lo, std::min(OW, W + pw - kw >= 0 ? (W + pw - kw) / sw + 1 : 0));
}

// 1-D and 2-D max, average and sum pooling of one plane, separably: the plane is copied into
// a buffer padded with the reduction's identity (lowest for max, 0 for sums) as far as the
// windows reach (MXNet's pooling_convention=full reaches past the padding), each buffer row is
// reduced over kw columns at every output column, then those over kh rows at every output row,
// and averages divide by the window's size (window_of's). kh + kw operations per output
// instead of kh * kw, in loops along rows that vectorise at stride 1. Sums add each row's
// columns first, then the rows (pool_one adds in row-major order: they agree to rounding).
template <typename T>
void pool_plane_2d(const PoolGeom& g, const T* xp, T* yp, std::vector<acc_t<T>>* scratch) {
  using A = acc_t<T>;
  const int64_t H = g.in[1], W = g.in[2], OH = g.out[1], OW = g.out[2];
  const int64_t kh = g.k[1], kw = g.k[2], sh = g.s[1], sw = g.s[2], ph = g.p[1], pw = g.p[2];
  const int64_t Hb = std::max(H + ph, (OH - 1) * sh + kh), Wb = std::max(W + pw, (OW - 1) * sw + kw);
  const bool is_max = g.type == PoolType::kMax;
  const A fill = is_max ? std::numeric_limits<A>::lowest() : A(0);
  scratch->resize(static_cast<size_t>(Hb * Wb + Hb * OW + OH + OW));
  A* pad = scratch->data();     // (Hb, Wb): the plane at (ph, pw)
  A* rows = pad + Hb * Wb;      // (Hb, OW): each row reduced over its windows' columns
  A* hsize = rows + Hb * OW;    // per output row and column: the window's extent
  A* wsize = hsize + OH;
  std::fill(pad, pad + Hb * Wb, fill);
  for (int64_t h = 0; h < H; ++h) {
    A* d = pad + (h + ph) * Wb + pw;
    const T* r = xp + h * W;
    for (int64_t w = 0; w < W; ++w) d[w] = A(r[w]);
  }
  // The column stride as a constant where it is 1 or 2, so those loops vectorise.
  auto horizontal = [&](auto stride) {
    const int64_t st = decltype(stride)::value ? decltype(stride)::value : sw;
    for (int64_t r = 0; r < Hb; ++r) {
      const A* src = pad + r * Wb;
      A* dst = rows + r * OW;
      for (int64_t o = 0; o < OW; ++o) dst[o] = src[o * st];
      for (int64_t j = 1; j < kw; ++j) {
        const A* sj = src + j;
        if (is_max) {
          for (int64_t o = 0; o < OW; ++o) dst[o] = std::max(dst[o], sj[o * st]);
        } else {
          for (int64_t o = 0; o < OW; ++o) dst[o] += sj[o * st];
        }
      }
    }
  };
  if (sw == 1) {
    horizontal(std::integral_constant<int64_t, 1>());
  } else if (sw == 2) {
    horizontal(std::integral_constant<int64_t, 2>());
  } else {
    horizontal(std::integral_constant<int64_t, 0>());
  }
  // Window extents as window_of counts them: within the padded input, or within the input.
  auto extent = [&](int64_t o, int64_t s, int64_t k, int64_t p, int64_t n) {
    const int64_t b = o * s - p, e = std::min(b + k, n + p);
    return g.include_pad ? e - b : std::max<int64_t>(std::min(e, n) - std::max<int64_t>(b, 0), 0);
  };
  for (int64_t o = 0; o < OH; ++o) hsize[o] = A(extent(o, sh, kh, ph, H));
  for (int64_t o = 0; o < OW; ++o) wsize[o] = A(extent(o, sw, kw, pw, W));
  for (int64_t oh = 0; oh < OH; ++oh) {
    const A* first = rows + oh * sh * OW;
    T* yr = yp + oh * OW;
    if (kh == 1) {
      if (g.type == PoolType::kAvg) {
        for (int64_t o = 0; o < OW; ++o) yr[o] = T(first[o] / (hsize[oh] * wsize[o]));
      } else {
        for (int64_t o = 0; o < OW; ++o) yr[o] = T(first[o]);
      }
      continue;
    }
    A* acc = pad;  // the padded copy is no longer needed: one output row's accumulator
    for (int64_t o = 0; o < OW; ++o) acc[o] = first[o];
    for (int64_t i = 1; i < kh; ++i) {
      const A* ri = first + i * OW;
      if (is_max) {
        for (int64_t o = 0; o < OW; ++o) acc[o] = std::max(acc[o], ri[o]);
      } else {
        for (int64_t o = 0; o < OW; ++o) acc[o] += ri[o];
      }
    }
    if (g.type == PoolType::kAvg) {
      for (int64_t o = 0; o < OW; ++o) yr[o] = T(acc[o] / (hsize[oh] * wsize[o]));
    } else {
      for (int64_t o = 0; o < OW; ++o) yr[o] = T(acc[o]);
    }
  }
}

#if MXN_USE_ONEDNN
// Whether oneDNN may take this pooling: 2-D max or average, which it sees as NCHW pooling of
// one image whose channels are the planes (no reorder). The glue still declines where it has
// no jit kernel, where its average would divide differently, and below its threshold.
bool onednn_shape(const PoolGeom& g, onednn::PoolShape* s) {
  if (!rowwise(g) || (g.type != PoolType::kMax && g.type != PoolType::kAvg)) return false;
  *s = onednn::PoolShape{1,        g.planes, g.in[1], g.in[2], g.out[1],
                         g.out[2], g.k[1],   g.k[2],  g.s[1],  g.s[2],
                         g.p[1],   g.p[2],   g.type == PoolType::kMax, g.include_pad};
  return true;
}

// Whether every window's maximum (y, n of them) is above lowest(). oneDNN's argmax starts from
// lowest() at the window's first position, padding included: where a window holds only
// lowest(), -inf or NaN, it can point at the padding and lose the gradient that MXNet gives to
// the window's first input.
bool maxima_above_lowest(const float* y, int64_t n) {
  std::atomic<bool> all{true};
  parallel_for(n, 1, [&](int64_t b, int64_t e) {
    bool above = true;
    for (int64_t i = b; i < e; ++i) above &= y[i] > std::numeric_limits<float>::lowest();
    if (!above) all = false;
  });
  return all;
}

// Pooling's backward on oneDNN (y the forward's output), unless a window's maximum may lose
// its gradient there (maxima_above_lowest); false: not run.
bool dnnl_pool_backward(const onednn::PoolShape& s, const float* dy, const float* x,
                        const float* y, float* dx, onednn::ActFormats f = {}) {
  return (!s.max || maxima_above_lowest(y, s.N * s.C * s.OH * s.OW)) &&
         onednn::pool_backward(s, dy, x, dx, f);
}
#endif

template <typename T>
void pool_forward(const PoolGeom& g, const T* x, T* y) {
#if MXN_USE_ONEDNN
  // oneDNN's jit kernels: 2-4x this file's.
  if constexpr (std::is_same_v<T, float>) {
    onednn::PoolShape s;
    if (onednn_shape(g, &s) && onednn::pool_forward(s, x, y)) return;
  }
#endif
  const int64_t isz = g.in_size(), osz = g.out_size();
  const bool by_rows = rowwise(g);
  parallel_for(g.planes, osz * g.k[0] * g.k[1] * g.k[2], [&](int64_t p0, int64_t p1) {
    std::vector<acc_t<T>> scratch;
    for (int64_t pl = p0; pl < p1; ++pl) {
      const T* xp = x + pl * isz;
      T* yp = y + pl * osz;
      if (by_rows) {
        pool_plane_2d(g, xp, yp, &scratch);
        continue;
      }
      for_each_window(g, [&](int64_t oi, const int64_t* b, const int64_t* e, int64_t size) {
        yp[oi] = pool_one(g, xp, b, e, size);
      });
    }
  });
}

// Backward of 1-D/2-D max, average and sum pooling for one plane, adding into acc (the
// plane's input gradient). Max: each output's gradient goes to the first maximum of its window
// (rows, then columns), outputs in order, as the general path does. Average and sum: an output
// row's interior columns add their scaled gradients along each input row of the window (a loop
// that vectorises at stride 1); edge columns go one by one.
template <typename T>
void pool_plane_2d_backward(const PoolGeom& g, const T* xp, const T* yp, const T* gp,
                            acc_t<T>* acc, std::vector<acc_t<T>>* scratch) {
  using A = acc_t<T>;
  const int64_t H = g.in[1], W = g.in[2], OH = g.out[1], OW = g.out[2];
  const int64_t kh = g.k[1], kw = g.k[2], sh = g.s[1], sw = g.s[2], ph = g.p[1], pw = g.p[2];
  int64_t lo, hi;
  interior_columns(g, &lo, &hi);
  scratch->resize(static_cast<size_t>(hi - lo));
  A* sc = scratch->data();
  for (int64_t oh = 0; oh < OH; ++oh) {
    const int64_t hb = oh * sh - ph, he = std::min(hb + kh, H + ph);
    const int64_t h0 = std::max<int64_t>(hb, 0), h1 = std::min(he, H);
    if (h1 <= h0) continue;  // the window is all padding: no input receives anything
    const T* go = gp + oh * OW;
    for (int64_t ow = 0; ow < OW; ++ow) {
      if (g.type != PoolType::kMax && ow == lo) ow = hi;  // the interior, below
      if (ow >= OW) break;
      const int64_t wb = ow * sw - pw, we = std::min(wb + kw, W + pw);
      const int64_t w0 = std::max<int64_t>(wb, 0), w1 = std::min(we, W);
      if (g.type == PoolType::kMax) {
        const A m = A(yp[oh * OW + ow]);
        bool found = false;
        for (int64_t h = h0; h < h1 && !found; ++h) {
          for (int64_t w = w0; w < w1; ++w) {
            if (A(xp[h * W + w]) == m) {
              acc[h * W + w] += A(go[ow]);
              found = true;
              break;
            }
          }
        }
        continue;
      }
      A scale = A(go[ow]);
      if (g.type == PoolType::kAvg) {
        const int64_t size = g.include_pad ? (he - hb) * (we - wb) : (h1 - h0) * (w1 - w0);
        scale = scale / A(size);
      }
      for (int64_t h = h0; h < h1; ++h) {
        for (int64_t w = w0; w < w1; ++w) acc[h * W + w] += scale;
      }
    }
    if (g.type == PoolType::kMax || lo == hi) continue;
    const int64_t n = hi - lo;
    const int64_t size = (g.include_pad ? he - hb : h1 - h0) * kw;
    for (int64_t i = 0; i < n; ++i) {
      sc[i] = g.type == PoolType::kAvg ? A(go[lo + i]) / A(size) : A(go[lo + i]);
    }
    for (int64_t h = h0; h < h1; ++h) {
      for (int64_t j = 0; j < kw; ++j) {
        A* r = acc + h * W + lo * sw - pw + j;  // r[i * sw]: inside the row for i < n
        for (int64_t i = 0; i < n; ++i) r[i * sw] += sc[i];
      }
    }
  }
}

template <typename T>
void pool_backward(const PoolGeom& g, const T* dy, const T* x, const T* y, T* dx) {
#if MXN_USE_ONEDNN
  // Max pooling there keeps the argmax of a forward pass run again, instead of searching each
  // window: Inception-BN's pooling backward 5-10x faster (docs/architecture.md, "Operators").
  if constexpr (std::is_same_v<T, float>) {
    onednn::PoolShape s;
    if (onednn_shape(g, &s) && dnnl_pool_backward(s, dy, x, y, dx)) return;
  }
#endif
  using A = acc_t<T>;
  const int64_t isz = g.in_size(), osz = g.out_size();
  const bool by_rows = rowwise(g);
  parallel_for(g.planes, osz * g.k[0] * g.k[1] * g.k[2], [&](int64_t p0, int64_t p1) {
    std::vector<A> acc(static_cast<size_t>(isz)), scratch;
    for (int64_t pl = p0; pl < p1; ++pl) {
      const T* xp = x + pl * isz;
      const T* yp = y + pl * osz;
      const T* gp = dy + pl * osz;
      T* dp = dx + pl * isz;
      std::fill(acc.begin(), acc.end(), A(0));
      if (by_rows) {
        pool_plane_2d_backward(g, xp, yp, gp, acc.data(), &scratch);
        for (int64_t i = 0; i < isz; ++i) dp[i] = T(acc[i]);
        continue;
      }
      for_each_window(g, [&](int64_t oi, const int64_t* b, const int64_t* e, int64_t size) {
        const A go = A(gp[oi]);
        if (g.type == PoolType::kMax) {
          const A m = A(yp[oi]);
          for (int64_t dd = b[0]; dd < e[0]; ++dd) {
            for (int64_t h = b[1]; h < e[1]; ++h) {
              const int64_t base = (dd * g.in[1] + h) * g.in[2];
              for (int64_t w = b[2]; w < e[2]; ++w) {
                if (A(xp[base + w]) == m) {
                  acc[base + w] += go;
                  return;  // first maximum only
                }
              }
            }
          }
          return;
        }
        A scale = go;
        if (g.type == PoolType::kAvg) scale = go / A(size);
        const A out = A(yp[oi]);
        for (int64_t dd = b[0]; dd < e[0]; ++dd) {
          for (int64_t h = b[1]; h < e[1]; ++h) {
            const int64_t base = (dd * g.in[1] + h) * g.in[2];
            for (int64_t w = b[2]; w < e[2]; ++w) {
              if (g.type == PoolType::kLp && g.pval > 1) {
                acc[base + w] += go * pow_p(A(xp[base + w]) / out, g.pval - 1);
              } else {
                acc[base + w] += scale;
              }
            }
          }
        }
      });
      for (int64_t i = 0; i < isz; ++i) dp[i] = T(acc[i]);
    }
  });
}

}  // namespace

#if MXN_USE_ONEDNN
namespace {
// The oneDNN geometry of the pooling with the real batch and channels (blocked layouts keep
// them apart), or false where oneDNN cannot take it (onednn_shape).
bool kept_shape(const OpParams& p, const Shape& data, DType dtype, onednn::PoolShape* s) {
  if (dtype != DType::kFloat32 || data.ndim() != 4) return false;
  const PoolGeom g = pool_geom(p, data, nullptr);
  if (!onednn_shape(g, s)) return false;
  s->N = data[0];
  s->C = data[1];
  return true;
}
}  // namespace
#endif

namespace {
// Pooling of channel-blocked values (BlockedIO: the executor's training layouts), float32
// (N, C, H, W): oneDNN from and to those layouts, else the kernels above on NCHW copies. The
// data and its gradient share a layout, as do the output and its.
void pool_forward_blocked(const BlockedIO& blk, const OpParams& p, const std::vector<TBlob>& in,
                          const std::vector<TBlob>& out) {
#if MXN_USE_ONEDNN
  onednn::PoolShape s;
  if (kept_shape(p, in[0].shape, in[0].dtype, &s) &&
      onednn::pool_forward(s, in[0].ptr<float>(), out[0].ptr<float>(),
                           {blk.input(0), blk.output(0)})) {
    return;
  }
#endif
  const PoolGeom g = pool_geom(p, in[0].shape, nullptr);
  as_nchw(blk, in, out, [&](const std::vector<TBlob>& i, const std::vector<TBlob>& o) {
    pool_forward<float>(g, i[0].ptr<float>(), o[0].ptr<float>());
  });
}

// in: (dy, x, y), out: dx.
void pool_backward_blocked(const BlockedIO& blk, const OpParams& p, const std::vector<TBlob>& in,
                           const std::vector<TBlob>& out) {
  MXN_CHECK(blk.input(1) == blk.output(0) && blk.input(0) == blk.input(2), ErrorCode::kInternal,
            "pooling backward: a value and its gradient in different layouts");
#if MXN_USE_ONEDNN
  onednn::PoolShape s;
  if (kept_shape(p, in[1].shape, in[1].dtype, &s) &&
      dnnl_pool_backward(s, in[0].ptr<float>(), in[1].ptr<float>(), in[2].ptr<float>(),
                         out[0].ptr<float>(), {blk.input(1), blk.input(0)})) {
    return;
  }
#endif
  const PoolGeom g = pool_geom(p, in[1].shape, nullptr);
  as_nchw(blk, in, out, [&](const std::vector<TBlob>& i, const std::vector<TBlob>& o) {
    pool_backward<float>(g, i[0].ptr<float>(), i[1].ptr<float>(), i[2].ptr<float>(),
                         o[0].ptr<float>());
  });
}
}  // namespace

MXN_OP_REGISTRATION = [] () -> OpDef& {
  OpDef& op = OpRegistry::get()
                  .add("Pooling")
                  .describe(
                      "Performs pooling on the input: data (batch, channel, [depth, [height,]] "
                      "width). Output size along each spatial axis: valid (default) "
                      "floor((x+2*p-k)/s)+1; full (Caffe) ceil((x+2*p-k)/s)+1; same (1-D only) "
                      "ceil(x/s). global_pool pools each whole feature map (kernel = input, pad "
                      "0). pool_type: max, avg, sum, lp (p_value-norm: (sum x^p)^(1/p)). "
                      "count_include_pad (default True) makes averages count padded positions.")
                  .input("data", "Input data.")
                  .param("kernel", ParamType::kShape, ParamValue::of_shape(Shape()),
                         "Pooling kernel size: (w,), (h, w) or (d, h, w).")
                  .choice("pool_type", {"avg", "lp", "max", "sum"}, "max",
                          "Pooling type to be applied.")
                  .param("global_pool", ParamType::kBool, ParamValue::of_bool(false),
                         "Ignore kernel size and pool over each whole feature map.")
                  .param("cudnn_off", ParamType::kBool, ParamValue::of_bool(false),
                         "Turn off cuDNN (accepted for compatibility).")
                  .choice("pooling_convention", {"full", "same", "valid"}, "valid",
                          "Pooling convention to be applied.")
                  .param("stride", ParamType::kShape, ParamValue::of_shape(Shape()),
                         "Stride for pooling; defaults to 1 for each dimension.")
                  .param("pad", ParamType::kShape, ParamValue::of_shape(Shape()),
                         "Pad for pooling; defaults to 0 for each dimension.")
                  .nullable("p_value", ParamType::kInt, "Value of p for Lp pooling.")
                  .nullable("count_include_pad", ParamType::kBool,
                            "Whether averages count padded positions (None means True).");
  nullable_choice(op, "layout", {"NCDHW", "NCHW", "NCW", "NDHWC", "NHWC", "NWC"},
                  "Data layout; None means NCW/NCHW/NCDHW by rank. Only channel-first layouts "
                  "are supported on the CPU.");
  op.shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
        pool_geom(p, in[0], &(*out)[0]);
      })
      .type_fn(real_type())
      .cpu([](const OpContext& ctx, const OpParams& p, const std::vector<TBlob>& in,
              const std::vector<TBlob>& out) {
        if (ctx.blocked.any()) return pool_forward_blocked(ctx.blocked, p, in, out);
        const PoolGeom g = pool_geom(p, in[0].shape, nullptr);
        MXN_REAL_SWITCH(in[0].dtype, T, { pool_forward<T>(g, in[0].ptr<T>(), out[0].ptr<T>()); });
      })
      .grad(grad_by_backward_op("_backward_Pooling", true, true));
  return op;
}();

std::shared_ptr<const onednn::ActLayout> pooling_kept_output(const OpParams& p,
                                                             const Shape& data, DType dtype,
                                                             const onednn::ActLayout& in) {
#if MXN_USE_ONEDNN
  onednn::PoolShape s;
  if (kept_shape(p, data, dtype, &s)) return onednn::pool_kept_output(s, in);
#else
  (void)p, (void)data, (void)dtype, (void)in;
#endif
  return nullptr;
}

void pooling_kept(const OpParams& p, const TBlob& x, const onednn::ActLayout& in, const TBlob& y,
                  const onednn::ActLayout* out) {
#if MXN_USE_ONEDNN
  onednn::PoolShape s;
  if (kept_shape(p, x.shape, x.dtype, &s) &&
      onednn::pool_forward_kept(s, in, out, x.ptr<float>(), y.ptr<float>())) {
    return;
  }
#else
  (void)p, (void)x, (void)in, (void)y, (void)out;
#endif
  throw Error(ErrorCode::kInternal, "pooling: run on a kept layout it cannot read");
}

MXN_REGISTER_OP(_backward_Pooling)
    .backward_for("Pooling")
    .input("out_grad")
    .input("data")
    .input("output")
    .shape_fn([](const OpParams&, const std::vector<Shape>& in, std::vector<Shape>* out) {
      (*out)[0] = in[1];
    })
    .type_fn(real_type())
    .cpu([](const OpContext& ctx, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      if (ctx.blocked.any()) return pool_backward_blocked(ctx.blocked, p, in, out);
      const PoolGeom g = pool_geom(p, in[1].shape, nullptr);
      MXN_REAL_SWITCH(in[1].dtype, T, {
        pool_backward<T>(g, in[0].ptr<T>(), in[1].ptr<T>(), in[2].ptr<T>(), out[0].ptr<T>());
      });
    });

}  // namespace mxn::ops::nn
