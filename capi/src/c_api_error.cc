// Thread-local structured errors, library version, devices.
#include <string>

#include "capi/src/handles.h"

namespace mxn::capi {

namespace {
struct LastError {
  int32_t code = MXN_OK;
  int32_t arg_index = MXN_NO_FIELD;
  int32_t axis = MXN_NO_FIELD;
  std::string kind = "Ok";
  std::string message;
  std::string op_name;
};
thread_local LastError g_last;
}  // namespace

int set_error(const Error& e) {
  g_last.code = static_cast<int32_t>(e.code());
  g_last.arg_index = e.arg_index();
  g_last.axis = e.axis();
  g_last.kind = error_kind(e.code());
  g_last.message = e.message();
  g_last.op_name = e.op_name();
  return g_last.code;
}

int set_error(ErrorCode code, const std::string& message) { return set_error(Error(code, message)); }

const NDArray& ndarray_of(const mxn_ndarray* h, const char* what) {
  MXN_CHECK(h != nullptr, ErrorCode::kInvalidArg, what, " is a NULL array handle");
  MXN_CHECK(h->magic == kNDArrayMagic, ErrorCode::kInvalidArg, what,
            " is not an array handle (wrong handle type or already freed)");
  return h->array;
}

const OpDef& op_of(const mxn_op* h, const char* what) {
  MXN_CHECK(h != nullptr, ErrorCode::kInvalidArg, what, " is a NULL operator handle");
  MXN_CHECK(h->magic == kOpMagic, ErrorCode::kInvalidArg, what,
            " is not an operator handle (wrong handle type)");
  return *h->def;
}

mxn_ndarray* new_handle(NDArray a) {
  auto* h = new mxn_ndarray();
  h->array = std::move(a);
  return h;
}

}  // namespace mxn::capi

using namespace mxn;

extern "C" {

int mxn_last_error(mxn_error_info* info) {
  if (info == nullptr || info->struct_size < sizeof(mxn_error_info)) {
    return capi::set_error(ErrorCode::kInvalidArg,
                           "mxn_last_error: info is NULL or its struct_size is too small");
  }
  const auto& e = capi::g_last;
  info->code = e.code;
  info->arg_index = e.arg_index;
  info->axis = e.axis;
  info->kind = e.kind.c_str();
  info->message = e.message.c_str();
  info->op_name = e.op_name.c_str();
  return MXN_OK;
}

const char* mxn_last_error_message(void) { return capi::g_last.message.c_str(); }

void mxn_clear_error(void) { capi::g_last = capi::LastError(); }

uint32_t mxn_abi_version(void) { return MXN_ABI_VERSION; }

const char* mxn_version_string(void) { return MXNEXT_VERSION_STRING; }

int mxn_device_count(int32_t device_type, int32_t* out) {
  MXN_API_BEGIN();
  capi::check_out(out, "out");
  MXN_CHECK(device_type >= 1 && device_type <= 3, ErrorCode::kInvalidArg, "unknown device type ",
            device_type);
  // Host memory is one device however many ids are used; GPUs need a CUDA build.
  *out = device_type == MXN_DEVICE_GPU ? 0 : 1;
  MXN_API_END();
}

}  // extern "C"
