// Convolution and Deconvolution (MXNet 1.x), 1-D (NCW) and 2-D (NCHW), grouped, dilated.
// Kernels: im2col + OpenBLAS GEMM per group and block of images (several images per GEMM when
// the feature maps are small); 1x1/stride-1/no-pad convolutions on large maps use the data
// directly as the GEMM operand (no im2col). Deconvolution is the transpose of a
// convolution and reuses the same three routines (forward, backward-data, backward-weight).
// float16 computes in float32. Float32 2-D convolutions above a size threshold run on oneDNN
// when the build has it (nn_onednn.h: MXNEXT_ONEDNN, the threshold); these im2col kernels
// serve everything else (float64, float16, 1-D, WebAssembly) and are the oracle. Builds with
// neither BLAS nor oneDNN (WebAssembly) run float32 depthwise forward convolutions directly
// (depthwise_forward), without im2col.
#include "core/ops/nn_util.h"
#include "core/ops/nn_conv_chain.h"
#include "core/ops/nn_onednn.h"

namespace mxn::ops::nn {
namespace {

// The geometry of a convolution from "in" (N, C, H, W) to "out" (N, F, OH, OW). 1-D data is
// H = OH = 1. A Deconvolution is the convolution from its output to its input.
struct ConvGeom {
  int nsp = 2;
  int64_t N = 0, C = 0, H = 1, W = 1;
  int64_t F = 0, G = 1, OH = 1, OW = 1;
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1, ph = 0, pw = 0;
  int64_t Cg() const { return C / G; }
  int64_t Fg() const { return F / G; }
  int64_t K() const { return Cg() * kh * kw; }
  int64_t P() const { return OH * OW; }
  int64_t HW() const { return H * W; }
  bool pointwise() const {
    return kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0;
  }
};

// Kernel, stride, dilate and pad for nsp spatial dims (1-D fills the H slots with 1/0).
struct Window {
  std::vector<int64_t> k, s, d, p;
};

Window read_window(const OpParams& p, int nsp) {
  Window w;
  const Shape& ks = p.get_shape("kernel");
  if (ks.ndim() != nsp) {
    throw Error(ErrorCode::kInvalidArg,
                cat("kernel=", ks.str(), " has ", ks.ndim(), " entries but the data has ", nsp,
                    " spatial dimension", nsp == 1 ? "" : "s", " (layout ",
                    nsp == 1 ? "NCW" : "NCHW", ")"));
  }
  w.k.assign(ks.data(), ks.data() + nsp);
  w.s = spatial_param(p, "stride", nsp, 1);
  w.d = spatial_param(p, "dilate", nsp, 1);
  w.p = spatial_param(p, "pad", nsp, 0);
  for (int i = 0; i < nsp; ++i) {
    MXN_CHECK(w.k[i] > 0, ErrorCode::kInvalidArg, "kernel entries must be > 0, got ", ks.str());
    MXN_CHECK(w.s[i] > 0, ErrorCode::kInvalidArg, "stride entries must be > 0");
    MXN_CHECK(w.d[i] > 0, ErrorCode::kInvalidArg, "dilate entries must be > 0");
    MXN_CHECK(w.p[i] >= 0, ErrorCode::kInvalidArg, "pad entries must be >= 0");
  }
  return w;
}

void set_window(ConvGeom* g, const Window& w, int nsp) {
  g->nsp = nsp;
  if (nsp == 1) {
    g->kw = w.k[0];
    g->sw = w.s[0];
    g->dw = w.d[0];
    g->pw = w.p[0];
  } else {
    g->kh = w.k[0];
    g->kw = w.k[1];
    g->sh = w.s[0];
    g->sw = w.s[1];
    g->dh = w.d[0];
    g->dw = w.d[1];
    g->ph = w.p[0];
    g->pw = w.p[1];
  }
}

// Data rank and layout: NCW / NCHW supported; other layouts and 3-D are not (yet).
int spatial_dims(const OpParams& p, const Shape& d) {
  if (!p.is_none("layout")) {
    const std::string& l = p.get_string("layout");
    if (l != "NCW" && l != "NCHW") {
      throw Error(ErrorCode::kNotImplemented,
                  cat("layout ", l, " is not supported on the CPU (use NCW or NCHW)"));
    }
  }
  if (d.ndim() == 5) {
    throw Error(ErrorCode::kNotImplemented, cat("3-D data (shape ", d.str(),
                                                ", NCDHW) is not supported yet"));
  }
  if (d.ndim() != 3 && d.ndim() != 4) {
    shape_error(0, cat("data must be 3-D (N, C, W) or 4-D (N, C, H, W), got shape ", d.str()));
  }
  const int nsp = d.ndim() - 2;
  if (!p.is_none("layout")) {
    const std::string& l = p.get_string("layout");
    if ((l == "NCW") != (nsp == 1)) {
      shape_error(0, cat("layout ", l, " does not match data of shape ", d.str()));
    }
  }
  return nsp;
}

Shape spatial_shape(const Shape& lead, int nsp, int64_t h, int64_t w) {
  Shape s = lead;
  if (nsp == 2) s.push_back(h);
  s.push_back(w);
  return s;
}

void check_groups(int64_t C, int64_t F, int64_t G, const char* cname, const char* fname) {
  MXN_CHECK(G >= 1, ErrorCode::kInvalidArg, "num_group must be >= 1, got ", G);
  if (C % G != 0) shape_error(0, cat(cname, " (", C, ") is not divisible by num_group=", G));
  MXN_CHECK(F % G == 0, ErrorCode::kInvalidArg, fname, " (", F,
            ") is not divisible by num_group=", G);
}

void check_param_inputs(const OpParams& p, size_t n) {
  const size_t want = p.get_bool("no_bias") ? 2 : 3;
  MXN_CHECK(n == want, ErrorCode::kInvalidArg, "expects ", want, " inputs (data, weight",
            want == 3 ? ", bias" : "", "), got ", n);
}

std::vector<std::string> conv_inputs(const OpParams& p) {
  return p.get_bool("no_bias") ? std::vector<std::string>{"data", "weight"}
                               : std::vector<std::string>{"data", "weight", "bias"};
}

// Symbolic shape inference: weight (and bias) from data and the parameters. `deconv`: the
// weight is (channels, num_filter/num_group, kernel...).
void fill_conv_params(const OpParams& p, std::vector<Shape>* in, bool deconv) {
  if (!known(*in, 0)) return;
  const Shape& d = (*in)[0];
  const Shape& k = p.get_shape("kernel");
  if (d.ndim() < 3 || k.ndim() != d.ndim() - 2) return;
  const int64_t nf = p.get_int("num_filter"), g = p.get_int("num_group");
  if (g < 1) return;
  Shape w = deconv ? Shape{d[1], nf / g} : Shape{nf, d[1] / g};
  for (int i = 0; i < k.ndim(); ++i) w.push_back(k[i]);
  fill_shape(in, 1, w);
  if (!p.get_bool("no_bias")) fill_shape(in, 2, Shape{nf});
}

void check_weight_bias(const OpParams& p, const std::vector<Shape>& in, const Shape& wshape,
                       int64_t nbias) {
  if (in.size() > 1 && in[1] != wshape) {
    shape_error(1, cat("weight has shape ", in[1].str(), " but data ", in[0].str(),
                       " and the parameters need ", wshape.str()));
  }
  if (!p.get_bool("no_bias") && in.size() > 2 && in[2] != Shape{nbias}) {
    shape_error(2, cat("bias has shape ", in[2].str(), " but needs (", nbias, ",)"));
  }
}

// ---- Convolution geometry ---------------------------------------------------------------
ConvGeom conv_geom(const OpParams& p, const std::vector<Shape>& in, Shape* out) {
  const Shape& d = in[0];
  const int nsp = spatial_dims(p, d);
  const Window w = read_window(p, nsp);
  ConvGeom g;
  set_window(&g, w, nsp);
  g.N = d[0];
  g.C = d[1];
  g.H = nsp == 2 ? d[2] : 1;
  g.W = d[d.ndim() - 1];
  g.F = p.get_int("num_filter");
  g.G = p.get_int("num_group");
  MXN_CHECK(g.F >= 1, ErrorCode::kInvalidArg, "num_filter must be >= 1, got ", g.F);
  check_groups(g.C, g.F, g.G, "the number of input channels", "num_filter");
  auto out_dim = [&](int64_t x, int64_t k, int64_t s, int64_t dl, int64_t pd, const char* axis) {
    const int64_t dk = dl * (k - 1) + 1;
    if (x + 2 * pd < dk) {
      shape_error(0, cat("the dilated kernel (", dk, ") exceeds the padded input along ", axis,
                         " (", x, " + 2*", pd, ") for data of shape ", d.str()));
    }
    return (x + 2 * pd - dk) / s + 1;
  };
  g.OH = nsp == 2 ? out_dim(g.H, g.kh, g.sh, g.dh, g.ph, "height") : 1;
  g.OW = out_dim(g.W, g.kw, g.sw, g.dw, g.pw, nsp == 2 ? "width" : "width");
  Shape ws{g.F, g.Cg()};
  for (int i = 0; i < nsp; ++i) ws.push_back(w.k[i]);
  check_weight_bias(p, in, ws, g.F);
  if (out) *out = spatial_shape(Shape{g.N, g.F}, nsp, g.OH, g.OW);
  return g;
}

// ---- Deconvolution geometry (the convolution from its output back to its input) --------
ConvGeom deconv_geom(const OpParams& p, const std::vector<Shape>& in, Shape* out) {
  const Shape& d = in[0];
  const int nsp = spatial_dims(p, d);
  Window w = read_window(p, nsp);
  const std::vector<int64_t> adj0 = spatial_param(p, "adj", nsp, 0);
  std::vector<int64_t> adj = adj0;
  const Shape& ts = p.get_shape("target_shape");
  bool use_target = false;
  for (int i = 0; i < ts.ndim(); ++i) use_target = use_target || ts[i] != 0;
  if (use_target && ts.ndim() != nsp) {
    throw Error(ErrorCode::kInvalidArg, cat("target_shape=", ts.str(), " has ", ts.ndim(),
                                            " entries but the data has ", nsp,
                                            " spatial dimensions"));
  }
  std::vector<int64_t> xin(nsp), xout(nsp);
  for (int i = 0; i < nsp; ++i) {
    xin[i] = d[2 + i];
    const int64_t dk = w.d[i] * (w.k[i] - 1) + 1;
    if (use_target) {  // MXNet's InferPad: pad and adj that give exactly target_shape
      int64_t total = w.s[i] * (xin[i] - 1) + dk;
      if (total < ts[i]) {
        shape_error(0, cat("target_shape ", ts.str(), " is too big for data of shape ", d.str(),
                           " (at most ", total, " along spatial axis ", i, ")"));
      }
      total -= ts[i];
      adj[i] = total % 2;
      w.p[i] = (total + 1) / 2;
    }
    MXN_CHECK(adj[i] >= 0 && adj[i] < w.s[i], ErrorCode::kInvalidArg, "adj (", adj[i],
              ") must be smaller than stride (", w.s[i], ")");
    xout[i] = w.s[i] * (xin[i] - 1) + dk - 2 * w.p[i] + adj[i];
    if (xout[i] <= 0 && xin[i] > 0) {
      shape_error(0, cat("pad ", w.p[i], " is too large: the output of data ", d.str(),
                         " would have size ", xout[i], " along spatial axis ", i));
    }
    if (xin[i] == 0) xout[i] = 0;
  }
  ConvGeom g;
  set_window(&g, w, nsp);
  g.N = d[0];
  g.F = d[1];  // the deconvolution's input channels are the convolution's outputs
  g.C = p.get_int("num_filter");
  g.G = p.get_int("num_group");
  MXN_CHECK(g.C >= 1, ErrorCode::kInvalidArg, "num_filter must be >= 1, got ", g.C);
  MXN_CHECK(g.G >= 1, ErrorCode::kInvalidArg, "num_group must be >= 1, got ", g.G);
  if (g.F % g.G != 0) {
    shape_error(0, cat("the number of input channels (", g.F, ") is not divisible by num_group=",
                       g.G));
  }
  MXN_CHECK(g.C % g.G == 0, ErrorCode::kInvalidArg, "num_filter (", g.C,
            ") is not divisible by num_group=", g.G);
  g.OH = nsp == 2 ? xin[0] : 1;
  g.OW = xin[nsp - 1];
  g.H = nsp == 2 ? xout[0] : 1;
  g.W = xout[nsp - 1];
  Shape ws{g.F, g.Cg()};
  for (int i = 0; i < nsp; ++i) ws.push_back(w.k[i]);
  check_weight_bias(p, in, ws, g.C);
  if (out) *out = spatial_shape(Shape{g.N, g.C}, nsp, g.H, g.W);
  return g;
}

// ---- im2col / col2im ---------------------------------------------------------------------
// Column matrices have one row per (channel, ki, kj) and one column per output position; a
// block of images shares one matrix (image i owns columns [i*P, (i+1)*P), row stride ld).

// The kh*kw rows (stride ld) of one channel `src` (H x W).
template <typename T>
void im2col_channel(const ConvGeom& g, const T* src, T* rows, int64_t ld) {
  for (int64_t ki = 0; ki < g.kh; ++ki) {
    for (int64_t kj = 0; kj < g.kw; ++kj) {
      T* row = rows + (ki * g.kw + kj) * ld;
      const int64_t x0 = kj * g.dw - g.pw;
      const int64_t lo = std::min(g.OW, std::max<int64_t>(0, -x0));
      const int64_t hi = std::max(lo, std::min(g.OW, g.W - x0));
      for (int64_t oy = 0; oy < g.OH; ++oy) {
        const int64_t iy = oy * g.sh - g.ph + ki * g.dh;
        T* dst = row + oy * g.OW;
        if (iy < 0 || iy >= g.H) {
          std::fill(dst, dst + g.OW, T(0));
          continue;
        }
        const T* srow = src + iy * g.W;
        if (g.sw == 1) {
          std::fill(dst, dst + lo, T(0));
          std::memcpy(dst + lo, srow + lo + x0, sizeof(T) * (hi - lo));
          std::fill(dst + hi, dst + g.OW, T(0));
        } else {
          for (int64_t ox = 0; ox < g.OW; ++ox) {
            const int64_t ix = ox * g.sw + x0;
            dst[ox] = (ix >= 0 && ix < g.W) ? srow[ix] : T(0);
          }
        }
      }
    }
  }
}

// dst (H x W) += the kh*kw rows (stride ld) of one channel.
template <typename T>
void col2im_channel(const ConvGeom& g, const T* rows, int64_t ld, T* dst) {
  for (int64_t ki = 0; ki < g.kh; ++ki) {
    for (int64_t kj = 0; kj < g.kw; ++kj) {
      const T* row = rows + (ki * g.kw + kj) * ld;
      const int64_t x0 = kj * g.dw - g.pw;
      const int64_t lo = std::min(g.OW, std::max<int64_t>(0, -x0));
      const int64_t hi = std::max(lo, std::min(g.OW, g.W - x0));
      for (int64_t oy = 0; oy < g.OH; ++oy) {
        const int64_t iy = oy * g.sh - g.ph + ki * g.dh;
        if (iy < 0 || iy >= g.H) continue;
        const T* src = row + oy * g.OW;
        T* drow = dst + iy * g.W;
        if (g.sw == 1) {
          T* dd = drow + x0;
          for (int64_t ox = lo; ox < hi; ++ox) dd[ox] += src[ox];
        } else {
          for (int64_t ox = 0; ox < g.OW; ++ox) {
            const int64_t ix = ox * g.sw + x0;
            if (ix >= 0 && ix < g.W) drow[ix] += src[ox];
          }
        }
      }
    }
  }
}

// col (Cg*kh*kw rows, m*P columns, stride ld = m*P) from channels [c0, c0+Cg) of images
// [n0, n0+m) of x (N, C, H, W); image i fills columns [i*P, (i+1)*P). Parallel over
// (image, channel).
template <typename T>
void im2col_block(const ConvGeom& g, const T* x, int64_t n0, int64_t m, int64_t c0, int64_t Cg,
                  T* col) {
  const int64_t P = g.P(), ld = m * P, kk = g.kh * g.kw;
  parallel_for(m * Cg, kk * P, [&](int64_t b, int64_t e) {
    for (int64_t it = b; it < e; ++it) {
      const int64_t i = it / Cg, c = it % Cg;
      const T* src = x + ((n0 + i) * g.C + c0 + c) * g.HW();
      T* rows = col + c * kk * ld + i * P;
      if (g.pointwise()) {
        std::memcpy(rows, src, sizeof(T) * P);
      } else {
        im2col_channel(g, src, rows, ld);
      }
    }
  });
}

// dx channels [c0, c0+Cg) of images [n0, n0+m) += col2im(col) (the layout of im2col_block);
// pointwise convolutions copy instead of adding.
template <typename T>
void col2im_block(const ConvGeom& g, const T* col, int64_t n0, int64_t m, int64_t c0, int64_t Cg,
                  T* dx) {
  const int64_t P = g.P(), ld = m * P, kk = g.kh * g.kw;
  parallel_for(m * Cg, kk * P, [&](int64_t b, int64_t e) {
    for (int64_t it = b; it < e; ++it) {
      const int64_t i = it / Cg, c = it % Cg;
      T* dst = dx + ((n0 + i) * g.C + c0 + c) * g.HW();
      const T* rows = col + c * kk * ld + i * P;
      if (g.pointwise()) {
        std::memcpy(dst, rows, sizeof(T) * P);
      } else {
        col2im_channel(g, rows, ld, dst);
      }
    }
  });
}

// Copies rows x cols blocks between a per-image layout (row stride src_ld) and a block column
// layout (row stride dst_ld).
template <typename T>
void copy_rows(int64_t rows, int64_t cols, const T* src, int64_t src_ld, T* dst, int64_t dst_ld) {
  for (int64_t r = 0; r < rows; ++r) std::memcpy(dst + r * dst_ld, src + r * src_ld, sizeof(T) * cols);
}

// Images per GEMM: small feature maps (late ResNet stages) batch several images into one
// GEMM so that its column dimension stays large enough for BLAS to run at speed.
int64_t image_block(const ConvGeom& g) {
  const int64_t P = std::max<int64_t>(g.P(), 1);
  return std::max<int64_t>(1, std::min<int64_t>(g.N, (2048 + P - 1) / P));
}

// ---- the three convolution routines --------------------------------------------------------
// y (N, F, P) = conv(x (N, C, HW), w (F, Cg*kh*kw)).
template <typename T>
void conv_forward(const ConvGeom& g, const T* x, const T* w, T* y) {
  const int64_t P = g.P(), K = g.K(), Cg = g.Cg(), Fg = g.Fg();
  const int64_t nb = image_block(g);
  const bool direct = g.pointwise() && nb == 1;
  Workspace ws;  // pooled: freed when the kernel returns, reused by the next one
  T* col = direct ? nullptr : ws.alloc<T>(K * P * nb);
  T* tmp = nb > 1 ? ws.alloc<T>(Fg * P * nb) : nullptr;
  for (int64_t n0 = 0; n0 < g.N; n0 += nb) {
    const int64_t m = std::min(nb, g.N - n0), ld = m * P;
    for (int64_t gr = 0; gr < g.G; ++gr) {
      const T* wg = w + gr * Fg * K;
      const T* b = nullptr;
      if (direct) {
        b = x + n0 * g.C * g.HW() + gr * Cg * g.HW();
      } else {
        im2col_block(g, x, n0, m, gr * Cg, Cg, col);
        b = col;
      }
      if (m == 1) {
        gemm<T>(false, false, Fg, P, K, T(1), wg, K, b, ld, T(0), y + n0 * g.F * P + gr * Fg * P, P);
      } else {
        gemm<T>(false, false, Fg, ld, K, T(1), wg, K, b, ld, T(0), tmp, ld);
        for (int64_t i = 0; i < m; ++i) {
          copy_rows(Fg, P, tmp + i * P, ld, y + (n0 + i) * g.F * P + gr * Fg * P, P);
        }
      }
    }
  }
}

// dx (N, C, HW) = conv^T(dy (N, F, P), w).
template <typename T>
void conv_backward_data(const ConvGeom& g, const T* dy, const T* w, T* dx) {
  const int64_t P = g.P(), K = g.K(), Cg = g.Cg(), Fg = g.Fg();
  const int64_t nb = image_block(g);
  const bool direct = g.pointwise() && nb == 1;
  Workspace ws;  // pooled: freed when the kernel returns, reused by the next one
  T* col = direct ? nullptr : ws.alloc<T>(K * P * nb);
  T* dyc = nb > 1 ? ws.alloc<T>(Fg * P * nb) : nullptr;
  for (int64_t n0 = 0; n0 < g.N; n0 += nb) {
    const int64_t m = std::min(nb, g.N - n0), ld = m * P;
    if (!g.pointwise()) {
      std::fill(dx + n0 * g.C * g.HW(), dx + (n0 + m) * g.C * g.HW(), T(0));
    }
    for (int64_t gr = 0; gr < g.G; ++gr) {
      const T* wg = w + gr * Fg * K;
      const T* a = dy + n0 * g.F * P + gr * Fg * P;
      if (m > 1) {
        for (int64_t i = 0; i < m; ++i) {
          copy_rows(Fg, P, dy + (n0 + i) * g.F * P + gr * Fg * P, P, dyc + i * P, ld);
        }
        a = dyc;
      }
      if (direct) {
        gemm<T>(true, false, K, P, Fg, T(1), wg, K, a, P, T(0),
                dx + n0 * g.C * g.HW() + gr * Cg * g.HW(), P);
        continue;
      }
      gemm<T>(true, false, K, ld, Fg, T(1), wg, K, a, ld, T(0), col, ld);
      col2im_block(g, col, n0, m, gr * Cg, Cg, dx);
    }
  }
}

// dw (F, Cg*kh*kw) = sum over images of dy (F, P) . im2col(x)^T.
template <typename T>
void conv_backward_weight(const ConvGeom& g, const T* x, const T* dy, T* dw) {
  const int64_t P = g.P(), K = g.K(), Cg = g.Cg(), Fg = g.Fg();
  if (g.N == 0) {
    std::fill(dw, dw + g.F * K, T(0));
    return;
  }
  const int64_t nb = image_block(g);
  const bool direct = g.pointwise() && nb == 1;
  Workspace ws;  // pooled: freed when the kernel returns, reused by the next one
  T* col = direct ? nullptr : ws.alloc<T>(K * P * nb);
  T* dyc = nb > 1 ? ws.alloc<T>(Fg * P * nb) : nullptr;
  for (int64_t n0 = 0; n0 < g.N; n0 += nb) {
    const int64_t m = std::min(nb, g.N - n0), ld = m * P;
    for (int64_t gr = 0; gr < g.G; ++gr) {
      const T* b = nullptr;
      if (direct) {
        b = x + n0 * g.C * g.HW() + gr * Cg * g.HW();
      } else {
        im2col_block(g, x, n0, m, gr * Cg, Cg, col);
        b = col;
      }
      const T* a = dy + n0 * g.F * P + gr * Fg * P;
      if (m > 1) {
        for (int64_t i = 0; i < m; ++i) {
          copy_rows(Fg, P, dy + (n0 + i) * g.F * P + gr * Fg * P, P, dyc + i * P, ld);
        }
        a = dyc;
      }
      gemm<T>(false, true, Fg, K, ld, T(1), a, ld, b, ld, n0 == 0 ? T(0) : T(1),
              dw + gr * Fg * K, K);
    }
  }
}

// ---- direct depthwise convolution (builds without BLAS or oneDNN) ------------------------
// num_group == channels == num_filter: every output channel is its own input channel
// convolved with its own kh x kw filter. im2col + GEMM would run one (1 x kh*kw) x (kh*kw x P)
// product per channel; this reads a zero-padded copy of the channel instead and sums the taps
// in the order that GEMM sums them (0, then + w[t] * x[t] for t = ki*kw + kj), vectorised
// over the output columns. Forward only (the gradients keep im2col + GEMM); float32 only.
#if MXN_NN_HAVE_BLAS || MXN_USE_ONEDNN
constexpr bool kDirectDepthwise = false;
#else
constexpr bool kDirectDepthwise = true;
#endif
bool depthwise(const ConvGeom& g) { return g.nsp == 2 && g.G > 1 && g.G == g.C && g.F == g.C; }

// One output row of a 3x3 filter (the unrolled case of depthwise_channel): t[0..8] point at
// the nine taps' inputs of output column 0, each contiguous along the row.
template <typename T>
void depthwise_row3x3(const T* const* t, const T* wc, int64_t OW, T* __restrict out) {
  const T w0 = wc[0], w1 = wc[1], w2 = wc[2], w3 = wc[3], w4 = wc[4], w5 = wc[5], w6 = wc[6],
          w7 = wc[7], w8 = wc[8];
  const T *__restrict t0 = t[0], *__restrict t1 = t[1], *__restrict t2 = t[2],
          *__restrict t3 = t[3], *__restrict t4 = t[4], *__restrict t5 = t[5],
          *__restrict t6 = t[6], *__restrict t7 = t[7], *__restrict t8 = t[8];
  for (int64_t ox = 0; ox < OW; ++ox) {
    T s = T(0);
    s += w0 * t0[ox];
    s += w1 * t1[ox];
    s += w2 * t2[ox];
    s += w3 * t3[ox];
    s += w4 * t4[ox];
    s += w5 * t5[ox];
    s += w6 * t6[ox];
    s += w7 * t7[ox];
    s += w8 * t8[ox];
    out[ox] = s;
  }
}

// out (OH x OW) = the depthwise convolution of one channel with wc. src: the channel, padded,
// rows of ld values, each split into sw phases of Wq columns (padded column ix at phase
// ix % sw, position ix / sw), so the taps of a strided output row read contiguous columns.
template <typename T>
void depthwise_channel(const ConvGeom& g, const T* src, int64_t ld, int64_t Wq, const T* wc,
                       T* out) {
  const int64_t kk = g.kh * g.kw;
  std::vector<int64_t> off(static_cast<size_t>(kk));  // each tap's offset from the output row's first
  for (int64_t ki = 0; ki < g.kh; ++ki) {
    for (int64_t kj = 0; kj < g.kw; ++kj) {
      const int64_t col = kj * g.dw;
      off[size_t(ki * g.kw + kj)] = ki * g.dh * ld + (col % g.sw) * Wq + col / g.sw;
    }
  }
  for (int64_t oy = 0; oy < g.OH; ++oy) {
    const T* row = src + oy * g.sh * ld;
    T* orow = out + oy * g.OW;
    if (kk == 9 && g.kh == 3) {
      const T* t[9];
      for (int q = 0; q < 9; ++q) t[q] = row + off[size_t(q)];
      depthwise_row3x3(t, wc, g.OW, orow);
      continue;
    }
    std::fill(orow, orow + g.OW, T(0));
    for (int64_t q = 0; q < kk; ++q) {
      const T wv = wc[q];
      const T* tap = row + off[size_t(q)];
      for (int64_t ox = 0; ox < g.OW; ++ox) orow[ox] += wv * tap[ox];
    }
  }
}

// y (N, C, OH, OW) = depthwise conv(x (N, C, H, W), w (C, 1, kh, kw)). Parallel over
// (image, channel); each part lays its channels out in its own scratch (zero padding, stride
// phases) unless the convolution has neither.
template <typename T>
void depthwise_forward(const ConvGeom& g, const T* x, const T* w, T* y) {
  const int64_t Hp = g.H + 2 * g.ph, Wp = g.W + 2 * g.pw, kk = g.kh * g.kw;
  const int64_t Wq = (Wp + g.sw - 1) / g.sw, ld = Wq * g.sw;
  const bool copy = g.ph > 0 || g.pw > 0 || g.sw > 1;
  parallel_for(g.N * g.C, kk * g.P(), [&](int64_t b, int64_t e) {
    Workspace ws;
    T* buf = copy ? ws.alloc<T>(Hp * ld) : nullptr;
    if (copy) std::fill(buf, buf + Hp * ld, T(0));  // padding: written once, stays zero
    for (int64_t it = b; it < e; ++it) {
      const T* src = x + it * g.HW();
      if (copy) {
        for (int64_t iy = 0; iy < g.H; ++iy) {
          const T* s = src + iy * g.W;
          T* d = buf + (iy + g.ph) * ld;
          if (g.sw == 1) {
            std::memcpy(d + g.pw, s, sizeof(T) * g.W);
          } else {
            for (int64_t q = 0; q < g.sw; ++q) {  // padded column q + t*sw is input q + t*sw - pw
              const int64_t t0 = q >= g.pw ? 0 : (g.pw - q + g.sw - 1) / g.sw;
              const int64_t t1 = q >= g.pw + g.W ? 0 : (g.pw + g.W - 1 - q) / g.sw + 1;
              const T* sq = s + q - g.pw;
              T* dq = d + q * Wq;
              for (int64_t t = t0; t < t1; ++t) dq[t] = sq[t * g.sw];
            }
          }
        }
        src = buf;
      }
      depthwise_channel(g, src, copy ? ld : g.W, copy ? Wq : g.W, w + (it % g.C) * kk,
                        y + it * g.P());
    }
  });
}

// y (N, Cb, S) += bias per channel.
template <typename T>
void add_bias(int64_t N, int64_t Cb, int64_t S, const T* b, T* y) {
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t c = 0; c < Cb; ++c) {
      T* p = y + (n * Cb + c) * S;
      const T v = b[c];
      for (int64_t i = 0; i < S; ++i) p[i] += v;
    }
  }
}

template <typename T>
void bias_grad(int64_t N, int64_t Cb, int64_t S, const T* dy, T* db) {
  for (int64_t c = 0; c < Cb; ++c) {
    T s = T(0);
    for (int64_t n = 0; n < N; ++n) {
      const T* p = dy + (n * Cb + c) * S;
      for (int64_t i = 0; i < S; ++i) s += p[i];
    }
    db[c] = s;
  }
}

// ---- dispatch: oneDNN or the kernels above -----------------------------------------------
#if MXN_USE_ONEDNN
onednn::ConvShape dnnl_shape(const ConvGeom& g) {
  return onednn::ConvShape{g.N,  g.C,  g.H,  g.W,  g.F,  g.G,  g.OH, g.OW,
                           g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.ph, g.pw};
}
#endif

// oneDNN takes float32 arrays only: float16 data (computed in float32) and float64 stay on
// the kernels above.
bool dnnl_dtype(const std::vector<TBlob>& out) { return out[0].dtype == DType::kFloat32; }

#if MXN_USE_ONEDNN
// A batch runs in chunks of images (onednn::images_per_call); the weight and bias gradients
// are summed over chunks.
bool dnnl_forward(const ConvGeom& g, const float* x, const float* w, const float* b, float* y,
                  onednn::ActFormats f = {}) {
  onednn::ConvShape s = dnnl_shape(g);
  if (!onednn::wanted(s)) return false;
  const int64_t m = onednn::images_per_call(s);
  for (int64_t n0 = 0; n0 < g.N; n0 += m) {
    s.N = std::min(m, g.N - n0);
    if (!onednn::conv_forward(s, x + n0 * g.C * g.HW(), w, b, y + n0 * g.F * g.P(), f)) {
      return false;
    }
  }
  return true;
}

bool dnnl_backward(const ConvGeom& g, const float* dy, const float* x, const float* w, float* dx,
                   float* dw, float* db, onednn::ActFormats f = {}) {
  onednn::ConvShape s = dnnl_shape(g);
  if (!onednn::wanted(s)) return false;
  const int64_t m = onednn::images_per_call(s), wsize = g.F * g.K();
  Workspace ws;  // the later chunks' weight and bias gradients, added to the first's
  float* dw_part = (dw != nullptr && m < g.N) ? ws.alloc<float>(wsize) : nullptr;
  float* db_part = (db != nullptr && m < g.N) ? ws.alloc<float>(g.F) : nullptr;
  for (int64_t n0 = 0; n0 < g.N; n0 += m) {
    s.N = std::min(m, g.N - n0);
    const bool first = n0 == 0;
    if (!onednn::conv_backward(s, dy + n0 * g.F * g.P(), x ? x + n0 * g.C * g.HW() : nullptr, w,
                               dx ? dx + n0 * g.C * g.HW() : nullptr,
                               dw ? (first ? dw : dw_part) : nullptr,
                               db ? (first ? db : db_part) : nullptr, f)) {
      return false;  // the caller recomputes every output with the kernels above
    }
    if (first) continue;
    for (int64_t i = 0; dw != nullptr && i < wsize; ++i) dw[i] += dw_part[i];
    for (int64_t i = 0; db != nullptr && i < g.F; ++i) db[i] += db_part[i];
  }
  return true;
}
#endif

// y = conv(x, w) (+ b over the F channels when b is not null). `dnnl`: oneDNN may run it.
template <typename T>
void run_forward(bool dnnl, const ConvGeom& g, const T* x, const T* w, const T* b, T* y) {
#if MXN_USE_ONEDNN
  if constexpr (std::is_same_v<T, float>) {
    if (dnnl && g.nsp == 2 && dnnl_forward(g, x, w, b, y)) return;
  }
#endif
  if constexpr (kDirectDepthwise && std::is_same_v<T, float>) {
    if (depthwise(g)) {
      depthwise_forward<T>(g, x, w, y);
      if (b != nullptr) add_bias<T>(g.N, g.F, g.P(), b, y);
      return;
    }
  }
  conv_forward<T>(g, x, w, y);
  if (b != nullptr) add_bias<T>(g.N, g.F, g.P(), b, y);
}

// Any of dx = conv^T(dy, w), dw (from x and dy), db (over the F channels) that is not null.
template <typename T>
void run_backward(bool dnnl, const ConvGeom& g, const T* dy, const T* x, const T* w, T* dx, T* dw,
                  T* db) {
#if MXN_USE_ONEDNN
  if constexpr (std::is_same_v<T, float>) {
    if (dnnl && g.nsp == 2 && dnnl_backward(g, dy, x, w, dx, dw, db)) return;
  }
#endif
  if (dx != nullptr) conv_backward_data<T>(g, dy, w, dx);
  if (dw != nullptr) conv_backward_weight<T>(g, x, dy, dw);
  if (db != nullptr) bias_grad<T>(g.N, g.F, g.P(), dy, db);
}

// Float32 2-D convolutions whose data or output (or their gradients) the executor keeps
// channel-blocked (ctx.blocked): oneDNN in those layouts, else the kernels above on NCHW
// copies. in/out as the operators': (x, w, b) -> y forward; (dy, x, w) -> (dx, dw, db) backward.
void forward_blocked(const BlockedIO& blk, const ConvGeom& g, const std::vector<TBlob>& in,
                     const std::vector<TBlob>& out) {
  MXN_CHECK(out[0].dtype == DType::kFloat32 && g.nsp == 2, ErrorCode::kInternal,
            "channel-blocked values need float32 2-D convolutions");
  const bool bias = in.size() > 2;
#if MXN_USE_ONEDNN
  if (dnnl_forward(g, in[0].ptr<float>(), in[1].ptr<float>(), bias ? in[2].ptr<float>() : nullptr,
                   out[0].ptr<float>(), {blk.input(0), blk.output(0)})) {
    return;
  }
#endif
  as_nchw(blk, in, out, [&](const std::vector<TBlob>& i, const std::vector<TBlob>& o) {
    run_forward<float>(true, g, i[0].ptr<float>(), i[1].ptr<float>(),
                       bias ? i[2].ptr<float>() : nullptr, o[0].ptr<float>());
  });
}

void backward_blocked(const BlockedIO& blk, const ConvGeom& g, bool need_dx,
                      const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  MXN_CHECK(out[0].dtype == DType::kFloat32 && g.nsp == 2, ErrorCode::kInternal,
            "channel-blocked values need float32 2-D convolutions");
  const bool bias = out.size() > 2;
  // x is read as the data (input 1) and written as its gradient (output 0) in one layout
  MXN_CHECK(!need_dx || blk.input(1) == blk.output(0), ErrorCode::kInternal,
            "a convolution's data and its gradient in different layouts");
#if MXN_USE_ONEDNN
  if (dnnl_backward(g, in[0].ptr<float>(), in[1].ptr<float>(), in[2].ptr<float>(),
                    need_dx ? out[0].ptr<float>() : nullptr, out[1].ptr<float>(),
                    bias ? out[2].ptr<float>() : nullptr, {blk.input(1), blk.input(0)})) {
    return;
  }
#endif
  BlockedIO b = blk;
  if (!need_dx) b.outputs &= ~1u;  // nothing to copy back
  as_nchw(b, in, out, [&](const std::vector<TBlob>& i, const std::vector<TBlob>& o) {
    run_backward<float>(true, g, i[0].ptr<float>(), i[1].ptr<float>(), i[2].ptr<float>(),
                        need_dx ? o[0].ptr<float>() : nullptr, o[1].ptr<float>(),
                        bias ? o[2].ptr<float>() : nullptr);
  });
}

// Runs fn<T> for float32/float64, staging float16 through float32.
template <typename Fn>
void run_real(const std::vector<TBlob>& in, const std::vector<TBlob>& out, Fn fn) {
  auto run = [&](const std::vector<TBlob>& i, const std::vector<TBlob>& o) {
    if (o[0].dtype == DType::kFloat64) {
      fn(double(), i, o);
    } else {
      fn(float(), i, o);
    }
  };
  if (!is_real(out[0].dtype)) throw_error(ErrorCode::kDType, "needs real data");
  if (out[0].dtype == DType::kFloat16) {
    as_float32(in, out, run);
  } else {
    run(in, out);
  }
}

std::vector<Shape> shapes_of(const std::vector<TBlob>& b, size_t n) {
  std::vector<Shape> s;
  for (size_t i = 0; i < n && i < b.size(); ++i) s.push_back(b[i].shape);
  return s;
}

OpDef& conv_common_params(OpDef& op) {
  op.required("kernel", ParamType::kShape, "Kernel size: (w,) or (h, w).")
      .param("stride", ParamType::kShape, ParamValue::of_shape(Shape()),
             "Stride: (w,) or (h, w). Defaults to 1 for each dimension.")
      .param("dilate", ParamType::kShape, ParamValue::of_shape(Shape()),
             "Dilation: (w,) or (h, w). Defaults to 1 for each dimension.")
      .param("pad", ParamType::kShape, ParamValue::of_shape(Shape()),
             "Zero padding on both sides: (w,) or (h, w). Defaults to no padding.");
  return op;
}

OpDef& conv_tail_params(OpDef& op, bool no_bias_default, int64_t workspace) {
  op.required("num_filter", ParamType::kInt, "Number of output channels.")
      .param("num_group", ParamType::kInt, ParamValue::of_int(1),
             "Number of groups the channels are split into.")
      .param("workspace", ParamType::kInt, ParamValue::of_int(workspace),
             "Maximum temporary workspace in MB (accepted for compatibility; unused).")
      .param("no_bias", ParamType::kBool, ParamValue::of_bool(no_bias_default),
             "Whether to disable bias.");
  nullable_choice(op, "cudnn_tune", {"fastest", "limited_workspace", "off"},
                  "cuDNN algorithm selection (accepted for compatibility; unused on the CPU).");
  op.param("cudnn_off", ParamType::kBool, ParamValue::of_bool(false),
           "Turn off cuDNN (accepted for compatibility).");
  nullable_choice(op, "layout", {"NCDHW", "NCHW", "NCW", "NDHWC", "NHWC", "NWC"},
                  "Data layout; None means NCW/NCHW by rank. Only NCW and NCHW are supported "
                  "on the CPU.");
  op.inputs_used(conv_inputs);
  return op;
}

}  // namespace

bool conv_shape_2d(const OpParams& p, const Shape& data, const Shape& weight,
                   onednn::ConvShape* out) {
  if (data.ndim() != 4 || spatial_dims(p, data) != 2) return false;
  const bool bias = !p.get_bool("no_bias");
  std::vector<Shape> in{data, weight};
  if (bias) in.push_back(Shape{p.get_int("num_filter")});
  const ConvGeom g = conv_geom(p, in, nullptr);
  *out = onednn::ConvShape{g.N,  g.C,  g.H,  g.W,  g.F,  g.G,  g.OH, g.OW,
                           g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.ph, g.pw};
  return true;
}

// ---- Convolution ---------------------------------------------------------------------------
MXN_OP_REGISTRATION = conv_tail_params(
    conv_common_params(
        OpRegistry::get()
            .add("Convolution")
            .describe(
                "Compute N-D convolution on (N+2)-D input (1-D: data (batch, channel, width), "
                "2-D: (batch, channel, height, width)). weight is (num_filter, channel/num_group, "
                "kernel...), bias (num_filter,). out = (x + 2*pad - (dilate*(kernel-1)+1)) / "
                "stride + 1 along each spatial axis (floor). num_group splits input and output "
                "channels into groups convolved separately.")
            .input("data", "Input data.")
            .input("weight", "Weight.")
            .optional_input("bias", "Bias (absent when no_bias=True).")),
    false, 1024)
    .input_shapes_fn([](const OpParams& p, std::vector<Shape>* in) {
      fill_conv_params(p, in, false);
    })
    .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
      check_param_inputs(p, in.size());
      conv_geom(p, in, &(*out)[0]);
    })
    .type_fn(real_type())
    .cpu([](const OpContext& ctx, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      check_param_inputs(p, in.size());
      const ConvGeom g = conv_geom(p, shapes_of(in, 2), nullptr);
      if (ctx.blocked.any()) return forward_blocked(ctx.blocked, g, in, out);
      const bool bias = !p.get_bool("no_bias"), dnnl = dnnl_dtype(out);
      run_real(in, out, [&](auto tag, const std::vector<TBlob>& i, const std::vector<TBlob>& o) {
        using T = decltype(tag);
        run_forward<T>(dnnl, g, i[0].ptr<T>(), i[1].ptr<T>(), bias ? i[2].ptr<T>() : nullptr,
                       o[0].ptr<T>());
      });
    })
    .grad([](const NodePtr& n, const std::vector<NodeEntry>& og) {
      const bool has_bias = n->inputs.size() > 2 && !n->params.get_bool("no_bias");
      return backward_entries("_backward_Convolution", n,
                              {og[0], fwd_input(n, 0), fwd_input(n, 1)},
                              has_bias ? std::vector<int>{0, 1, 2} : std::vector<int>{0, 1});
    });

MXN_REGISTER_OP(_backward_Convolution)
    .backward_for("Convolution")
    .input("out_grad")
    .input("data")
    .input("weight")
    .dynamic_outputs([](const OpParams& p) { return p.get_bool("no_bias") ? 2 : 3; })
    .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
      (*out)[0] = in[1];
      (*out)[1] = in[2];
      if (out->size() > 2) (*out)[2] = Shape{p.get_int("num_filter")};
    })
    .type_fn(real_type())
    .cpu([](const OpContext& ctx, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      const ConvGeom g = conv_geom(p, {in[1].shape, in[2].shape}, nullptr);
      const bool bias = out.size() > 2;
      const bool need_dx = !ctx.output_unused(0);  // the first layer's data needs no gradient
      if (ctx.blocked.any()) return backward_blocked(ctx.blocked, g, need_dx, in, out);
      const bool dnnl = dnnl_dtype(out);
      run_real(in, out, [&](auto tag, const std::vector<TBlob>& i, const std::vector<TBlob>& o) {
        using T = decltype(tag);
        run_backward<T>(dnnl, g, i[0].ptr<T>(), i[1].ptr<T>(), i[2].ptr<T>(),
                        need_dx ? o[0].ptr<T>() : nullptr, o[1].ptr<T>(),
                        bias ? o[2].ptr<T>() : nullptr);
      });
    });

// ---- Deconvolution -------------------------------------------------------------------------
MXN_OP_REGISTRATION = conv_tail_params(
    conv_common_params(
        OpRegistry::get()
            .add("Deconvolution")
            .describe(
                "Transposed convolution (the gradient of Convolution with respect to its data). "
                "data is (batch, channel, [height,] width); weight is (channel, "
                "num_filter/num_group, kernel...); bias (num_filter,). out = stride*(x-1) + "
                "dilate*(kernel-1)+1 - 2*pad + adj along each spatial axis; a non-zero "
                "target_shape sets the output size and derives pad and adj from it (MXNet's "
                "rule). no_bias defaults to True.")
            .input("data", "Input data.")
            .input("weight", "Weight.")
            .optional_input("bias", "Bias (absent when no_bias=True, the default).")),
    true, 512)
    .input_shapes_fn([](const OpParams& p, std::vector<Shape>* in) {
      fill_conv_params(p, in, true);
    })
    .param("adj", ParamType::kShape, ParamValue::of_shape(Shape()),
           "Extra size added to one side of the output: (w,) or (h, w); must be < stride.")
    .param("target_shape", ParamType::kShape, ParamValue::of_shape(Shape()),
           "Output spatial shape: (w,) or (h, w); when given, pad and adj are computed.")
    .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
      check_param_inputs(p, in.size());
      deconv_geom(p, in, &(*out)[0]);
    })
    .type_fn(real_type())
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      check_param_inputs(p, in.size());
      const ConvGeom g = deconv_geom(p, shapes_of(in, 2), nullptr);
      const bool bias = !p.get_bool("no_bias"), dnnl = dnnl_dtype(out);
      run_real(in, out, [&](auto tag, const std::vector<TBlob>& i, const std::vector<TBlob>& o) {
        using T = decltype(tag);
        // the data gradient of the convolution from the output back to this input
        run_backward<T>(dnnl, g, i[0].ptr<T>(), nullptr, i[1].ptr<T>(), o[0].ptr<T>(), nullptr,
                        nullptr);
        if (bias) add_bias<T>(g.N, g.C, g.HW(), i[2].ptr<T>(), o[0].ptr<T>());
      });
    })
    .grad([](const NodePtr& n, const std::vector<NodeEntry>& og) {
      const bool has_bias = n->inputs.size() > 2 && !n->params.get_bool("no_bias");
      return backward_entries("_backward_Deconvolution", n,
                              {og[0], fwd_input(n, 0), fwd_input(n, 1)},
                              has_bias ? std::vector<int>{0, 1, 2} : std::vector<int>{0, 1});
    });

MXN_REGISTER_OP(_backward_Deconvolution)
    .backward_for("Deconvolution")
    .input("out_grad")
    .input("data")
    .input("weight")
    .dynamic_outputs([](const OpParams& p) { return p.get_bool("no_bias") ? 2 : 3; })
    .shape_fn([](const OpParams& p, const std::vector<Shape>& in, std::vector<Shape>* out) {
      (*out)[0] = in[1];
      (*out)[1] = in[2];
      if (out->size() > 2) (*out)[2] = Shape{p.get_int("num_filter")};
    })
    .type_fn(real_type())
    .cpu([](const OpContext&, const OpParams& p, const std::vector<TBlob>& in,
            const std::vector<TBlob>& out) {
      const ConvGeom g = deconv_geom(p, {in[1].shape, in[2].shape}, nullptr);
      const bool bias = out.size() > 2, dnnl = dnnl_dtype(out);
      run_real(in, out, [&](auto tag, const std::vector<TBlob>& i, const std::vector<TBlob>& o) {
        using T = decltype(tag);
        // data grad: the convolution of out_grad; weight grad: out_grad is the conv input
        // and data the conv's output gradient.
        run_forward<T>(dnnl, g, i[0].ptr<T>(), i[2].ptr<T>(), nullptr, o[0].ptr<T>());
        run_backward<T>(dnnl, g, i[1].ptr<T>(), i[0].ptr<T>(), nullptr, nullptr, o[1].ptr<T>(),
                        nullptr);
        if (bias) bias_grad<T>(g.N, g.C, g.HW(), i[0].ptr<T>(), o[2].ptr<T>());
      });
    });

}  // namespace mxn::ops::nn
