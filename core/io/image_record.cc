#include "core/io/image_record.h"

#include <cstring>

#include "core/base/error.h"

namespace mxn::io {

float ImageRecord::label_at(uint32_t i) const {
  if (i >= num_labels) return 0.f;
  float v;
  std::memcpy(&v, reinterpret_cast<const unsigned char*>(labels) + 4 * i, 4);
  return v;
}

ImageRecord parse_image_record(const std::string& rec, const std::string& where) {
  MXN_CHECK(rec.size() >= kIRHeaderSize, ErrorCode::kFormat, where, ": a record of ", rec.size(),
            " bytes is too short for its 24-byte image header");
  ImageRecord r;
  const auto* p = reinterpret_cast<const unsigned char*>(rec.data());
  std::memcpy(&r.flag, p, 4);
  std::memcpy(&r.label, p + 4, 4);
  std::memcpy(&r.id, p + 8, 8);
  std::memcpy(&r.id2, p + 16, 8);
  size_t off = kIRHeaderSize;
  if (r.flag > 0) {
    const uint64_t need = static_cast<uint64_t>(r.flag) * 4;
    MXN_CHECK(need <= rec.size() - off, ErrorCode::kFormat, where, ": the header announces ",
              r.flag, " labels (", need, " bytes) but only ", rec.size() - off, " bytes follow");
    r.labels = reinterpret_cast<const float*>(p + off);
    r.num_labels = r.flag;
    off += need;
  } else {
    r.labels = &r.label;
    r.num_labels = 1;
  }
  r.image = p + off;
  r.image_size = rec.size() - off;
  return r;
}

}  // namespace mxn::io
