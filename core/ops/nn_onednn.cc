// oneDNN glue for float32 2-D convolution (see nn_onednn.h). Compiled only when the build has
// oneDNN (core/CMakeLists.txt drops this file otherwise).
//
// Layouts: the arrays are NCHW (weights OIHW / GOIHW); each primitive is created with
// format_tag::any and picks its own blocked layouts, so every call reorders its inputs into
// them and its outputs back (into kernel workspace from the pool). Exception: 1x1 kernels on
// maps of at least 14x14 keep the activations in NCHW (oneDNN then runs them as GEMMs): with
// so little work per element, reordering data and output cost more than the blocked kernel
// saved (measured 1.2-2x slower on ResNet-50's 56x56 and 28x28 1x1 layers). Inference chains
// (ForwardPostOps) are the other exception: the executor hands values between them in the
// blocked layouts (ActLayout), so they use blocked layouts for 1x1 kernels too.
//
// Cache: one entry per (primitive kind, full geometry, bias), holding the primitive, its
// layouts and its reorders, built on first use under a mutex and shared afterwards
// (executing a oneDNN primitive from several threads at once is safe; the scratchpad is ours,
// per call, so no state is shared between calls).
//
// Threads: oneDNN runs on OpenMP here. Each calling thread (engine workers, a thread helping
// in wait_all) gets the same OpenMP thread count, nn_num_threads() (MXNEXT_NN_THREADS, else
// the cores), set once per thread: a primitive splits its work by the thread count it was
// created with, so a fixed count keeps results identical run to run whichever thread runs
// it. Calls from the engine's two workers may run at once (two OpenMP teams): serialising
// them was measured no faster on two cores, and slower where independent convolutions
// overlap (docs/architecture.md, "Operators").
#include "core/ops/nn_onednn.h"

#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <unordered_map>

#include "core/base/env.h"
#include "core/base/error.h"
#include "core/op/workspace.h"
#include "core/ops/nn_util.h"

namespace mxn::ops::nn::onednn {
namespace {

using dnnl::memory;
using Tag = memory::format_tag;
using Dt = memory::data_type;

const dnnl::engine& cpu_engine() {
  static const dnnl::engine* e = new dnnl::engine(dnnl::engine::kind::cpu, 0);  // never freed
  return *e;
}

int mode() {
  const char* v = std::getenv("MXNEXT_ONEDNN");
  if (v == nullptr || v[0] == '\0') return 1;
  if (v[1] == '\0' && v[0] >= '0' && v[0] <= '2') return v[0] - '0';
  throw Error(ErrorCode::kInvalidArg, cat("MXNEXT_ONEDNN must be 0, 1 or 2, got '", v, "'"));
}

int threads() {
  static const int n = nn_num_threads();
  return n;
}

// The OpenMP thread count of the calling thread (its own ICV), set once per thread.
void set_thread_count() {
  thread_local int set = 0;
  if (set != threads()) {
    omp_set_num_threads(threads());
    set = threads();
  }
}

// ---- geometry ---------------------------------------------------------------------------
struct Descs {
  memory::dims src, wei, bias, dst, strides, dilates, pad;
  Tag wei_tag;
};

Descs descs_of(const ConvShape& g) {
  Descs d;
  d.src = {g.N, g.C, g.H, g.W};
  if (g.G == 1) {
    d.wei = {g.F, g.C, g.kh, g.kw};
    d.wei_tag = Tag::oihw;
  } else {  // (F, C/G, kh, kw) is (G, F/G, C/G, kh, kw) in memory
    d.wei = {g.G, g.F / g.G, g.C / g.G, g.kh, g.kw};
    d.wei_tag = Tag::goihw;
  }
  d.bias = {g.F};
  d.dst = {g.N, g.F, g.OH, g.OW};
  d.strides = {g.sh, g.sw};
  d.dilates = {g.dh - 1, g.dw - 1};  // oneDNN counts the gaps: 0 = none
  d.pad = {g.ph, g.pw};              // MXNet pads both sides alike (output size by floor)
  return d;
}

memory::desc plain(const memory::dims& dims, Tag t) { return memory::desc(dims, Dt::f32, t); }
memory::desc any(const memory::dims& dims) { return memory::desc(dims, Dt::f32, Tag::any); }

// The format of channel-blocked training values (train_block()).
Tag block_tag() { return train_block() == 8 ? Tag::nChw8c : Tag::nChw16c; }
Tag tag_of(bool blocked) { return blocked ? block_tag() : Tag::nchw; }
// The formats as a number, for cache keys.
int64_t format_bits(ActFormats f) { return (f.x ? 1 : 0) + (f.y ? 2 : 0); }

// The primitive's layout for the activations (data, output and their gradients): NCHW for
// 1x1 kernels on large maps (see the top of the file), else its choice.
memory::desc act(const ConvShape& g, const memory::dims& dims) {
  const bool nchw = g.kh == 1 && g.kw == 1 && g.OH * g.OW >= 14 * 14;
  return nchw ? plain(dims, Tag::nchw) : any(dims);
}

dnnl::primitive_attr user_scratchpad() {
  dnnl::primitive_attr a;
  a.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return a;
}

// A reorder between the user's layout and a primitive's; `needed` false when they agree.
struct Reorder {
  bool needed = false;
  dnnl::reorder prim;
  memory::desc scratch;
  void init(const memory::desc& from, const memory::desc& to) {
    if (from == to) return;
    dnnl::reorder::primitive_desc pd(cpu_engine(), from, cpu_engine(), to, user_scratchpad());
    scratch = pd.scratchpad_desc();
    prim = dnnl::reorder(pd);
    needed = true;
  }
};

// blocked: the primitive's own layouts for the activations even where act() keeps NCHW.
dnnl::convolution_forward::primitive_desc forward_pd(
    const ConvShape& g, bool bias, dnnl::prop_kind kind,
    const dnnl::primitive_attr& attr = user_scratchpad(), bool blocked = false,
    dnnl::algorithm alg = dnnl::algorithm::convolution_direct) {
  const Descs d = descs_of(g);
  const memory::desc src = blocked ? any(d.src) : act(g, d.src);
  const memory::desc dst = blocked ? any(d.dst) : act(g, d.dst);
  const auto desc =
      bias ? dnnl::convolution_forward::desc(kind, alg, src, any(d.wei), plain(d.bias, Tag::x),
                                             dst, d.strides, d.dilates, d.pad, d.pad)
           : dnnl::convolution_forward::desc(kind, alg, src, any(d.wei), dst, d.strides,
                                             d.dilates, d.pad, d.pad);
  return dnnl::convolution_forward::primitive_desc(desc, attr, cpu_engine());
}

// Inference chains with 3x3 kernels, stride 1, no dilation and no groups ask for the
// Winograd algorithm (oneDNN's F(4x4, 3x3) and F(2x2, 3x3) kernels on AVX-512), unless
// MXNEXT_CONV_WINOGRAD=0 (read at every call, as MXNEXT_ONEDNN is).
bool winograd_for(const ConvShape& g) {
  const char* v = std::getenv("MXNEXT_CONV_WINOGRAD");
  const bool on = v == nullptr || std::strcmp(v, "0") != 0;
  return on && g.kh == 3 && g.kw == 3 && g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 &&
         g.G == 1;
}

// The user's arrays' layouts (NCHW data, MXNet's weights, the bias vector), which each
// primitive's reorders convert from and to.
// Channel-blocked instead of NCHW where f says so (training layouts).
struct UserDescs {
  memory::desc u_src, u_wei, u_bias, u_dst;
  explicit UserDescs(const Descs& d, ActFormats f = {})
      : u_src(plain(d.src, tag_of(f.x))),
        u_wei(plain(d.wei, d.wei_tag)),
        u_bias(plain(d.bias, Tag::x)),
        u_dst(plain(d.dst, tag_of(f.y))) {}
};

// The activations' layout for a primitive: its own choice when any array of the call is
// blocked, else act()'s.
memory::desc act_for(const ConvShape& g, const memory::dims& dims, ActFormats f) {
  return f.x || f.y ? any(dims) : act(g, dims);
}

// A forward primitive and its reorders from and to the user's layouts.
struct ForwardBase : UserDescs {
  dnnl::convolution_forward prim;
  memory::desc src, wei, dst, scratch;  // the primitive's layouts
  Reorder src_r, wei_r, dst_r;
  ForwardBase(const ConvShape& g, const dnnl::convolution_forward::primitive_desc& pd,
              ActFormats f = {})
      : UserDescs(descs_of(g), f) {
    src = pd.src_desc();
    wei = pd.weights_desc();
    dst = pd.dst_desc();
    scratch = pd.scratchpad_desc();
    src_r.init(u_src, src);
    wei_r.init(u_wei, wei);
    dst_r.init(dst, u_dst);
    prim = dnnl::convolution_forward(pd);
  }
};

struct Forward : ForwardBase {
  Forward(const ConvShape& g, bool bias, ActFormats f)
      : ForwardBase(g,
                    forward_pd(g, bias, dnnl::prop_kind::forward_training, user_scratchpad(),
                               f.x || f.y),
                    f) {}
};

// oneDNN's reference kernels for pooling and LRN are slower than the portable ones (VGG-16's
// first 2x2 pooling: 50 ms against 12): where it offers no jit kernel, decline.
void require_jit(const dnnl::primitive_desc_base& pd) {  // "jit:avx2", "lrn_jit:avx512_common"
  if (std::string(pd.impl_info_str()).find("jit") == std::string::npos) {
    throw dnnl::error(dnnl_unimplemented, "no jit kernel");
  }
}

// An inference convolution with a bias and post-operations (conv_forward_prepared), on the
// primitive's own layouts also for 1x1 kernels on large maps: in inference the chains hand
// their outputs on in those layouts (core/graph/kept_layouts.cc), so the reorders that make
// act() keep NCHW for training mostly disappear, and oneDNN's NCHW GEMM path applies
// post-operations in a slow separate pass. Measured with the hand-offs, against act()'s NCHW
// and the add and ReLU in a loop after the GEMM: ResNet-50 batch 1 41.7-42.5 -> 40.0-40.3
// ms, batch 16 0.643-0.671 -> 0.617-0.638 s; Inception-BN batch 1 22.2-22.6 -> 20.5-21.2 ms.
//
// The propagation kind, by the images per call: forward_inference picks the brgconv kernels on
// NHWC (kept between steps as well), forward_training the jit kernels on nChw16c. For one
// image brgconv is faster (ResNet-18 17.4 -> 16.7 ms, Inception-BN 20.7 -> 20.2 ms, the others
// within noise); for 16 slower on every layer (ResNet-18 307 against 283 ms, VGG-16 2.57 against
// 2.44 s).
dnnl::prop_kind inference_kind(int64_t N) {
  return N == 1 ? dnnl::prop_kind::forward_inference : dnnl::prop_kind::forward_training;
}

struct ForwardPostOps : ForwardBase {
  Reorder dst_in_r;  // the addend into the output's layout, for sum
  static dnnl::primitive_attr attr(PostOps ops) {
    dnnl::post_ops po;
    if (ops.sum) po.append_sum(1.f);
    if (ops.relu) po.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
    dnnl::primitive_attr a = user_scratchpad();
    a.set_post_ops(po);
    return a;
  }
  // Winograd as an inference primitive at any batch size: its weights are then transformed
  // once, into the prepared weights, instead of at every call as in training primitives
  // (VGG-16 batch-16 inference 2.31-2.34 -> 1.00-1.06 s). Where oneDNN has no Winograd
  // kernel, the direct algorithm.
  static dnnl::convolution_forward::primitive_desc pd_of(const ConvShape& g, PostOps ops) {
    if (winograd_for(g)) {
      try {
        return forward_pd(g, true, dnnl::prop_kind::forward_inference, attr(ops), true,
                          dnnl::algorithm::convolution_winograd);
      } catch (const dnnl::error&) {
      }
    }
    return forward_pd(g, true, inference_kind(g.N), attr(ops), true);
  }
  ForwardPostOps(const ConvShape& g, PostOps ops) : ForwardBase(g, pd_of(g, ops)) {
    if (ops.sum) dst_in_r.init(u_dst, dst);
  }
};

dnnl::algorithm pool_alg(const PoolShape& g) {
  return g.max           ? dnnl::algorithm::pooling_max
         : g.include_pad ? dnnl::algorithm::pooling_avg_include_padding
                         : dnnl::algorithm::pooling_avg_exclude_padding;
}

// The bottom and right padding the windows reach ("full" windows may pass MXNet's padding).
memory::dims pool_pad_r(const PoolShape& g) {
  return {(g.OH - 1) * g.sh + g.kh - g.H - g.ph, (g.OW - 1) * g.sw + g.kw - g.W - g.pw};
}

dnnl::pooling_forward::desc pool_desc(const PoolShape& g, dnnl::prop_kind kind,
                                      Tag tag = Tag::nchw) {
  return dnnl::pooling_forward::desc(kind, pool_alg(g), plain({g.N, g.C, g.H, g.W}, tag),
                                     plain({g.N, g.C, g.OH, g.OW}, tag), {g.sh, g.sw},
                                     {g.kh, g.kw}, {g.ph, g.pw}, pool_pad_r(g));
}

// Pooling forward (inference) in one layout (`tag`), and the reorder of its output to NCHW
// (for a kept input whose output is wanted in NCHW).
struct Pooling {
  dnnl::pooling_forward prim;
  memory::desc src, dst, scratch;
  Reorder to_nchw;
  Pooling(const PoolShape& g, Tag tag) {
    const dnnl::pooling_forward::primitive_desc pd(
        pool_desc(g, dnnl::prop_kind::forward_inference, tag), user_scratchpad(), cpu_engine());
    require_jit(pd);
    src = pd.src_desc();
    dst = pd.dst_desc();
    scratch = pd.scratchpad_desc();
    to_nchw.init(dst, plain({g.N, g.C, g.OH, g.OW}, Tag::nchw));
    prim = dnnl::pooling_forward(pd);
  }
};

// Pooling's backward. oneDNN's max-pooling backward reads the forward's argmax (its
// workspace), which the executor does not keep: the forward runs again here to make it (a
// jit pass, a few times cheaper than searching each window for its maximum).
struct PoolingBackward {
  dnnl::pooling_forward fwd;  // max only
  dnnl::pooling_backward prim;
  memory::desc src, dst, ws, fwd_scratch, scratch;
  // data, output and their gradients in the format `tag`
  PoolingBackward(const PoolShape& g, Tag tag) {
    const auto fwd_d = pool_desc(g, dnnl::prop_kind::forward_training, tag);
    const dnnl::pooling_forward::primitive_desc fpd(fwd_d, user_scratchpad(), cpu_engine());
    require_jit(fpd);
    const dnnl::pooling_backward::desc desc(pool_alg(g), fpd.src_desc(), fpd.dst_desc(),
                                            {g.sh, g.sw}, {g.kh, g.kw}, {g.ph, g.pw},
                                            pool_pad_r(g));
    const dnnl::pooling_backward::primitive_desc pd(desc, user_scratchpad(), cpu_engine(), fpd);
    require_jit(pd);
    src = fpd.src_desc();
    dst = fpd.dst_desc();
    if (g.max) {
      ws = fpd.workspace_desc();
      fwd_scratch = fpd.scratchpad_desc();
      fwd = dnnl::pooling_forward(fpd);
    }
    scratch = pd.scratchpad_desc();
    prim = dnnl::pooling_backward(pd);
  }
};

// Across-channel LRN, inference, in one layout (`tag`); only oneDNN's jit kernels.
struct Lrn {
  dnnl::lrn_forward prim;
  memory::desc md, scratch;
  Reorder to_nchw;  // of its output, for a kept input whose output is wanted in NCHW
  Lrn(const LrnShape& g, Tag tag) : md(plain({g.N, g.C, g.H, g.W}, tag)) {
    const dnnl::lrn_forward::desc desc(dnnl::prop_kind::forward_inference,
                                       dnnl::algorithm::lrn_across_channels, md, g.n, g.alpha,
                                       g.beta, g.k);
    const dnnl::lrn_forward::primitive_desc pd(desc, user_scratchpad(), cpu_engine());
    require_jit(pd);
    scratch = pd.scratchpad_desc();
    to_nchw.init(md, plain({g.N, g.C, g.H, g.W}, Tag::nchw));
    prim = dnnl::lrn_forward(pd);
  }
};

struct BackwardData : UserDescs {
  dnnl::convolution_backward_data prim;
  memory::desc diff_src, wei, diff_dst, scratch;
  Reorder diff_dst_r, wei_r, diff_src_r;
  BackwardData(const ConvShape& g, ActFormats f) : UserDescs(descs_of(g), f) {
    const Descs d = descs_of(g);
    const auto hint =
        forward_pd(g, false, dnnl::prop_kind::forward_training, user_scratchpad(), f.x || f.y);
    const dnnl::convolution_backward_data::desc desc(
        dnnl::algorithm::convolution_direct, act_for(g, d.src, f), any(d.wei),
        act_for(g, d.dst, f), d.strides, d.dilates, d.pad, d.pad);
    const dnnl::convolution_backward_data::primitive_desc pd(desc, user_scratchpad(),
                                                             cpu_engine(), hint);
    diff_src = pd.diff_src_desc();
    wei = pd.weights_desc();
    diff_dst = pd.diff_dst_desc();
    scratch = pd.scratchpad_desc();
    diff_dst_r.init(u_dst, diff_dst);
    wei_r.init(u_wei, wei);
    diff_src_r.init(diff_src, u_src);
    prim = dnnl::convolution_backward_data(pd);
  }
};

struct BackwardWeights : UserDescs {
  dnnl::convolution_backward_weights prim;
  memory::desc src, diff_wei, diff_dst, scratch;
  Reorder src_r, diff_dst_r, diff_wei_r;
  BackwardWeights(const ConvShape& g, bool bias, ActFormats f) : UserDescs(descs_of(g), f) {
    const Descs d = descs_of(g);
    const auto hint =
        forward_pd(g, bias, dnnl::prop_kind::forward_training, user_scratchpad(), f.x || f.y);
    using W = dnnl::convolution_backward_weights;
    const memory::desc s = act_for(g, d.src, f), t = act_for(g, d.dst, f);
    const auto desc =
        bias ? W::desc(dnnl::algorithm::convolution_direct, s, any(d.wei), plain(d.bias, Tag::x),
                       t, d.strides, d.dilates, d.pad, d.pad)
             : W::desc(dnnl::algorithm::convolution_direct, s, any(d.wei), t, d.strides,
                       d.dilates, d.pad, d.pad);
    const W::primitive_desc pd(desc, user_scratchpad(), cpu_engine(), hint);
    src = pd.src_desc();
    diff_wei = pd.diff_weights_desc();
    diff_dst = pd.diff_dst_desc();
    scratch = pd.scratchpad_desc();
    src_r.init(u_src, src);
    diff_dst_r.init(u_dst, diff_dst);
    diff_wei_r.init(diff_wei, u_wei);
    prim = W(pd);
  }
};

// ---- the cache ------------------------------------------------------------------------------
struct Key {
  int64_t v[18];
  bool operator==(const Key& o) const { return std::memcmp(v, o.v, sizeof(v)) == 0; }
};
struct KeyHash {
  size_t operator()(const Key& k) const {
    uint64_t h = 1469598103934665603ull;  // FNV-1a over the fields
    for (int64_t x : k.v) {
      h ^= static_cast<uint64_t>(x);
      h *= 1099511628211ull;
    }
    return static_cast<size_t>(h);
  }
};

Key key_of(const ConvShape& g, int64_t kind, bool bias) {
  return Key{{kind, bias ? 1 : 0, g.N, g.C, g.H, g.W, g.F, g.G, g.OH, g.OW, g.kh, g.kw, g.sh,
              g.sw, g.dh, g.dw, g.ph, g.pw}};
}

constexpr size_t kMaxEntries = 512;  // per kind; beyond, the cache starts again

// The cached entry of type E for (g, bias), built on first use; null when oneDNN has no
// implementation for it (remembered too).
// The cached E for key k, made by make() on first use; null (remembered too) when oneDNN has
// no implementation for it or make declines. One cache per E, shared by every caller.
template <typename E>
struct Cache {
  std::mutex mu;
  std::unordered_map<Key, std::shared_ptr<E>, KeyHash> map;
  static Cache& get() {
    static Cache* c = new Cache;  // never freed, as the engine
    return *c;
  }
};

template <typename E, typename Make>
std::shared_ptr<E> cached(const Key& k, Make make) {
  Cache<E>& c = Cache<E>::get();
  std::lock_guard<std::mutex> lock(c.mu);
  auto it = c.map.find(k);
  if (it != c.map.end()) return it->second;
  if (c.map.size() >= kMaxEntries) c.map.clear();
  std::shared_ptr<E> e;
  try {
    set_thread_count();  // primitives are created for the thread count they will run with
    e = make();
  } catch (const dnnl::error&) {
    e = nullptr;  // unimplemented here: the caller runs the reference kernel
  }
  c.map.emplace(k, e);
  return e;
}

// The cached convolution entry of type E for (g, bias).
template <typename E, typename... A>
std::shared_ptr<E> entry(const ConvShape& g, int64_t kind, bool bias, A... args) {
  return cached<E>(key_of(g, kind, bias), [&] { return std::make_shared<E>(g, args...); });
}

// Post-operation entries are kinds 3 to 6 of the cache.
int64_t kind_of(const ConvShape& g, PostOps ops) {
  return 3 + (ops.sum ? 1 : 0) + (ops.relu ? 2 : 0) + (winograd_for(g) ? 8 : 0);
}

// One call: memory objects on the user's arrays or on pooled workspace, reorders, execution.
class Call {
 public:
  Call() : stream_(cpu_engine()) { set_thread_count(); }

  memory wrap(const memory::desc& md, const void* p) {
    return memory(md, cpu_engine(), const_cast<void*>(p));
  }
  memory fresh(const memory::desc& md) {
    return memory(md, cpu_engine(), ws_.alloc_bytes(md.get_size()));
  }
  // The user's array p (layout u) in the primitive's layout md.
  memory in(const Reorder& r, const memory::desc& u, const memory::desc& md, const void* p) {
    memory user = wrap(u, p);
    if (!r.needed) return user;
    memory m = fresh(md);
    run(r.prim, {{DNNL_ARG_FROM, user}, {DNNL_ARG_TO, m}}, r.scratch);
    return m;
  }
  // Array p in layout `from` as layout `to`: p itself when they agree, else a copy reordered
  // by a primitive made for the call (oneDNN's primitive cache keeps it).
  memory convert(const memory::desc& from, const void* p, const memory::desc& to) {
    if (from == to) return wrap(to, p);
    Reorder r;
    r.init(from, to);
    memory m = fresh(to);
    run(r.prim, {{DNNL_ARG_FROM, wrap(from, p)}, {DNNL_ARG_TO, m}}, r.scratch);
    return m;
  }
  // m into the user's array p in layout `to`.
  void convert_into(const memory& m, const memory::desc& to, void* p) {
    Reorder r;
    r.init(m.get_desc(), to);
    if (r.needed) {
      run(r.prim, {{DNNL_ARG_FROM, m}, {DNNL_ARG_TO, wrap(to, p)}}, r.scratch);
    } else {
      std::memcpy(p, m.get_data_handle(), to.get_size());
    }
  }
  // Where the primitive writes an output for the user's array p: p itself, or workspace.
  memory out(const Reorder& r, const memory::desc& u, const memory::desc& md, void* p) {
    return r.needed ? fresh(md) : wrap(u, p);
  }
  // Copies an output written by out() into the user's array.
  void back(const Reorder& r, const memory& m, const memory::desc& u, void* p) {
    if (r.needed) run(r.prim, {{DNNL_ARG_FROM, m}, {DNNL_ARG_TO, wrap(u, p)}}, r.scratch);
  }
  void run(const dnnl::primitive& prim, std::unordered_map<int, memory> args,
           const memory::desc& scratch) {
    if (scratch.get_size() > 0) args.emplace(DNNL_ARG_SCRATCHPAD, fresh(scratch));
    prim.execute(stream_, args);
    stream_.wait();
  }

 private:
  dnnl::stream stream_;
  Workspace ws_;
};

[[noreturn]] void rethrow(const dnnl::error& e) {
  throw Error(ErrorCode::kInternal, cat("oneDNN: ", e.what()));
}

// A primitive with one input (src) and one output (dst) on the user's arrays.
void run_src_dst(const dnnl::primitive& prim, const memory::desc& src, const memory::desc& dst,
                 const memory::desc& scratch, const float* x, float* y) {
  try {
    Call c;
    c.run(prim, {{DNNL_ARG_SRC, c.wrap(src, x)}, {DNNL_ARG_DST, c.wrap(dst, y)}}, scratch);
  } catch (const dnnl::error& err) {
    rethrow(err);
  }
}

}  // namespace

struct PreparedWeights {
  memory::desc wei;  // the primitive's weights layout
  std::shared_ptr<float> wei_data, bias;  // 64-byte aligned, as oneDNN's own allocations
};

namespace {
std::shared_ptr<float> aligned_floats(size_t bytes) {
  void* p = std::aligned_alloc(64, (std::max<size_t>(bytes, 1) + 63) / 64 * 64);
  if (p == nullptr) throw Error(ErrorCode::kOutOfMemory, cat("oneDNN: cannot allocate ", bytes, " bytes"));
  return std::shared_ptr<float>(static_cast<float*>(p), [](float* q) { std::free(q); });
}
}  // namespace

int64_t images_per_call(const ConvShape& g) {
  const int64_t bytes = env_int("MXNEXT_ONEDNN_CHUNK_BYTES", kChunkBytes);
  const int64_t per_image = int64_t(sizeof(float)) * std::max(g.C * g.H * g.W, g.F * g.OH * g.OW);
  return std::max<int64_t>(1, std::min(g.N, bytes / std::max<int64_t>(1, per_image)));
}

bool has_post_ops_primitive(const ConvShape& g, PostOps ops) {
  return entry<ForwardPostOps>(g, kind_of(g, ops), true, ops) != nullptr;
}

std::shared_ptr<const PreparedWeights> prepare_weights(const ConvShape& g, PostOps ops,
                                                       const float* w, const float* b) {
  const std::shared_ptr<ForwardPostOps> e = entry<ForwardPostOps>(g, kind_of(g, ops), true, ops);
  if (!e) return nullptr;
  auto p = std::make_shared<PreparedWeights>();
  try {
    p->wei = e->wei;
    p->wei_data = aligned_floats(e->wei.get_size());
    p->bias = aligned_floats(sizeof(float) * static_cast<size_t>(g.F));
    std::memcpy(p->bias.get(), b, sizeof(float) * static_cast<size_t>(g.F));
    Call c;
    const memory to = c.wrap(e->wei, p->wei_data.get());
    if (e->wei_r.needed) {
      c.run(e->wei_r.prim, {{DNNL_ARG_FROM, c.wrap(e->u_wei, w)}, {DNNL_ARG_TO, to}},
            e->wei_r.scratch);
    } else {
      std::memcpy(p->wei_data.get(), w, e->wei.get_size());
    }
  } catch (const dnnl::error& err) {
    rethrow(err);
  }
  return p;
}

// A kept layout: md, in the format `tag`: channel-blocked with `block` channels a block, or
// channels-last (nhwc) with block 0.
struct ActLayout {
  memory::desc md;
  Tag tag;
  int64_t block;
};

bool same_layout(const ActLayout& a, const ActLayout& b) { return a.md == b.md; }

int64_t block_channels(const ActLayout& l) { return l.block; }

namespace {
// The formats kept between steps. In the blocked ones, one image's channels c..c+block-1 are
// one contiguous run, so a concatenation along channels moves the same bytes as in NCHW;
// channels-last values are concatenated pixel by pixel (concat_channels_last).
constexpr std::pair<Tag, int64_t> kKeptFormats[] = {
    {Tag::nChw16c, 16}, {Tag::nChw8c, 8}, {Tag::nhwc, 0}};

// md as a kept layout: one of those formats, taking no more bytes than NCHW (no padded channel
// block); else null.
std::shared_ptr<const ActLayout> kept_layout(const memory::desc& md) {
  const memory::dims d = md.dims();
  if (d.size() != 4) return nullptr;
  for (const auto& [tag, block] : kKeptFormats) {
    if ((block == 0 || d[1] % block == 0) && md == plain(d, tag)) {
      return std::make_shared<const ActLayout>(ActLayout{md, tag, block});
    }
  }
  return nullptr;
}

// The cached post-operation primitive for one call over all of g's images, or null.
std::shared_ptr<ForwardPostOps> whole_batch_entry(const ConvShape& g, PostOps ops) {
  if (images_per_call(g) != g.N) return nullptr;
  return entry<ForwardPostOps>(g, kind_of(g, ops), true, ops);
}

bool pool_divides_as_mxnet(const PoolShape& g);
std::shared_ptr<Pooling> pool_entry(const PoolShape& g, Tag tag);

// A primitive from kept x (src) to y in dst's layout when out is not null (it must be dst),
// else, through workspace and to_nchw, in NCHW.
void run_kept(const dnnl::primitive& prim, const memory::desc& src, const memory::desc& dst,
              const memory::desc& scratch, const Reorder& to_nchw, const ActLayout* out,
              const float* x, float* y) {
  MXN_CHECK(out == nullptr || out->md == dst, ErrorCode::kInternal,
            "an output is wanted in a layout its primitive does not write");
  try {
    Call c;
    const memory d = out != nullptr || !to_nchw.needed ? c.wrap(dst, y) : c.fresh(dst);
    c.run(prim, {{DNNL_ARG_SRC, c.wrap(src, x)}, {DNNL_ARG_DST, d}}, scratch);
    if (out == nullptr && to_nchw.needed) {
      c.run(to_nchw.prim,
            {{DNNL_ARG_FROM, d}, {DNNL_ARG_TO, c.wrap(plain(dst.dims(), Tag::nchw), y)}},
            to_nchw.scratch);
    }
  } catch (const dnnl::error& err) {
    rethrow(err);
  }
}

// The pooling entry for kept x in layout `in`, or null.
std::shared_ptr<Pooling> pooling_kept_entry(const PoolShape& g, const ActLayout& in) {
  if (!pool_divides_as_mxnet(g) || !(in.md == plain({g.N, g.C, g.H, g.W}, in.tag))) {
    return nullptr;
  }
  return pool_entry(g, in.tag);
}
}  // namespace

std::shared_ptr<const ActLayout> same_format(const ActLayout& l, int64_t N, int64_t C,
                                             int64_t H, int64_t W) {
  if (l.block != 0 && C % l.block != 0) return nullptr;
  return std::make_shared<const ActLayout>(ActLayout{plain({N, C, H, W}, l.tag), l.tag, l.block});
}

std::shared_ptr<const ActLayout> pool_kept_output(const PoolShape& g, const ActLayout& in) {
  const std::shared_ptr<Pooling> e = pooling_kept_entry(g, in);
  return e ? kept_layout(e->dst) : nullptr;
}

bool pool_forward_kept(const PoolShape& g, const ActLayout& in, const ActLayout* out,
                       const float* x, float* y) {
  const std::shared_ptr<Pooling> e = pooling_kept_entry(g, in);
  if (!e) return false;
  run_kept(e->prim, e->src, e->dst, e->scratch, e->to_nchw, out, x, y);
  return true;
}

std::shared_ptr<const ActLayout> chain_data_layout(const ConvShape& g, PostOps ops) {
  const std::shared_ptr<ForwardPostOps> e = whole_batch_entry(g, ops);
  return e ? kept_layout(e->src) : nullptr;
}

std::shared_ptr<const ActLayout> chain_output_layout(const ConvShape& g, PostOps ops) {
  const std::shared_ptr<ForwardPostOps> e = whole_batch_entry(g, ops);
  return e ? kept_layout(e->dst) : nullptr;
}

bool conv_forward_prepared(const ConvShape& g, PostOps ops, const PreparedWeights& w,
                           const float* x, const float* addend, float* y, ChainLayouts kept) {
  const std::shared_ptr<ForwardPostOps> e = entry<ForwardPostOps>(g, kind_of(g, ops), true, ops);
  if (!e) return false;
  auto check = [&](const ActLayout* l, const memory::desc& md, const char* what) {
    MXN_CHECK(l == nullptr || l->md == md, ErrorCode::kInternal,
              "conv chain: its ", what, " arrives in a layout its primitive does not use");
  };
  check(kept.addend, e->dst, "addend");
  check(kept.y, e->dst, "output");
  try {
    Call c;
    std::unordered_map<int, memory> args;
    args.emplace(DNNL_ARG_SRC, kept.x ? c.convert(kept.x->md, x, e->src)
                                      : c.in(e->src_r, e->u_src, e->src, x));
    // (prepared for another batch size, which may have chosen another layout)
    args.emplace(DNNL_ARG_WEIGHTS, c.convert(w.wei, w.wei_data.get(), e->wei));
    args.emplace(DNNL_ARG_BIAS, c.wrap(e->u_bias, w.bias.get()));
    // The output in the primitive's layout: y itself when kept so, else y or workspace.
    const memory dst = kept.y ? c.wrap(e->dst, y) : c.out(e->dst_r, e->u_dst, e->dst, y);
    void* dst_p = dst.get_data_handle();
    if (ops.sum && !kept.addend && e->dst_in_r.needed) {
      // The NCHW addend into the output's layout; through workspace when it is y itself.
      const memory to = dst_p == addend ? c.fresh(e->dst) : dst;
      c.run(e->dst_in_r.prim, {{DNNL_ARG_FROM, c.wrap(e->u_dst, addend)}, {DNNL_ARG_TO, to}},
            e->dst_in_r.scratch);
      if (to.get_data_handle() != dst_p) {
        std::memcpy(dst_p, to.get_data_handle(), e->dst.get_size());
      }
    } else if (ops.sum && addend != dst_p) {  // already in the output's layout
      std::memcpy(dst_p, addend, e->dst.get_size());
    }
    args.emplace(DNNL_ARG_DST, dst);
    c.run(e->prim, std::move(args), e->scratch);
    if (!kept.y) c.back(e->dst_r, dst, e->u_dst, y);
  } catch (const dnnl::error& err) {
    rethrow(err);
  }
  return true;
}

namespace {
// Whether pooling or LRN over `elements` outputs, `work` in all, goes to oneDNN.
bool work_wanted(int64_t elements, int64_t work) {
  const int m = mode();
  if (m == 0 || elements == 0) return false;
  return m == 2 || work >= kMinPoolWork;
}

// Whether oneDNN divides as MXNet: its include-padding average divides by kh * kw even where
// a window reaches past the padding; MXNet's by the part within the padded input.
bool pool_divides_as_mxnet(const PoolShape& g) {
  const bool past = (g.OH - 1) * g.sh + g.kh > g.H + 2 * g.ph ||
                    (g.OW - 1) * g.sw + g.kw > g.W + 2 * g.pw;
  return g.max || !g.include_pad || !past;
}

// Whether pooling of this geometry goes to oneDNN (mode, threshold, MXNet's divisors).
bool pool_wanted(const PoolShape& g) {
  const int64_t outputs = g.N * g.C * g.OH * g.OW;
  return work_wanted(outputs, outputs * g.kh * g.kw) && pool_divides_as_mxnet(g);
}

// The key of pooling in the format `tag` (of both arrays).
Key pool_key(const PoolShape& g, Tag tag) {
  return Key{{7, (g.max ? 1 : 0) + (g.include_pad ? 2 : 0), g.N, g.C, g.H, g.W, g.OH, g.OW, g.kh,
              g.kw, g.sh, g.sw, g.ph, g.pw, static_cast<int64_t>(tag), 0, 0, 0}};
}

std::shared_ptr<Pooling> pool_entry(const PoolShape& g, Tag tag) {
  return cached<Pooling>(pool_key(g, tag), [&] { return std::make_shared<Pooling>(g, tag); });
}
}  // namespace

// Training pooling runs in the data's format (oneDNN's jit kernels take one format for both
// arrays); an output or output gradient in the other is reordered (a global pooling's (N, C,
// 1, 1) output read by Flatten, say).
bool pool_forward(const PoolShape& g, const float* x, float* y, ActFormats f) {
  if (!pool_wanted(g)) return false;
  const std::shared_ptr<Pooling> e = pool_entry(g, tag_of(f.x));
  if (!e) return false;
  if (f.x == f.y) {
    run_src_dst(e->prim, e->src, e->dst, e->scratch, x, y);
    return true;
  }
  try {
    Call c;
    const memory d = c.fresh(e->dst);
    c.run(e->prim, {{DNNL_ARG_SRC, c.wrap(e->src, x)}, {DNNL_ARG_DST, d}}, e->scratch);
    c.convert_into(d, plain(e->dst.dims(), tag_of(f.y)), y);
  } catch (const dnnl::error& err) {
    rethrow(err);
  }
  return true;
}

bool pool_backward(const PoolShape& g, const float* dy, const float* x, float* dx,
                   ActFormats f) {
  if (!pool_wanted(g)) return false;
  const Tag tag = tag_of(f.x);
  const std::shared_ptr<PoolingBackward> e = cached<PoolingBackward>(
      pool_key(g, tag), [&] { return std::make_shared<PoolingBackward>(g, tag); });
  if (!e) return false;
  try {
    Call c;
    const memory d_dst = f.x == f.y ? c.wrap(e->dst, dy)
                                    : c.convert(plain(e->dst.dims(), tag_of(f.y)), dy, e->dst);
    std::unordered_map<int, memory> args{{DNNL_ARG_DIFF_DST, d_dst},
                                         {DNNL_ARG_DIFF_SRC, c.wrap(e->src, dx)}};
    if (g.max) {
      const memory ws = c.fresh(e->ws);
      c.run(e->fwd,
            {{DNNL_ARG_SRC, c.wrap(e->src, x)}, {DNNL_ARG_DST, c.fresh(e->dst)},
             {DNNL_ARG_WORKSPACE, ws}},
            e->fwd_scratch);
      args.emplace(DNNL_ARG_WORKSPACE, ws);
    }
    c.run(e->prim, std::move(args), e->scratch);
  } catch (const dnnl::error& err) {
    rethrow(err);
  }
  return true;
}

namespace {
// The LRN entry for layout `tag`.
std::shared_ptr<Lrn> lrn_entry(const LrnShape& g, Tag tag) {
  int64_t a_bits = 0, b_bits = 0, k_bits = 0;
  std::memcpy(&a_bits, &g.alpha, sizeof(float));
  std::memcpy(&b_bits, &g.beta, sizeof(float));
  std::memcpy(&k_bits, &g.k, sizeof(float));
  const Key key{{8, static_cast<int64_t>(tag), g.N, g.C, g.H, g.W, g.n, a_bits, b_bits, k_bits,
                 0, 0, 0, 0, 0, 0, 0, 0}};
  return cached<Lrn>(key, [&] { return std::make_shared<Lrn>(g, tag); });
}

// The LRN entry for kept x in layout `in`, or null.
std::shared_ptr<Lrn> lrn_kept_entry(const LrnShape& g, const ActLayout& in) {
  const std::shared_ptr<Lrn> e = lrn_entry(g, in.tag);
  return e && e->md == in.md ? e : nullptr;
}
}  // namespace

bool lrn_forward(const LrnShape& g, const float* x, float* y) {
  const int64_t n = g.N * g.C * g.H * g.W;
  if (!work_wanted(n, n * g.n)) return false;
  const std::shared_ptr<Lrn> e = lrn_entry(g, Tag::nchw);
  if (!e) return false;
  run_src_dst(e->prim, e->md, e->md, e->scratch, x, y);
  return true;
}

std::shared_ptr<const ActLayout> lrn_kept_output(const LrnShape& g, const ActLayout& in) {
  return lrn_kept_entry(g, in) ? std::make_shared<const ActLayout>(in) : nullptr;
}

bool lrn_forward_kept(const LrnShape& g, const ActLayout& in, const ActLayout* out,
                      const float* x, float* y) {
  const std::shared_ptr<Lrn> e = lrn_kept_entry(g, in);
  if (!e) return false;
  run_kept(e->prim, e->md, e->md, e->scratch, e->to_nchw, out, x, y);
  return true;
}

bool fc_row_forward(int64_t n, int64_t k, const float* x, const float* w, float beta,
                    float* y) {
  const int m = mode();
  if (m == 0 || n <= 0 || k <= 0 || (m == 1 && n * k < kMinRowWeights)) return false;
  set_thread_count();
  // Row-major: y(1, n) = x(1, k) . w^T with w stored (n, k).
  const dnnl_status_t st = dnnl_sgemm('N', 'T', 1, n, k, 1.0f, x, k, w, k, beta, y, n);
  MXN_CHECK(st == dnnl_success, ErrorCode::kInternal, "oneDNN sgemm failed (status ", int(st),
            ")");
  return true;
}

bool wanted(const ConvShape& g) {
  const int m = mode();
  if (m == 0) return false;
  for (int64_t v : {g.N, g.C, g.H, g.W, g.F, g.OH, g.OW}) {
    if (v <= 0) return false;
  }
  if (m == 2) return true;
  const double macs = double(g.N) * double(g.F) * double(g.C / g.G) * double(g.kh * g.kw) *
                      double(g.OH * g.OW);
  return macs >= double(kMinMacs);
}

bool conv_forward(const ConvShape& g, const float* x, const float* w, const float* b, float* y,
                  ActFormats f) {
  const std::shared_ptr<Forward> e =
      entry<Forward>(g, 10 * format_bits(f), b != nullptr, b != nullptr, f);
  if (!e) return false;
  try {
    Call c;
    std::unordered_map<int, memory> args;
    args.emplace(DNNL_ARG_SRC, c.in(e->src_r, e->u_src, e->src, x));
    args.emplace(DNNL_ARG_WEIGHTS, c.in(e->wei_r, e->u_wei, e->wei, w));
    if (b != nullptr) args.emplace(DNNL_ARG_BIAS, c.wrap(e->u_bias, b));
    const memory dst = c.out(e->dst_r, e->u_dst, e->dst, y);
    args.emplace(DNNL_ARG_DST, dst);
    c.run(e->prim, std::move(args), e->scratch);
    c.back(e->dst_r, dst, e->u_dst, y);
  } catch (const dnnl::error& err) {
    rethrow(err);
  }
  return true;
}

bool conv_backward(const ConvShape& g, const float* dy, const float* x, const float* w, float* dx,
                   float* dw, float* db, ActFormats f) {
  if (db != nullptr && dw == nullptr) return false;
  std::shared_ptr<BackwardData> bd;
  std::shared_ptr<BackwardWeights> bw;
  const int64_t fk = 10 * format_bits(f);
  if (dx != nullptr && !(bd = entry<BackwardData>(g, 1 + fk, false, f))) return false;
  if (dw != nullptr && !(bw = entry<BackwardWeights>(g, 2 + fk, db != nullptr, db != nullptr, f))) {
    return false;
  }
  try {
    Call c;
    memory dy_d;  // dy in the backward-data layout, reused by backward-weights when equal
    if (bd) {
      dy_d = c.in(bd->diff_dst_r, bd->u_dst, bd->diff_dst, dy);
      const memory dsrc = c.out(bd->diff_src_r, bd->u_src, bd->diff_src, dx);
      c.run(bd->prim,
            {{DNNL_ARG_DIFF_DST, dy_d},
             {DNNL_ARG_WEIGHTS, c.in(bd->wei_r, bd->u_wei, bd->wei, w)},
             {DNNL_ARG_DIFF_SRC, dsrc}},
            bd->scratch);
      c.back(bd->diff_src_r, dsrc, bd->u_src, dx);
    }
    if (bw) {
      const memory dy_w = bd && bd->diff_dst == bw->diff_dst
                              ? dy_d
                              : c.in(bw->diff_dst_r, bw->u_dst, bw->diff_dst, dy);
      const memory dwei = c.out(bw->diff_wei_r, bw->u_wei, bw->diff_wei, dw);
      std::unordered_map<int, memory> args{{DNNL_ARG_SRC, c.in(bw->src_r, bw->u_src, bw->src, x)},
                                           {DNNL_ARG_DIFF_DST, dy_w},
                                           {DNNL_ARG_DIFF_WEIGHTS, dwei}};
      if (db != nullptr) args.emplace(DNNL_ARG_DIFF_BIAS, c.wrap(bw->u_bias, db));
      c.run(bw->prim, std::move(args), bw->scratch);
      c.back(bw->diff_wei_r, dwei, bw->u_wei, dw);
    }
  } catch (const dnnl::error& err) {
    rethrow(err);
  }
  return true;
}

int64_t train_block() {
  // What a forward convolution over 64 channels picks for its output when free to choose.
  static const int64_t block = [] {
    try {
      const ConvShape g{1, 64, 28, 28, 64, 1, 28, 28, 3, 3, 1, 1, 1, 1, 1, 1};
      const auto pd = forward_pd(g, false, dnnl::prop_kind::forward_training, user_scratchpad(),
                                 true);
      const memory::dims d = {1, 64, 28, 28};
      if (pd.dst_desc() == plain(d, Tag::nChw16c)) return int64_t(16);
      if (pd.dst_desc() == plain(d, Tag::nChw8c)) return int64_t(8);
    } catch (const dnnl::error&) {
    }
    return int64_t(0);
  }();
  return block;
}

namespace {
// BatchNorm with batch statistics on channel-blocked data: the forward primitive (writing
// mean and variance) and the backward one (scale and shift gradients).
struct BatchNormBlocked {
  dnnl::batch_normalization_forward fwd;
  dnnl::batch_normalization_backward bwd;
  memory::desc md, stat, fwd_scratch, bwd_scratch;
  explicit BatchNormBlocked(const BnShape& g)
      : md(plain({g.N, g.C, g.H, g.W}, block_tag())), stat(plain({g.C}, Tag::x)) {
    using F = dnnl::normalization_flags;
    const F flags = F::use_scale | F::use_shift;
    const dnnl::batch_normalization_forward::desc fd(dnnl::prop_kind::forward_training, md,
                                                     g.eps, flags);
    const dnnl::batch_normalization_forward::primitive_desc fpd(fd, user_scratchpad(),
                                                                cpu_engine());
    require_jit(fpd);
    const dnnl::batch_normalization_backward::desc bd(dnnl::prop_kind::backward, md, md, g.eps,
                                                      flags);
    const dnnl::batch_normalization_backward::primitive_desc bpd(bd, user_scratchpad(),
                                                                 cpu_engine(), fpd);
    require_jit(bpd);
    fwd_scratch = fpd.scratchpad_desc();
    bwd_scratch = bpd.scratchpad_desc();
    fwd = dnnl::batch_normalization_forward(fpd);
    bwd = dnnl::batch_normalization_backward(bpd);
  }
};

std::shared_ptr<BatchNormBlocked> bn_entry(const BnShape& g) {
  if (mode() == 0 || g.N * g.C * g.H * g.W == 0 || !(g.eps > 0.f)) return nullptr;
  int64_t eps_bits = 0;
  std::memcpy(&eps_bits, &g.eps, sizeof(float));
  const Key key{{9, train_block(), g.N, g.C, g.H, g.W, eps_bits, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}};
  return cached<BatchNormBlocked>(key, [&] { return std::make_shared<BatchNormBlocked>(g); });
}
}  // namespace

bool bn_forward_blocked(const BnShape& g, const float* x, const float* scale, const float* shift,
                        float* y, float* mean, float* var) {
  const std::shared_ptr<BatchNormBlocked> e = bn_entry(g);
  if (!e) return false;
  try {
    Call c;
    c.run(e->fwd,
          {{DNNL_ARG_SRC, c.wrap(e->md, x)},
           {DNNL_ARG_DST, c.wrap(e->md, y)},
           {DNNL_ARG_SCALE, c.wrap(e->stat, scale)},
           {DNNL_ARG_SHIFT, c.wrap(e->stat, shift)},
           {DNNL_ARG_MEAN, c.wrap(e->stat, mean)},
           {DNNL_ARG_VARIANCE, c.wrap(e->stat, var)}},
          e->fwd_scratch);
  } catch (const dnnl::error& err) {
    rethrow(err);
  }
  return true;
}

bool bn_backward_blocked(const BnShape& g, const float* x, const float* dy, const float* mean,
                         const float* var, const float* scale, float* dx, float* dscale,
                         float* dshift) {
  const std::shared_ptr<BatchNormBlocked> e = bn_entry(g);
  if (!e) return false;
  try {
    Call c;
    c.run(e->bwd,
          {{DNNL_ARG_SRC, c.wrap(e->md, x)},
           {DNNL_ARG_DIFF_DST, c.wrap(e->md, dy)},
           {DNNL_ARG_MEAN, c.wrap(e->stat, mean)},
           {DNNL_ARG_VARIANCE, c.wrap(e->stat, var)},
           {DNNL_ARG_SCALE, c.wrap(e->stat, scale)},
           // (this oneDNN asks for the shift too, though the backward does not read it)
           {DNNL_ARG_SHIFT, c.wrap(e->stat, scale)},
           {DNNL_ARG_DIFF_SRC, c.wrap(e->md, dx)},
           {DNNL_ARG_DIFF_SCALE, c.wrap(e->stat, dscale)},
           {DNNL_ARG_DIFF_SHIFT, c.wrap(e->stat, dshift)}},
          e->bwd_scratch);
  } catch (const dnnl::error& err) {
    rethrow(err);
  }
  return true;
}

}  // namespace mxn::ops::nn::onednn
