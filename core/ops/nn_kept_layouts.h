// Pooling over values kept in oneDNN's channel-blocked layout between inference steps, for the
// executor's pass (core/graph/kept_layouts.cc); implemented beside the operator
// (nn_pooling.cc). Concatenation needs no kernel of its own (onednn::block_channels).
#pragma once
#include <memory>

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

}  // namespace mxn::ops::nn
