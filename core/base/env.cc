#include "core/base/env.h"

#include <cerrno>
#include <cstdlib>

#include "core/base/error.h"

namespace mxn {

int64_t env_int(const char* name, int64_t fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  char* end = nullptr;
  errno = 0;
  long long x = std::strtoll(v, &end, 10);
  MXN_CHECK(errno == 0 && end != v && *end == '\0', ErrorCode::kInvalidArg, "environment variable ",
            name, "='", v, "' is not an integer");
  return x;
}

std::string env_str(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return (v == nullptr || *v == '\0') ? fallback : std::string(v);
}

}  // namespace mxn
