#include "core/base/error.h"

#include <cstdio>

namespace mxn {

const char* error_kind(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return "Ok";
    case ErrorCode::kInvalidArg: return "InvalidArgument";
    case ErrorCode::kShape: return "ShapeError";
    case ErrorCode::kDType: return "DTypeError";
    case ErrorCode::kOutOfMemory: return "OutOfMemory";
    case ErrorCode::kIO: return "IOError";
    case ErrorCode::kFormat: return "FormatError";
    case ErrorCode::kDevice: return "DeviceError";
    case ErrorCode::kNotImplemented: return "NotImplemented";
    case ErrorCode::kPeerLost: return "PeerLost";
    case ErrorCode::kTimeout: return "Timeout";
    case ErrorCode::kInterrupted: return "Interrupted";
    case ErrorCode::kInternal: return "InternalError";
  }
  return "UnknownError";
}

void throw_error(ErrorCode code, const std::string& message) { throw Error(code, message); }

namespace detail {
void append_double(std::string& out, double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  out += buf;
}
}  // namespace detail

}  // namespace mxn
