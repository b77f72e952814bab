// Image codecs for builds without libjpeg-turbo and libpng (the WebAssembly build,
// MXN_BUILD_WASM): the same interface as image_codec.cc; decoding and encoding are
// NotImplemented with a message saying so. Record parsing, iterators over raw records and
// everything else in core/io are unchanged.
#include <cstring>

#include "core/base/error.h"
#include "core/io/image_codec.h"

namespace mxn::io {

namespace {
[[noreturn]] void no_codecs(const char* what) {
  throw Error(ErrorCode::kNotImplemented,
              cat(what, ": this build has no JPEG/PNG codecs (WebAssembly build)"));
}
}  // namespace

ImageFormat sniff_image(const unsigned char* data, size_t size) {
  if (size >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff) return ImageFormat::kJPEG;
  static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (size >= 8 && std::memcmp(data, png_sig, 8) == 0) return ImageFormat::kPNG;
  return ImageFormat::kUnknown;
}

void decode_image(const unsigned char*, size_t, int, Image*, const std::string&) {
  no_codecs("image decode");
}
void image_size(const unsigned char*, size_t, int*, int*, const std::string&) {
  no_codecs("image size");
}
std::string encode_jpeg(const uint8_t*, int, int, int, int) { no_codecs("JPEG encode"); }
std::string encode_png(const uint8_t*, int, int, int, int) { no_codecs("PNG encode"); }

}  // namespace mxn::io
