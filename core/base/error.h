// Errors inside the core: one exception type carrying the structured fields that the C ABI
// hands to every front end (code, message, operator, argument index, axis).
#pragma once
#include <climits>
#include <cstdint>
#include <exception>
#include <string>
#include <type_traits>

namespace mxn {

// Values match MXN_ERR_* in capi/include/mxnext/c_api.h (pinned by the ABI layout test).
enum class ErrorCode : int {
  kOk = 0,
  kInvalidArg = 1,
  kShape = 2,
  kDType = 3,
  kOutOfMemory = 4,
  kIO = 5,
  kFormat = 6,
  kDevice = 7,
  kNotImplemented = 8,
  kPeerLost = 9,
  kTimeout = 10,
  kInterrupted = 11,
  kInternal = 12,
};

// Marks an integer field (argument index, axis) that does not apply to an error.
constexpr int kNoField = INT_MIN;

const char* error_kind(ErrorCode code);

class Error : public std::exception {
 public:
  Error(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}
  const char* what() const noexcept override { return message_.c_str(); }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::string& op_name() const { return op_name_; }
  int arg_index() const { return arg_index_; }
  int axis() const { return axis_; }
  Error& with_op(std::string name) {
    op_name_ = std::move(name);
    return *this;
  }
  Error& with_arg(int index) {
    arg_index_ = index;
    return *this;
  }
  Error& with_axis(int axis) {
    axis_ = axis;
    return *this;
  }
  // Prefixes the message with context ("broadcast_add: ...") once, keeping the fields.
  void prefix(const std::string& context) { message_ = context + ": " + message_; }

 private:
  ErrorCode code_;
  std::string message_;
  std::string op_name_;
  int arg_index_ = kNoField;
  int axis_ = kNoField;
};

// String building without <sstream>: cat("shape ", 3, " vs ", s.str()).
namespace detail {
inline void append(std::string& out, const std::string& s) { out += s; }
inline void append(std::string& out, const char* s) { out += s ? s : "(null)"; }
inline void append(std::string& out, char c) { out += c; }
inline void append(std::string& out, bool b) { out += b ? "true" : "false"; }
void append_double(std::string& out, double v);
template <typename T>
inline std::enable_if_t<std::is_integral_v<T>> append(std::string& out, T v) {
  out += std::to_string(v);
}
template <typename T>
inline std::enable_if_t<std::is_floating_point_v<T>> append(std::string& out, T v) {
  append_double(out, static_cast<double>(v));
}
}  // namespace detail

template <typename... Args>
std::string cat(const Args&... args) {
  std::string out;
  (detail::append(out, args), ...);
  return out;
}

[[noreturn]] void throw_error(ErrorCode code, const std::string& message);

}  // namespace mxn

// MXN_CHECK(cond, code, parts...): throw mxn::Error(code, cat(parts...)) unless cond holds.
#define MXN_CHECK(cond, code, ...)                                       \
  do {                                                                   \
    if (!(cond)) ::mxn::throw_error((code), ::mxn::cat(__VA_ARGS__));    \
  } while (0)
