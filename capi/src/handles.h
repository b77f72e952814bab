// Internal to capi/: what the opaque handles are, and the wrapper that turns every C++
// exception into a status code plus the thread-local error (no exception crosses the ABI).
#pragma once
#include <new>

#include "core/base/error.h"
#include "core/op/op.h"
#include "core/tensor/ndarray.h"
#include "mxnext/c_api.h"

// Magic tags catch a handle of one type passed where another is expected.
constexpr uint32_t kNDArrayMagic = 0x4e44524eu;  // "NDRN"
constexpr uint32_t kOpMagic = 0x4f50484eu;       // "OPHN"
constexpr uint32_t kSymbolMagic = 0x53594d42u;   // "SYMB"
constexpr uint32_t kStringsMagic = 0x53545253u;  // "STRS"
constexpr uint32_t kShapesMagic = 0x53485053u;   // "SHPS"
constexpr uint32_t kExecutorMagic = 0x45584543u; // "EXEC"

struct mxn_ndarray {
  uint32_t magic = kNDArrayMagic;
  mxn::NDArray array;
};

struct mxn_op {
  uint32_t magic = kOpMagic;
  const mxn::OpDef* def = nullptr;
};

namespace mxn {
class Symbol;
}

namespace mxn::capi {

int set_error(const Error& e);
int set_error(ErrorCode code, const std::string& message);

// Checked handle access: NULL or a handle of another type is kInvalidArg naming `what`.
const NDArray& ndarray_of(const mxn_ndarray* h, const char* what);
const OpDef& op_of(const mxn_op* h, const char* what);
template <typename T>
void check_out(T* p, const char* what) {
  MXN_CHECK(p != nullptr, ErrorCode::kInvalidArg, what, " (an output pointer) is NULL");
}
mxn_ndarray* new_handle(NDArray a);
// A string list handle owned by the caller (c_api_symbol.cc).
mxn_strings* new_strings(std::vector<std::string> items);
// The symbol behind a handle (c_api_symbol.cc).
const Symbol& symbol_of(const mxn_symbol* h, const char* what);
// One typed C value -> a core parameter value (c_api_op.cc); `key` names it in errors.
ParamValue param_value(const mxn_value& v, const char* key);
// Typed C values -> an operator's parsed parameters (c_api_op.cc).
OpParams params_from_values(const OpDef& op, int32_t num_params, const char* const* keys,
                            const mxn_value* values);

}  // namespace mxn::capi

#define MXN_API_BEGIN() try {
#define MXN_API_END()                                                                  \
  }                                                                                     \
  catch (const ::mxn::Error& e) {                                                       \
    return ::mxn::capi::set_error(e);                                                   \
  }                                                                                     \
  catch (const std::bad_alloc&) {                                                       \
    return ::mxn::capi::set_error(::mxn::ErrorCode::kOutOfMemory, "out of host memory"); \
  }                                                                                     \
  catch (const std::exception& e) {                                                     \
    return ::mxn::capi::set_error(::mxn::ErrorCode::kInternal, e.what());               \
  }                                                                                     \
  catch (...) {                                                                         \
    return ::mxn::capi::set_error(::mxn::ErrorCode::kInternal, "unknown exception");     \
  }                                                                                     \
  return MXN_OK;
