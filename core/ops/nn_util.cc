#include "core/ops/nn_util.h"

#include "core/storage/cpu_pool.h"

#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#if MXN_USE_ONEDNN
#include <omp.h>
#endif

#include "core/base/env.h"
#include "core/engine/engine.h"

namespace mxn::ops::nn {

void real_same_type(const OpDef& op, const std::vector<DType>& in, std::vector<DType>* out) {
  const DType t = in.at(0);
  if (!is_real(t)) {
    throw Error(ErrorCode::kDType, cat("input 0 ('", op.inputs[0].name, "') has dtype ",
                                       dtype_name(t), "; needs float16, float32 or float64"))
        .with_arg(0);
  }
  for (size_t i = 1; i < in.size(); ++i) {
    if (in[i] != t) {
      const std::string name = i < op.inputs.size() ? op.inputs[i].name : op.inputs.back().name;
      throw Error(ErrorCode::kDType, cat("input ", i, " ('", name, "') has dtype ",
                                         dtype_name(in[i]), " but input 0 ('", op.inputs[0].name,
                                         "') has dtype ", dtype_name(t)))
          .with_arg(static_cast<int>(i));
    }
  }
  out->assign(out->size(), t);
}

std::vector<int64_t> spatial_param(const OpParams& p, const char* name, int nsp, int64_t fill) {
  const Shape& s = p.get_shape(name);
  if (s.ndim() == 0) return std::vector<int64_t>(static_cast<size_t>(nsp), fill);
  if (s.ndim() != nsp) {
    throw Error(ErrorCode::kInvalidArg, cat(name, "=", s.str(), " has ", s.ndim(),
                                            " entries but the data has ", nsp,
                                            " spatial dimension", nsp == 1 ? "" : "s"));
  }
  return std::vector<int64_t>(s.data(), s.data() + nsp);
}

void as_float32(const std::vector<TBlob>& in, const std::vector<TBlob>& out,
                const std::function<void(const std::vector<TBlob>&, const std::vector<TBlob>&)>& fn) {
  std::vector<std::vector<float>> bufs;
  bufs.reserve(in.size() + out.size());
  auto stage = [&](const TBlob& b, bool copy_in) {
    if (b.dtype != DType::kFloat16) return b;
    bufs.emplace_back(static_cast<size_t>(b.size()));
    std::vector<float>& v = bufs.back();
    if (copy_in) {
      const half_t* h = b.ptr<half_t>();
      for (int64_t i = 0; i < b.size(); ++i) v[i] = float(h[i]);
    }
    TBlob f = b;
    f.dtype = DType::kFloat32;
    f.dptr = v.data();
    return f;
  };
  std::vector<TBlob> fin, fout;
  for (const TBlob& b : in) fin.push_back(stage(b, true));
  for (const TBlob& b : out) fout.push_back(stage(b, false));
  fn(fin, fout);
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i].dtype != DType::kFloat16) continue;
    const float* f = fout[i].ptr<float>();
    half_t* h = out[i].ptr<half_t>();
    for (int64_t j = 0; j < out[i].size(); ++j) h[j] = half_t(f[j]);
  }
}

namespace {
// Between NCHW and nChw{block}c for x (N, C, H, W), C a multiple of block.
void reblock(const TBlob& from, float* to, int64_t block, bool to_blocked) {
  const Shape& d = from.shape;
  MXN_CHECK(d.ndim() == 4 && from.dtype == DType::kFloat32 && block > 0 && d[1] % block == 0,
            ErrorCode::kInternal, "a channel-blocked array of shape ", d.str(),
            " (float32 (N, C, H, W) with C a multiple of ", block, " expected)");
  const int64_t N = d[0], CB = d[1] / block, S = d[2] * d[3];
  const float* src = from.ptr<float>();
  parallel_for(N * CB, S * block, [&](int64_t b0, int64_t b1) {
    for (int64_t nb = b0; nb < b1; ++nb) {  // one image's block of channels
      const int64_t base = nb * S * block;
      for (int64_t c = 0; c < block; ++c) {
        for (int64_t p = 0; p < S; ++p) {
          const int64_t plain = base + c * S + p, blk = base + p * block + c;
          if (to_blocked) {
            to[blk] = src[plain];
          } else {
            to[plain] = src[blk];
          }
        }
      }
    }
  });
}
}  // namespace

void as_nchw(const BlockedIO& blocked, const std::vector<TBlob>& in, const std::vector<TBlob>& out,
             const std::function<void(const std::vector<TBlob>&, const std::vector<TBlob>&)>& fn) {
  Workspace ws;
  auto stage = [&](const TBlob& b, bool is_blocked, bool copy_in) {
    if (!is_blocked) return b;
    TBlob f = b;
    f.dptr = ws.alloc<float>(b.size());
    if (copy_in) reblock(b, f.ptr<float>(), blocked.block, false);
    return f;
  };
  std::vector<TBlob> fin, fout;
  for (size_t i = 0; i < in.size(); ++i) fin.push_back(stage(in[i], blocked.input(int(i)), true));
  for (size_t i = 0; i < out.size(); ++i) {
    fout.push_back(stage(out[i], blocked.output(int(i)), false));
  }
  fn(fin, fout);
  for (size_t i = 0; i < out.size(); ++i) {
    if (blocked.output(int(i))) reblock(fout[i], out[i].ptr<float>(), blocked.block, true);
  }
}

void parallel_parts(int parts, const std::function<void(int)>& part) {
  std::exception_ptr first;
  std::mutex mu;
  auto guarded = [&](int t) {
    try {
      part(t);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu);
      if (!first) first = std::current_exception();
    }
  };
  if (!leads_parallel_teams()) {  // one part after another (core/engine/engine.h)
    for (int t = 0; t < parts; ++t) guarded(t);
    if (first) std::rethrow_exception(first);
    return;
  }
#if MXN_USE_ONEDNN
  // A team may have fewer threads than asked for (nested regions run on one): each covers
  // every part congruent to its number.
#pragma omp parallel num_threads(parts)
  for (int t = omp_get_thread_num(); t < parts; t += omp_get_num_threads()) guarded(t);
#else
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(parts - 1));
  for (int t = 1; t < parts; ++t) threads.emplace_back(guarded, t);
  guarded(0);
  for (auto& th : threads) th.join();
#endif
  if (first) std::rethrow_exception(first);
}

int nn_num_threads() {
  static const int n = [] {
    int v = static_cast<int>(env_int("MXNEXT_NN_THREADS", 0));
    if (v <= 0) v = static_cast<int>(std::thread::hardware_concurrency());
    return std::max(1, v);
  }();
  return n;
}

std::vector<NodeEntry> backward_entries(const char* backward_op, const NodePtr& fwd,
                                        std::vector<NodeEntry> inputs,
                                        const std::vector<int>& grad_of) {
  NodePtr b = make_backward_node(backward_op, fwd, std::move(inputs));
  std::vector<NodeEntry> grads(fwd->inputs.size());
  for (size_t i = 0; i < grads.size() && i < grad_of.size(); ++i) {
    if (grad_of[i] >= 0) grads[i] = NodeEntry{b, static_cast<uint32_t>(grad_of[i])};
  }
  return grads;
}

OpDef& required_choice(OpDef& op, const char* name, std::vector<std::string> choices,
                       const char* doc) {
  op.required(name, ParamType::kString, doc);
  op.params.back().choices = std::move(choices);
  return op;
}

OpDef& nullable_choice(OpDef& op, const char* name, std::vector<std::string> choices,
                       const char* doc) {
  op.nullable(name, ParamType::kString, doc);
  op.params.back().choices = std::move(choices);
  return op;
}

}  // namespace mxn::ops::nn
