#include "core/tensor/reshape_codes.h"

#include <algorithm>
#include <vector>

namespace mxn {

Shape infer_reshape(const Shape& in, const Shape& target, bool reverse) {
  std::vector<int64_t> src(in.data(), in.data() + in.ndim());
  std::vector<int64_t> spec(target.data(), target.data() + target.ndim());
  if (reverse) {
    std::reverse(src.begin(), src.end());
    std::reverse(spec.begin(), spec.end());
  }
  const auto fail = [&](const std::string& why) {
    throw_error(ErrorCode::kShape, cat("cannot reshape ", in.str(), " to ", target.str(),
                                       reverse ? " (reverse)" : "", ": ", why));
  };
  std::vector<int64_t> out;
  size_t s = 0;
  int infer_at = -1;
  for (size_t i = 0; i < spec.size(); ++i) {
    const int64_t code = spec[i];
    if (code > 0) {
      out.push_back(code);
      ++s;
    } else if (code == 0) {
      if (s >= src.size()) fail("code 0 has no input dimension to copy");
      out.push_back(src[s++]);
    } else if (code == -1) {
      if (infer_at >= 0) fail("more than one -1");
      infer_at = static_cast<int>(out.size());
      out.push_back(1);
      ++s;
    } else if (code == -2) {
      while (s < src.size()) out.push_back(src[s++]);
    } else if (code == -3) {
      if (s + 2 > src.size()) fail("code -3 needs two input dimensions");
      out.push_back(src[s] * src[s + 1]);
      s += 2;
    } else if (code == -4) {
      if (i + 2 >= spec.size()) fail("code -4 must be followed by two values");
      if (s >= src.size()) fail("code -4 has no input dimension to split");
      const int64_t d0 = src[s++];
      int64_t d1 = spec[++i], d2 = spec[++i];
      if (d1 == -1 && d2 == -1) fail("code -4 cannot split into -1 and -1");
      if (d1 < -1 || d2 < -1 || d1 == 0 || d2 == 0) fail("code -4 takes positive values or -1");
      if (d1 == -1) d1 = d0 / d2;
      if (d2 == -1) d2 = d0 / d1;
      if (d1 * d2 != d0) fail(cat("code -4 cannot split ", d0, " into ", d1, " x ", d2));
      out.push_back(d1);
      out.push_back(d2);
    } else {
      fail(cat("unknown code ", code));
    }
  }
  if (infer_at >= 0) {
    int64_t known = 1;
    for (size_t i = 0; i < out.size(); ++i) {
      if (static_cast<int>(i) != infer_at) known *= out[i];
    }
    const int64_t total = in.size();
    if (known == 0) fail("cannot infer -1 next to a zero-size dimension");
    if (total % known != 0) fail(cat(total, " elements do not divide into ", known));
    out[infer_at] = total / known;
  }
  if (reverse) std::reverse(out.begin(), out.end());
  Shape result = Shape::from_dims(out.data(), static_cast<int>(out.size()), "reshape target");
  if (result.size() != in.size()) {
    fail(cat("the target has ", result.size(), " elements, the input ", in.size()));
  }
  return result;
}

}  // namespace mxn
