#include "core/base/shape.h"

namespace mxn {

Shape::Shape(std::initializer_list<int64_t> dims) {
  MXN_CHECK(dims.size() <= static_cast<size_t>(kMaxNdim), ErrorCode::kShape, "at most ", kMaxNdim,
            " dimensions are supported, got ", dims.size());
  for (int64_t d : dims) d_[ndim_++] = d;
}

Shape Shape::from_dims(const int64_t* dims, int ndim, const char* what) {
  MXN_CHECK(ndim >= 0 && ndim <= kMaxNdim, ErrorCode::kShape, what, ": ndim must be in [0, ",
            kMaxNdim, "], got ", ndim);
  MXN_CHECK(ndim == 0 || dims != nullptr, ErrorCode::kInvalidArg, what, ": dims is NULL");
  Shape s;
  for (int i = 0; i < ndim; ++i) {
    MXN_CHECK(dims[i] >= 0, ErrorCode::kShape, what, ": dimension ", i, " is negative (",
              dims[i], ")");
    s.d_[i] = dims[i];
  }
  s.ndim_ = ndim;
  (void)s.size();  // rejects element counts that overflow
  return s;
}

void Shape::push_back(int64_t v) {
  MXN_CHECK(ndim_ < kMaxNdim, ErrorCode::kShape, "at most ", kMaxNdim,
            " dimensions are supported");
  d_[ndim_++] = v;
}

void Shape::resize(int ndim, int64_t fill) {
  MXN_CHECK(ndim >= 0 && ndim <= kMaxNdim, ErrorCode::kShape, "at most ", kMaxNdim,
            " dimensions are supported, got ", ndim);
  for (int i = ndim_; i < ndim; ++i) d_[i] = fill;
  ndim_ = ndim;
}

int64_t Shape::size() const {
  int64_t n = 1;
  for (int i = 0; i < ndim_; ++i) {
    if (d_[i] == 0) return 0;
  }
  for (int i = 0; i < ndim_; ++i) {
    int64_t r;
    MXN_CHECK(!__builtin_mul_overflow(n, d_[i], &r), ErrorCode::kShape, "shape ", str(),
              " has more elements than int64 can count");
    n = r;
  }
  return n;
}

bool Shape::operator==(const Shape& o) const {
  if (ndim_ != o.ndim_) return false;
  for (int i = 0; i < ndim_; ++i) {
    if (d_[i] != o.d_[i]) return false;
  }
  return true;
}

std::string Shape::str() const {
  if (ndim_ < 0) return "(unknown)";
  std::string s = "(";
  for (int i = 0; i < ndim_; ++i) {
    if (i) s += ',';
    s += std::to_string(d_[i]);
  }
  if (ndim_ == 1) s += ',';
  s += ')';
  return s;
}

int normalize_axis(int64_t axis, int ndim, const char* what) {
  const int64_t lo = ndim == 0 ? -1 : -ndim, hi = ndim == 0 ? 0 : ndim - 1;
  if (axis < lo || axis > hi) {
    throw Error(ErrorCode::kInvalidArg, cat(what, " ", axis, " is out of range for an array of ",
                                            ndim, " dimension", ndim == 1 ? "" : "s"))
        .with_axis(static_cast<int>(axis));
  }
  return static_cast<int>(axis < 0 ? axis + (ndim == 0 ? 1 : ndim) : axis);
}

}  // namespace mxn
