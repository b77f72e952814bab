#include "core/base/dtype.h"

#include <cstring>

namespace mxn {

namespace {
struct DTypeInfo {
  const char* name;
  size_t size;
  bool is_float;
};
constexpr DTypeInfo kInfo[kNumDTypes] = {
    {"float32", 4, true}, {"float64", 8, true}, {"float16", 2, true}, {"uint8", 1, false},
    {"int32", 4, false},  {"int8", 1, false},   {"int64", 8, false},  {"bool", 1, false},
};
}  // namespace

size_t dtype_size(DType t) { return kInfo[static_cast<int>(t)].size; }
const char* dtype_name(DType t) { return kInfo[static_cast<int>(t)].name; }
bool dtype_is_float(DType t) { return kInfo[static_cast<int>(t)].is_float; }

bool dtype_from_name(const char* name, DType* out) {
  if (name == nullptr) return false;
  for (int i = 0; i < kNumDTypes; ++i) {
    if (std::strcmp(name, kInfo[i].name) == 0) {
      *out = static_cast<DType>(i);
      return true;
    }
  }
  return false;
}

DType dtype_checked(int32_t code) {
  MXN_CHECK(dtype_valid(code), ErrorCode::kDType, "unknown dtype code ", code,
            " (valid: 0..", kNumDTypes - 1, ")");
  return static_cast<DType>(code);
}

}  // namespace mxn
