#include "core/io/image_codec.h"

#include <png.h>
#include <turbojpeg.h>

#include <cstring>

#include "core/base/error.h"

namespace mxn::io {

namespace {

constexpr int64_t kMaxPixels = int64_t{1} << 28;

// One TurboJPEG handle per thread and direction (handles are not thread-safe; creating one
// per image costs more than small decodes).
struct TjHandle {
  tjhandle h = nullptr;
  explicit TjHandle(bool compress) { h = compress ? tjInitCompress() : tjInitDecompress(); }
  ~TjHandle() {
    if (h) tjDestroy(h);
  }
};
tjhandle tj_decoder() {
  thread_local TjHandle handle(false);
  MXN_CHECK(handle.h != nullptr, ErrorCode::kInternal, "tjInitDecompress failed");
  return handle.h;
}
tjhandle tj_encoder() {
  thread_local TjHandle handle(true);
  MXN_CHECK(handle.h != nullptr, ErrorCode::kInternal, "tjInitCompress failed");
  return handle.h;
}

void check_dims(int64_t h, int64_t w, const std::string& where) {
  MXN_CHECK(h > 0 && w > 0 && h * w <= kMaxPixels, ErrorCode::kFormat, where,
            ": image of ", w, "x", h, " pixels is empty or too large");
}

void jpeg_header(const unsigned char* data, size_t size, int* h, int* w, int* cs,
                 const std::string& where) {
  MXN_CHECK(size <= 0x7fffffffu, ErrorCode::kFormat, where, ": JPEG data too large");
  int subsamp = 0;
  if (tjDecompressHeader3(tj_decoder(), data, static_cast<unsigned long>(size), w, h, &subsamp,
                          cs) != 0) {
    throw Error(ErrorCode::kFormat,
                cat(where, ": corrupt JPEG header (", tjGetErrorStr2(tj_decoder()), ")"));
  }
  check_dims(*h, *w, where);
}

void decode_jpeg(const unsigned char* data, size_t size, int channels, Image* out,
                 const std::string& where) {
  int h = 0, w = 0, cs = 0;
  jpeg_header(data, size, &h, &w, &cs, where);
  if (channels == 0) channels = cs == TJCS_GRAY ? 1 : 3;
  out->height = h;
  out->width = w;
  out->channels = channels;
  out->pixels.resize(static_cast<size_t>(h) * w * channels);
  const int fmt = channels == 1 ? TJPF_GRAY : TJPF_RGB;
  if (tjDecompress2(tj_decoder(), data, static_cast<unsigned long>(size), out->pixels.data(), w,
                    0, h, fmt, 0) != 0) {
    // Warnings (extraneous bytes, a premature end) leave a usable image, as in OpenCV.
    if (tjGetErrorCode(tj_decoder()) != TJERR_WARNING) {
      throw Error(ErrorCode::kFormat,
                  cat(where, ": corrupt JPEG data (", tjGetErrorStr2(tj_decoder()), ")"));
    }
  }
}

void decode_png(const unsigned char* data, size_t size, int channels, Image* out,
                const std::string& where) {
  png_image img;
  std::memset(&img, 0, sizeof(img));
  img.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&img, data, size)) {
    std::string msg = img.message;
    png_image_free(&img);
    throw Error(ErrorCode::kFormat, cat(where, ": corrupt PNG (", msg, ")"));
  }
  if (channels == 0) channels = (img.format & PNG_FORMAT_FLAG_COLOR) ? 3 : 1;
  const int64_t h = img.height, w = img.width;
  if (h <= 0 || w <= 0 || h * w > kMaxPixels) {
    png_image_free(&img);
    check_dims(h, w, where);
  }
  img.format = channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  out->height = static_cast<int>(h);
  out->width = static_cast<int>(w);
  out->channels = channels;
  out->pixels.resize(static_cast<size_t>(h * w * channels));
  if (!png_image_finish_read(&img, nullptr, out->pixels.data(), 0, nullptr)) {
    std::string msg = img.message;
    png_image_free(&img);
    throw Error(ErrorCode::kFormat, cat(where, ": corrupt PNG data (", msg, ")"));
  }
}

}  // namespace

ImageFormat sniff_image(const unsigned char* data, size_t size) {
  if (size >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff) return ImageFormat::kJPEG;
  static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (size >= 8 && std::memcmp(data, png_sig, 8) == 0) return ImageFormat::kPNG;
  return ImageFormat::kUnknown;
}

void decode_image(const unsigned char* data, size_t size, int channels, Image* out,
                  const std::string& where) {
  MXN_CHECK(channels == 0 || channels == 1 || channels == 3, ErrorCode::kInvalidArg,
            "images decode to 1 or 3 channels, not ", channels);
  switch (sniff_image(data, size)) {
    case ImageFormat::kJPEG: return decode_jpeg(data, size, channels, out, where);
    case ImageFormat::kPNG: return decode_png(data, size, channels, out, where);
    default: break;
  }
  throw Error(ErrorCode::kFormat, cat(where, ": not a JPEG or PNG image (", size, " bytes)"));
}

void image_size(const unsigned char* data, size_t size, int* height, int* width,
                const std::string& where) {
  if (sniff_image(data, size) == ImageFormat::kJPEG) {
    int cs = 0;
    jpeg_header(data, size, height, width, &cs, where);
    return;
  }
  Image img;
  decode_image(data, size, 0, &img, where);
  *height = img.height;
  *width = img.width;
}

std::string encode_jpeg(const uint8_t* pixels, int height, int width, int channels, int quality) {
  MXN_CHECK(channels == 1 || channels == 3, ErrorCode::kInvalidArg,
            "JPEG encoding takes 1 or 3 channels, not ", channels);
  MXN_CHECK(height > 0 && width > 0, ErrorCode::kInvalidArg, "cannot encode an empty image");
  MXN_CHECK(quality >= 1 && quality <= 100, ErrorCode::kInvalidArg, "JPEG quality must be in ",
            "[1, 100], got ", quality);
  unsigned char* buf = nullptr;
  unsigned long size = 0;
  const int fmt = channels == 1 ? TJPF_GRAY : TJPF_RGB;
  const int samp = channels == 1 ? TJSAMP_GRAY : TJSAMP_420;
  if (tjCompress2(tj_encoder(), pixels, width, 0, height, fmt, &buf, &size, samp, quality, 0) !=
      0) {
    if (buf) tjFree(buf);
    throw Error(ErrorCode::kInternal, cat("JPEG encoding failed: ", tjGetErrorStr2(tj_encoder())));
  }
  std::string out(reinterpret_cast<const char*>(buf), size);
  tjFree(buf);
  return out;
}

std::string encode_png(const uint8_t* pixels, int height, int width, int channels, int level) {
  MXN_CHECK(channels == 1 || channels == 3, ErrorCode::kInvalidArg,
            "PNG encoding takes 1 or 3 channels, not ", channels);
  MXN_CHECK(height > 0 && width > 0, ErrorCode::kInvalidArg, "cannot encode an empty image");
  MXN_CHECK(level >= 0 && level <= 9, ErrorCode::kInvalidArg, "PNG compression must be in ",
            "[0, 9], got ", level);
  png_image img;
  std::memset(&img, 0, sizeof(img));
  img.version = PNG_IMAGE_VERSION;
  img.width = static_cast<png_uint_32>(width);
  img.height = static_cast<png_uint_32>(height);
  img.format = channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  png_alloc_size_t size = 0;
  if (!png_image_write_get_memory_size(img, size, 0, pixels, 0, nullptr)) {
    throw Error(ErrorCode::kInternal, cat("PNG encoding failed: ", img.message));
  }
  std::string out(size, '\0');
  if (!png_image_write_to_memory(&img, &out[0], &size, 0, pixels, 0, nullptr)) {
    throw Error(ErrorCode::kInternal, cat("PNG encoding failed: ", img.message));
  }
  out.resize(size);
  return out;
}

}  // namespace mxn::io
