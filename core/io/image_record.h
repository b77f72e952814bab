// The IRHeader that MXNet's recordio.pack puts before an image (struct 'IfQQ', 24 bytes):
// flag (0: one label in `label`; n > 0: n float32 labels follow the header), label, id, id2.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace mxn::io {

constexpr size_t kIRHeaderSize = 24;

struct ImageRecord {
  uint32_t flag = 0;
  float label = 0;
  uint64_t id = 0, id2 = 0;
  const float* labels = nullptr;  // flag floats (unaligned: read with memcpy), or &label
  uint32_t num_labels = 1;
  const unsigned char* image = nullptr;  // the encoded image after the labels
  size_t image_size = 0;
  float label_at(uint32_t i) const;  // 0 past num_labels
};

// Splits a record; throws kFormat naming `where` when it is too short for its header.
ImageRecord parse_image_record(const std::string& rec, const std::string& where);

}  // namespace mxn::io
