// Image decoding and encoding: JPEG through libjpeg-turbo's TurboJPEG API, PNG through libpng.
// Pixels are 8-bit, row-major HWC, RGB (3 channels) or gray (1).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace mxn::io {

struct Image {
  int height = 0, width = 0, channels = 0;
  std::vector<uint8_t> pixels;  // height * width * channels
};

enum class ImageFormat { kUnknown, kJPEG, kPNG };
ImageFormat sniff_image(const unsigned char* data, size_t size);

// Decodes a JPEG or PNG into `channels` (3: RGB, 1: gray, 0: as stored: 1 or 3) channels.
// Corrupt or unsupported data is kFormat, with `where` (file and record) in the message.
// Images larger than 2^28 pixels are refused before allocating.
void decode_image(const unsigned char* data, size_t size, int channels, Image* out,
                  const std::string& where);
// Width and height from the header only.
void image_size(const unsigned char* data, size_t size, int* height, int* width,
                const std::string& where);

// Encodes HWC pixels (1 or 3 channels, RGB) as JPEG (quality 1..100, 4:2:0 like OpenCV) or
// PNG (compression level 0..9: validated; libpng's simplified writer uses its default level).
std::string encode_jpeg(const uint8_t* pixels, int height, int width, int channels, int quality);
std::string encode_png(const uint8_t* pixels, int height, int width, int channels, int level);

}  // namespace mxn::io
