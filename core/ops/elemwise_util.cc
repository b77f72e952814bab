#include "core/ops/elemwise_util.h"

namespace mxn::ops {

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* what) {
  const int nd = std::max(a.ndim(), b.ndim());
  Shape out;
  out.resize(nd);
  for (int d = 0; d < nd; ++d) {
    const int da = d - (nd - a.ndim()), db = d - (nd - b.ndim());
    const int64_t ea = da >= 0 ? a[da] : 1, eb = db >= 0 ? b[db] : 1;
    if (ea != eb && ea != 1 && eb != 1) {
      throw Error(ErrorCode::kShape, cat(what, " could not be broadcast together with shapes ",
                                         a.str(), " and ", b.str(), " (axis ", d, ": ", ea,
                                         " vs ", eb, ")"))
          .with_axis(d);
    }
    out[d] = ea == 1 ? eb : ea;
  }
  return out;
}

void same_shape_infer(const OpParams&, const std::vector<Shape>& in, std::vector<Shape>* out) {
  for (size_t i = 1; i < in.size(); ++i) {
    if (in[i] != in[0]) {
      throw Error(ErrorCode::kShape, cat("input ", i, " has shape ", in[i].str(),
                                         " but input 0 has shape ", in[0].str(),
                                         " (element-wise operators need equal shapes; use a "
                                         "broadcast_* operator to broadcast)"))
          .with_arg(static_cast<int>(i));
    }
  }
  out->assign(out->size(), in.empty() ? Shape() : in[0]);
}

void broadcast_infer(const OpParams&, const std::vector<Shape>& in, std::vector<Shape>* out) {
  (*out)[0] = broadcast_shapes(in[0], in[1]);
}

}  // namespace mxn::ops
