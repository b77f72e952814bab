// MXNet's reshape target codes: 0 copies a dim, -1 infers one, -2 copies the rest, -3 merges
// two dims, -4 splits one into the next two given values (either may be -1). `reverse`
// matches codes from the right.
#pragma once
#include "core/base/shape.h"

namespace mxn {

Shape infer_reshape(const Shape& in, const Shape& target, bool reverse);

}  // namespace mxn
