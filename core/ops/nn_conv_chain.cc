// Convolution -> BatchNorm -> add -> ReLU as one inference kernel (see nn_conv_chain.h).
#include "core/ops/nn_conv_chain.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

#include "core/base/env.h"
#include "core/base/error.h"
#include "core/op/workspace.h"

namespace mxn::ops::nn {

namespace {

#if MXN_USE_ONEDNN
bool nchw_float32(const ConvChainSpec& spec, const Shape& data, DType dtype) {
  if (dtype != DType::kFloat32 || data.ndim() != 4) return false;
  if (!spec.conv.is_none("layout") && spec.conv.get_string("layout") != "NCHW") return false;
  return !spec.bn || spec.bn_params.get_int("axis") == 1 || spec.bn_params.get_int("axis") == -3;
}

bool overlaps(const void* a, size_t an, const void* b, size_t bn) {
  const char* x = static_cast<const char*>(a);
  const char* y = static_cast<const char*>(b);
  return x < y + bn && y < x + an;
}
#endif

// Index of each input group in the kernel's input list.
struct Slots {
  size_t bias = 0, gamma = 0, addend = 0, count = 2;  // 0: absent
  explicit Slots(const ConvChainSpec& s) {
    if (!s.conv.get_bool("no_bias")) bias = count++;
    if (s.bn) {
      gamma = count;
      count += 4;  // gamma, beta, moving_mean, moving_var
    }
    if (s.add) addend = count++;
  }
};

}  // namespace

bool conv_chain_fusable(const ConvChainSpec& spec, const Shape& data, const Shape& weight,
                        DType dtype) {
#if MXN_USE_ONEDNN
  if (!nchw_float32(spec, data, dtype)) return false;
  onednn::ConvShape g;
  if (!conv_shape_2d(spec.conv, data, weight, &g) || !onednn::wanted(g)) return false;
  const onednn::PostOps ops{spec.add, spec.relu};
  const int64_t m = onednn::images_per_call(g), rest = g.N % m;
  g.N = m;
  if (!onednn::has_post_ops_primitive(g, ops)) return false;
  g.N = rest;
  return rest == 0 || onednn::has_post_ops_primitive(g, ops);
#else
  (void)spec, (void)data, (void)weight, (void)dtype;
  return false;
#endif
}

std::string conv_chain_settings() {
#if MXN_USE_ONEDNN
  // onednn::wanted and the chains' primitives read them at every call.
  const char* mode = std::getenv("MXNEXT_ONEDNN");
  const char* winograd = std::getenv("MXNEXT_CONV_WINOGRAD");
  return cat(mode ? mode : "", ",", env_int("MXNEXT_ONEDNN_CHUNK_BYTES", onednn::kChunkBytes),
             ",", winograd ? winograd : "");
#else
  return std::string();
#endif
}

ConvChainKernel::ConvChainKernel(ConvChainSpec spec) : spec_(std::move(spec)) {}
ConvChainKernel::~ConvChainKernel() = default;

int64_t ConvChainKernel::builds() const {
  std::lock_guard<std::mutex> lock(mu_);
  return builds_;
}

std::shared_ptr<const onednn::PreparedWeights> ConvChainKernel::prepared(
    const std::vector<TBlob>& in, const std::vector<uint64_t>& versions,
    const std::string& settings) {
  const Slots at(spec_);
  // The inputs the weights depend on: weight, bias, the BatchNorm's four.
  std::vector<uint64_t> now;
  bool known = true;
  for (size_t i = 1; i < at.count; ++i) {
    if (i == at.addend) continue;
    now.push_back(versions.at(i));
    known = known && versions[i] != 0;
  }
  // The weights are in the layout of the primitive the settings choose (Winograd's own).
  std::lock_guard<std::mutex> lock(mu_);
  if (known && prepared_ && now == versions_ && settings == settings_) return prepared_;
  std::shared_ptr<const onednn::PreparedWeights> p;
#if MXN_USE_ONEDNN
  onednn::ConvShape g;
  conv_shape_2d(spec_.conv, in[0].shape, in[1].shape, &g);
  g.N = onednn::images_per_call(g);
  const int64_t F = g.F, per_filter = in[1].size() / std::max<int64_t>(F, 1);
  Workspace ws;
  const float* w = in[1].ptr<float>();
  float* bias = ws.alloc<float>(F);
  for (int64_t f = 0; f < F; ++f) bias[f] = at.bias ? in[at.bias].ptr<float>()[f] : 0.f;
  if (spec_.bn) {
    // y = (conv + b - mean) * gamma / sqrt(var + eps) + beta, as BatchNorm computes it in
    // inference: scale = invstd * gamma, shift = beta - mean * scale.
    const float* gamma = in[at.gamma].ptr<float>();
    const float* beta = in[at.gamma + 1].ptr<float>();
    const float* mean = in[at.gamma + 2].ptr<float>();
    const float* var = in[at.gamma + 3].ptr<float>();
    const float eps = static_cast<float>(spec_.bn_params.get_float("eps"));
    const bool fix_gamma = spec_.bn_params.get_bool("fix_gamma");
    float* folded = ws.alloc<float>(in[1].size());
    for (int64_t f = 0; f < F; ++f) {
      const float invstd = 1.f / std::sqrt(var[f] + eps);
      const float scale = invstd * (fix_gamma ? 1.f : gamma[f]);
      const float shift = beta[f] - mean[f] * scale;
      for (int64_t k = 0; k < per_filter; ++k) {
        folded[f * per_filter + k] = w[f * per_filter + k] * scale;
      }
      bias[f] = bias[f] * scale + shift;
    }
    w = folded;
  }
  p = onednn::prepare_weights(g, {spec_.add, spec_.relu}, w, bias);
#else
  (void)in;
#endif
  prepared_ = p;
  settings_ = settings;
  versions_ = known ? now : std::vector<uint64_t>{};
  ++builds_;
  return p;
}

namespace {
// The chain's data layout, or its output layout (output), for these shapes.
std::shared_ptr<const onednn::ActLayout> chain_layout(const ConvChainSpec& spec,
                                                      const Shape& data, const Shape& weight,
                                                      bool output) {
#if MXN_USE_ONEDNN
  onednn::ConvShape g;
  if (conv_shape_2d(spec.conv, data, weight, &g)) {
    const onednn::PostOps ops{spec.add, spec.relu};
    return output ? onednn::chain_output_layout(g, ops) : onednn::chain_data_layout(g, ops);
  }
#else
  (void)spec, (void)data, (void)weight, (void)output;
#endif
  return nullptr;
}
}  // namespace

std::shared_ptr<const onednn::ActLayout> ConvChainKernel::data_layout(
    const Shape& data, const Shape& weight) const {
  return chain_layout(spec_, data, weight, false);
}

std::shared_ptr<const onednn::ActLayout> ConvChainKernel::output_layout(
    const Shape& data, const Shape& weight) const {
  return chain_layout(spec_, data, weight, true);
}

void ConvChainKernel::run(const std::vector<TBlob>& in, const std::vector<uint64_t>& versions,
                          const TBlob& out, onednn::ChainLayouts kept,
                          const std::string& settings) {
  const Slots at(spec_);
  MXN_CHECK(in.size() == at.count && versions.size() == at.count, ErrorCode::kInternal,
            "conv chain: expected ", at.count, " inputs, got ", in.size());
#if MXN_USE_ONEDNN
  const std::shared_ptr<const onednn::PreparedWeights> p = prepared(in, versions, settings);
  if (p) {
    onednn::ConvShape g;
    conv_shape_2d(spec_.conv, in[0].shape, in[1].shape, &g);
    // The output is written while the data is read; the executor keeps the chain's data and
    // addend alive (unshared) until the chain has run, so only the addend's own memory may
    // be the output's (planned in place).
    const size_t out_bytes = static_cast<size_t>(out.size()) * sizeof(float);
    MXN_CHECK(!overlaps(out.dptr, out_bytes, in[0].dptr, in[0].size() * sizeof(float)) &&
                  (!at.addend || in[at.addend].dptr == out.dptr ||
                   !overlaps(out.dptr, out_bytes, in[at.addend].dptr, out_bytes)),
              ErrorCode::kInternal, "conv chain: the output shares memory with an input");
    float* y = out.ptr<float>();
    const float* x = in[0].ptr<float>();
    const float* addend = at.addend ? in[at.addend].ptr<float>() : nullptr;
    const int64_t m = onednn::images_per_call(g), N = g.N;
    MXN_CHECK((!kept.x && !kept.addend && !kept.y) || m == N, ErrorCode::kInternal,
              "conv chain: kept layouts for a batch that takes several calls");
    const int64_t x_image = g.C * g.H * g.W, y_image = g.F * g.OH * g.OW;
    bool ran = true;
    for (int64_t n0 = 0; n0 < N && ran; n0 += m) {
      g.N = std::min(m, N - n0);
      ran = onednn::conv_forward_prepared(g, {spec_.add, spec_.relu}, *p,
                                          x + n0 * x_image,
                                          addend ? addend + n0 * y_image : nullptr,
                                          y + n0 * y_image, kept);
    }
    MXN_CHECK(ran, ErrorCode::kInternal, "conv chain: oneDNN declined a batch it prepared for");
    return;
  }
#else
  (void)out;
#endif
  throw Error(ErrorCode::kInternal, "conv chain: run where conv_chain_fusable is false");
}

}  // namespace mxn::ops::nn
