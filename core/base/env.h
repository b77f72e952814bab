// Reading configuration from MXNEXT_* environment variables.
#pragma once
#include <cstdint>
#include <string>

namespace mxn {

// The integer value of `name`, or `fallback` when unset or empty; throws kInvalidArg when set
// to something that is not an integer.
int64_t env_int(const char* name, int64_t fallback);
std::string env_str(const char* name, const std::string& fallback);

}  // namespace mxn
