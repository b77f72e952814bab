// Minimal JSON writing helpers (the schema and, later, symbol files).
#pragma once
#include <string>

namespace mxn {

// Appends `s` as a quoted, escaped JSON string.
void json_quote(std::string& out, const std::string& s);

}  // namespace mxn
