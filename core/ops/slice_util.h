// Shared by the indexing operators (slice, slice_axis, ...): how a None entry of a tuple of
// optional ints travels, and Python's slice arithmetic.
#pragma once
#include <cstdint>

#include "core/op/params.h"  // kNoneIndex: a None entry of begin/end/step

namespace mxn::ops {

// Python's slice.indices(len) for one axis: resolves begin/end (kNoneIndex = default, negative
// counts from the end, out of range clamps) for step != 0 and returns the number of elements.
inline int64_t slice_indices(int64_t len, int64_t begin, int64_t end, int64_t step,
                             int64_t* out_begin) {
  int64_t b, e;
  if (step > 0) {
    b = begin == kNoneIndex ? 0 : begin;
    e = end == kNoneIndex ? len : end;
    if (b < 0) b = b + len < 0 ? 0 : b + len;
    if (b > len) b = len;
    if (e < 0) e = e + len < 0 ? 0 : e + len;
    if (e > len) e = len;
    *out_begin = b;
    return e > b ? (e - b - 1) / step + 1 : 0;
  }
  b = begin == kNoneIndex ? len - 1 : begin;
  e = end == kNoneIndex ? -1 : end;  // -1 here means "before the first element"
  if (begin != kNoneIndex) {
    if (b < 0) b = b + len < 0 ? -1 : b + len;
    if (b >= len) b = len - 1;
  }
  if (end != kNoneIndex) {
    if (e < 0) e = e + len < 0 ? -1 : e + len;
    if (e >= len) e = len - 1;
  }
  *out_begin = b;
  return b > e ? (b - e - 1) / (-step) + 1 : 0;
}

}  // namespace mxn::ops
