// Inference-time fusion of a Convolution with the BatchNorm, element-wise add and ReLU that
// follow it (the executor finds these chains: core/graph/conv_chains.cc). What MXNet 1.x's
// oneDNN subgraph backend does for inference, and what it saves: the BatchNorm's moving
// statistics are folded into the convolution's weights and bias, the add and the ReLU run as
// oneDNN post-operations, so the chain reads and writes its activations once instead of four
// times; and the folded weights stay in oneDNN's layout between calls, rebuilt only when an
// input's contents change (var_version, core/engine/engine.h).
//
// Numerically the fused chain rounds differently from the four operators run one by one
// (folding scales the weights before the sums, not the sums after): results agree to float32
// rounding, not bit for bit. MXNEXT_FUSE=0 turns it off (with the element-wise fusion).
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/op/op.h"
#include "core/op/params.h"
#include "core/ops/nn_onednn.h"
#include "core/tensor/ndarray.h"

namespace mxn::ops::nn {

// The geometry of a 2-D Convolution with these parameters and shapes (nn_convolution.cc); false
// for 1-D. Throws on shapes the operator rejects.
bool conv_shape_2d(const OpParams& conv, const Shape& data, const Shape& weight,
                   onednn::ConvShape* out);

// A chain: the Convolution, then at least one of BatchNorm, add (of another array of the
// output's shape), ReLU, in that order.
struct ConvChainSpec {
  OpParams conv;
  bool bn = false;
  OpParams bn_params;  // when bn
  bool add = false;
  bool relu = false;
};

// Whether the chain runs fused for this data, weight and dtype: float32 2-D NCHW, in a build
// with oneDNN that takes the geometry (MXNEXT_ONEDNN, read at every call, as the operators)
// and has a primitive for it. ConvChainKernel::run may be called only then.
bool conv_chain_fusable(const ConvChainSpec& spec, const Shape& data, const Shape& weight,
                        DType dtype);
// What conv_chain_fusable depends on besides its arguments (the oneDNN switches, read from the
// environment now), as a key: its answers stay the same while this does.
std::string conv_chain_settings();

// The chain's inputs, in this order: data, weight, bias (unless no_bias), then gamma, beta,
// moving_mean, moving_var (with bn), then the addend (with add).
class ConvChainKernel {
 public:
  explicit ConvChainKernel(ConvChainSpec spec);
  ~ConvChainKernel();
  const ConvChainSpec& spec() const { return spec_; }
  // The oneDNN layouts it reads its data in and writes its output in, where they are not
  // NCHW (onednn::chain_data_layout, chain_output_layout); null in builds without oneDNN.
  std::shared_ptr<const onednn::ActLayout> data_layout(const Shape& data,
                                                       const Shape& weight) const;
  std::shared_ptr<const onednn::ActLayout> output_layout(const Shape& data,
                                                         const Shape& weight) const;
  // versions[i]: var_version of in[i] when it identifies in[i]'s contents, else 0 (never
  // reused). The folded, converted weights are rebuilt when a version of the weight, bias or
  // BatchNorm inputs differs from the last call's. kept: the data, addend or output in those
  // layouts (the blobs' shapes stay the NCHW ones). settings: conv_chain_settings() of this
  // call (the weights are rebuilt when they differ from the last call's).
  void run(const std::vector<TBlob>& in, const std::vector<uint64_t>& versions,
           const TBlob& out, onednn::ChainLayouts kept, const std::string& settings);
  // How many times the weights were (re)built: the tests check reuse and invalidation.
  int64_t builds() const;

 private:
  // The folded weights in oneDNN's layout for these inputs (null where oneDNN has none).
  std::shared_ptr<const onednn::PreparedWeights> prepared(const std::vector<TBlob>& in,
                                                          const std::vector<uint64_t>& versions,
                                                          const std::string& settings);

  ConvChainSpec spec_;
  mutable std::mutex mu_;
  std::vector<uint64_t> versions_;  // of the inputs the prepared weights were built from
  std::string settings_;  // conv_chain_settings() when prepared_ was built
  std::shared_ptr<const onednn::PreparedWeights> prepared_;
  int64_t builds_ = 0;
};

}  // namespace mxn::ops::nn
