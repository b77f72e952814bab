// oneDNN glue for float32 2-D convolution, pooling, normalisation and one-row FullyConnected
// (core/ops/nn_onednn.cc, compiled when the build finds oneDNN: MXN_USE_ONEDNN in
// cmake/toolchain.cmake). The operators in nn_convolution.cc, nn_pooling.cc, nn_norm.cc and
// nn_fully_connected.cc call these for float32 work above a threshold; everything else (and
// every build without oneDNN) runs the portable kernels, which stay the oracle.
//
// MXNEXT_ONEDNN (read at every call, so tests can switch it between calls):
//   unset / 1   oneDNN for convolutions of at least kMinMacs multiply-adds and pooling of at
//               least kMinPoolWork (default)
//   0           never: the reference kernels only
//   2           everything oneDNN can run, however small (tests)
#pragma once
#include <cstdint>
#include <memory>

namespace mxn::ops::nn::onednn {

// The geometry of a convolution from x (N, C, H, W) to y (N, F, OH, OW) with weights
// (F, C/G, kh, kw), MXNet's symmetric padding and dilations >= 1.
struct ConvShape {
  int64_t N, C, H, W, F, G, OH, OW, kh, kw, sh, sw, dh, dw, ph, pw;
};

// Below this many multiply-adds (N*F*(C/G)*kh*kw*OH*OW) the reference kernels are as fast or
// faster (reorders and dispatch dominate) and keep tiny convolutions, e.g. the conformance
// cases, bit-identical to the WebAssembly build. Measured: docs/architecture.md, "Operators".
constexpr int64_t kMinMacs = int64_t(1) << 22;

// Whether a call with this geometry should go to oneDNN (mode, threshold, non-empty sizes).
bool wanted(const ConvShape& g);

// The channel block of the layout oneDNN's convolutions choose on this CPU for channel counts
// that are multiples of it (16 with AVX-512, 8 with AVX2), in which the executor keeps training
// values (core/graph/train_layouts.cc); 0 where they choose none.
int64_t train_block();
// Which activations of a call are stored channel-blocked (nChw{train_block()}c) instead of
// NCHW: x the data (and its gradient), y the output (and its gradient). With either, the
// primitive uses its own layouts also for 1x1 kernels on large maps.
struct ActFormats {
  bool x = false, y = false;
};

// Each returns false (having written nothing) when oneDNN has no primitive for the geometry;
// the caller then runs the reference kernel. Thread-safe.
// y = conv(x, w) (+ bias b when not null).
bool conv_forward(const ConvShape& g, const float* x, const float* w, const float* b, float* y,
                  ActFormats f = {});
// Any of dx, dw, db may be null (not wanted). dx = conv^T(dy, w); dw = dy . im2col(x)^T summed
// over the batch; db = dy summed over batch and positions. x is read only for dw, w only for
// dx.
bool conv_backward(const ConvShape& g, const float* dy, const float* x, const float* w, float* dx,
                   float* dw, float* db, ActFormats f = {});

// ---- BatchNorm in training on channel-blocked values (nn_norm.cc) ----------------------------
// Batch statistics over x (N, C, H, W) stored nChw{train_block()}c, eps > 0. Forward: y =
// (x - mean) / sqrt(var + eps) * scale + shift, writing the batch mean and (biased) variance.
// Backward: dx, dscale = sum(dy * xhat), dshift = sum(dy) from the forward's mean and variance.
// False (nothing written) where oneDNN has no jit kernel for it.
struct BnShape {
  int64_t N, C, H, W;
  float eps;
};
bool bn_forward_blocked(const BnShape& g, const float* x, const float* scale, const float* shift,
                        float* y, float* mean, float* var);
bool bn_backward_blocked(const BnShape& g, const float* x, const float* dy, const float* mean,
                         const float* var, const float* scale, float* dx, float* dscale,
                         float* dshift);

// oneDNN copies whole tensors into its layouts through the kernel workspace, so a call would
// briefly hold extra copies the size of its largest activation (VGG-16 at batch 64: 9.1 GB peak
// instead of 5.6 GB). Callers run a batch in calls of this many images (about kChunkBytes per
// tensor; MXNEXT_ONEDNN_CHUNK_BYTES overrides it, and the tests make chunks of one or two).
constexpr int64_t kChunkBytes = int64_t(64) << 20;
int64_t images_per_call(const ConvShape& g);

// ---- pooling (nn_pooling.cc) ---------------------------------------------------------------
// 2-D pooling of x (N, C, H, W) into y (N, C, OH, OW), windows kh x kw at stride (sh, sw) from
// offset -(ph, pw); the bottom and right windows may reach past the padding (MXNet's "full"
// convention). Max, or average over the window within the padded input (include_pad) or over
// its inputs only.
struct PoolShape {
  int64_t N, C, H, W, OH, OW, kh, kw, sh, sw, ph, pw;
  bool max, include_pad;
};
// Below this much work (output elements x window) the portable kernels keep pooling and LRN
// (and the small conformance cases bit-identical to WebAssembly: oneDNN averages in its own
// order). MXNEXT_ONEDNN selects as for convolutions.
constexpr int64_t kMinPoolWork = int64_t(1) << 16;
// False (nothing written) when mode or threshold say no, when oneDNN has no jit kernel, or
// when its average would divide differently from MXNet's (windows past the padding, with
// include_pad).
// f: x (and dx) and y (and dy) stored channel-blocked, as for convolutions.
bool pool_forward(const PoolShape& g, const float* x, float* y, ActFormats f = {});
// dx from dy, and from x for max pooling (its gradient goes to the first maximum of each
// window, as the portable kernel's); declines as pool_forward.
bool pool_backward(const PoolShape& g, const float* dy, const float* x, float* dx,
                   ActFormats f = {});

// ---- LRN (nn_norm.cc) ------------------------------------------------------------------------
// y = x (k + alpha / n * sum of x^2 over the n channels around)^-beta for x (N, C, H, W), as
// MXNet's LRN; inference only (the backward reads a normaliser oneDNN does not give). False
// (nothing written) when oneDNN has only a reference kernel for it or mode/threshold say no
// (kMinPoolWork elements x n).
struct LrnShape {
  int64_t N, C, H, W, n;
  float alpha, beta, k;
};
bool lrn_forward(const LrnShape& g, const float* x, float* y);

// ---- FullyConnected on one row (nn_fully_connected.cc) ---------------------------------------
// y(1, n) = x(1, k) . w(n, k)^T + beta * y through oneDNN's sgemm, whose matrix-vector kernel
// streams the weights faster than OpenBLAS's sgemv on this machine. Below kMinRowWeights
// weights (or with MXNEXT_ONEDNN=0) it declines, writing nothing; the caller then runs BLAS.
constexpr int64_t kMinRowWeights = int64_t(1) << 20;
bool fc_row_forward(int64_t n, int64_t k, const float* x, const float* w, float beta, float* y);

// ---- inference with post-operations (nn_conv_chain.cc) ----------------------------------------
// After the convolution and its bias: add another array of the output's shape (sum), then ReLU.
struct PostOps {
  bool sum = false;
  bool relu = false;
};

// Whether oneDNN has a primitive for (g, ops) (built and cached on first use).
bool has_post_ops_primitive(const ConvShape& g, PostOps ops);

// Weights and bias converted once into the layout of the primitive for (g, ops), for many calls.
struct PreparedWeights;

// w: (F, C/G, kh, kw) weights, b: F biases. Null when oneDNN has no primitive for (g, ops).
std::shared_ptr<const PreparedWeights> prepare_weights(const ConvShape& g, PostOps ops,
                                                       const float* w, const float* b);

// ---- values kept in oneDNN's layout between inference steps (core/graph/kept_layouts.cc) ---
// A oneDNN layout of an (N, C, H, W) value, channel-blocked (nChw16c or nChw8c, with C a
// multiple of the block, so it takes the bytes NCHW takes) or channels-last (nhwc), in which
// fused chains, pooling and concatenation hand values on without reordering them to NCHW and
// back. Opaque; compare with same_layout.
struct ActLayout;
bool same_layout(const ActLayout& a, const ActLayout& b);
// Channels per block, 0 for channels-last. Concatenating blocked values along channels moves
// the bytes NCHW's concatenation moves (one image's blocks are contiguous), so Concat runs
// unchanged on them.
int64_t block_channels(const ActLayout& l);
// The layout of l's format for dims (N, C, H, W); null when C is not a multiple of its block.
std::shared_ptr<const ActLayout> same_format(const ActLayout& l, int64_t N, int64_t C,
                                             int64_t H, int64_t W);
// The layouts of one conv_forward_prepared call over all of g's images: the data it reads
// and the output it writes. Null where that array is NCHW for the primitive, where oneDNN's
// layout is not a kept one, where the batch takes more than one call (images_per_call), or
// where oneDNN has no primitive.
std::shared_ptr<const ActLayout> chain_data_layout(const ConvShape& g, PostOps ops);
std::shared_ptr<const ActLayout> chain_output_layout(const ConvShape& g, PostOps ops);
// Pooling of x kept in layout `in` (g with the real N and C): the layout of its output (the
// same format), or null where oneDNN has no jit kernel or divides differently from MXNet.
std::shared_ptr<const ActLayout> pool_kept_output(const PoolShape& g, const ActLayout& in);
// y in that layout when out is not null, else in NCHW. False (nothing written) where
// pool_kept_output is null.
bool pool_forward_kept(const PoolShape& g, const ActLayout& in, const ActLayout* out,
                       const float* x, float* y);
// LRN (as lrn_forward) of x kept in layout `in`: its output's layout (in's), or null where
// oneDNN has no jit kernel for it; and the run, y in `out` or, when out is null, in NCHW.
std::shared_ptr<const ActLayout> lrn_kept_output(const LrnShape& g, const ActLayout& in);
bool lrn_forward_kept(const LrnShape& g, const ActLayout& in, const ActLayout* out,
                      const float* x, float* y);
// Where not null, the array is (x, addend) or is to be written (y) in this layout: the data
// in any kept layout (reordered when the primitive reads another), the addend and the output
// in chain_output_layout's.
struct ChainLayouts {
  const ActLayout* x = nullptr;
  const ActLayout* addend = nullptr;
  const ActLayout* y = nullptr;
};

// y = relu?(conv(x, w) + b (+ addend when ops.sum)) with weights prepared for (g', ops) where
// g' differs from g at most in N. The addend may be y itself, but must not overlap it
// otherwise; y must not overlap x. False (nothing written) when oneDNN has no primitive.
bool conv_forward_prepared(const ConvShape& g, PostOps ops, const PreparedWeights& w,
                           const float* x, const float* addend, float* y,
                           ChainLayouts kept = {});

}  // namespace mxn::ops::nn::onednn
