// Tensor shapes: up to kMaxNdim dimensions stored inline (no allocation on the op hot path).
// ndim 0 is a scalar (size 1); any dimension may be 0 (size 0).
#pragma once
#include <cstdint>
#include <initializer_list>
#include <string>

#include "core/base/error.h"

namespace mxn {

constexpr int kMaxNdim = 16;

class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims);
  // Validates ndim and that every dim is >= 0 (throws kShape naming `what`).
  static Shape from_dims(const int64_t* dims, int ndim, const char* what = "shape");

  // A shape not known yet (symbolic shape inference): ndim() is -1 and nothing else applies.
  static Shape unknown() {
    Shape s;
    s.ndim_ = -1;
    return s;
  }
  bool is_known() const { return ndim_ >= 0; }
  int ndim() const { return ndim_; }
  int64_t operator[](int i) const { return d_[i]; }
  int64_t& operator[](int i) { return d_[i]; }
  const int64_t* data() const { return d_; }
  int64_t* data() { return d_; }
  void push_back(int64_t v);
  void resize(int ndim, int64_t fill = 1);
  // Number of elements; throws kShape when it overflows int64.
  int64_t size() const;
  bool operator==(const Shape& o) const;
  bool operator!=(const Shape& o) const { return !(*this == o); }
  std::string str() const;  // "(2,3)", "()" for a scalar

 private:
  int32_t ndim_ = 0;
  int64_t d_[kMaxNdim] = {};
};

// Normalises a possibly negative axis against ndim; throws kInvalidArg naming the axis.
int normalize_axis(int64_t axis, int ndim, const char* what = "axis");

}  // namespace mxn
