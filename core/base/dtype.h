// Element types, numbered with Apache MXNet's type flags (they appear in .params files).
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/base/error.h"
#include "core/base/half.h"

namespace mxn {

enum class DType : int32_t {
  kFloat32 = 0,
  kFloat64 = 1,
  kFloat16 = 2,
  kUint8 = 3,
  kInt32 = 4,
  kInt8 = 5,
  kInt64 = 6,
  kBool = 7,
};
constexpr int kNumDTypes = 8;

inline bool dtype_valid(int32_t code) { return code >= 0 && code < kNumDTypes; }
size_t dtype_size(DType t);
const char* dtype_name(DType t);
bool dtype_is_float(DType t);
// Parses "float32", "float64", "float16", "uint8", "int8", "int32", "int64", "bool".
bool dtype_from_name(const char* name, DType* out);
// Throws kDType when code is not a valid flag.
DType dtype_checked(int32_t code);

}  // namespace mxn

// MXN_DTYPE_SWITCH(t, T, body): runs body with T bound to the C++ type of dtype t.
#define MXN_DTYPE_SWITCH(dtype, T, ...)                                                   \
  switch (dtype) {                                                                        \
    case ::mxn::DType::kFloat32: { using T = float; __VA_ARGS__ break; }                  \
    case ::mxn::DType::kFloat64: { using T = double; __VA_ARGS__ break; }                 \
    case ::mxn::DType::kFloat16: { using T = ::mxn::half_t; __VA_ARGS__ break; }          \
    case ::mxn::DType::kUint8: { using T = uint8_t; __VA_ARGS__ break; }                  \
    case ::mxn::DType::kInt32: { using T = int32_t; __VA_ARGS__ break; }                  \
    case ::mxn::DType::kInt8: { using T = int8_t; __VA_ARGS__ break; }                    \
    case ::mxn::DType::kInt64: { using T = int64_t; __VA_ARGS__ break; }                  \
    case ::mxn::DType::kBool: { using T = bool; __VA_ARGS__ break; }                      \
    default: ::mxn::throw_error(::mxn::ErrorCode::kDType, "unknown dtype");               \
  }
