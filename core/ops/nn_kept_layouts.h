// Pooling, LRN and concatenation of values kept in oneDNN's layouts between inference steps, for the
// executor's pass (core/graph/kept_layouts.cc); implemented beside the operators (nn_pooling.cc,
// nn_norm.cc, matrix.cc). Concatenation of channel-blocked values needs no kernel of its own
// (onednn::block_channels); of channels-last ones, this one.
#pragma once
#include <memory>
#include <vector>

#include "core/op/op.h"
#include "core/op/params.h"
#include "core/ops/nn_onednn.h"

namespace mxn::ops::nn {

// Pooling with parameters p of data (its NCHW shape) kept in layout `in`: the layout of its
// output in the same format, or null where it cannot run so (not float32 2-D max or average
// pooling in NCHW, no oneDNN jit kernel, or oneDNN would divide differently from MXNet); null in
// builds without oneDNN.
std::shared_ptr<const onednn::ActLayout> pooling_kept_output(const OpParams& p,
                                                             const Shape& data, DType dtype,
                                                             const onednn::ActLayout& in);
// Runs it where pooling_kept_output is not null: y in `out`, or in NCHW when out is null.
void pooling_kept(const OpParams& p, const TBlob& x, const onednn::ActLayout& in, const TBlob& y,
                  const onednn::ActLayout* out);

// LRN (inference: its normaliser unused) of data kept in layout `in`, as pooling above
// (implemented in nn_norm.cc).
std::shared_ptr<const onednn::ActLayout> lrn_kept_output(const OpParams& p, const Shape& data,
                                                         DType dtype,
                                                         const onednn::ActLayout& in);
void lrn_kept(const OpParams& p, const TBlob& x, const onednn::ActLayout& in, const TBlob& y,
              const onednn::ActLayout* out);

// Concat along channels of (N, C_i, H, W) values stored channels-last (NHWC) into out, also
// channels-last: each pixel's channels of every input in turn.
void concat_channels_last(const std::vector<TBlob>& in, const TBlob& out);

}  // namespace mxn::ops::nn
