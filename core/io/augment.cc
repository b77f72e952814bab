#include "core/io/augment.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/base/error.h"

namespace mxn::io {

void resize_window(const Image& src, int y0, int x0, int h, int w, int height, int width,
                   Image* dst) {
  const int c = src.channels;
  dst->height = height;
  dst->width = width;
  dst->channels = c;
  dst->pixels.resize(static_cast<size_t>(height) * width * c);
  const double sy = static_cast<double>(h) / height, sx = static_cast<double>(w) / width;
  std::vector<int> xi(static_cast<size_t>(width) * 2);
  std::vector<float> xw(width);
  for (int x = 0; x < width; ++x) {
    double fx = (x + 0.5) * sx - 0.5;
    fx = std::min<double>(std::max<double>(fx, 0.0), w - 1);
    const int ix = std::min(static_cast<int>(fx), w - 1);
    xi[2 * x] = (x0 + ix) * c;
    xi[2 * x + 1] = (x0 + std::min(ix + 1, w - 1)) * c;
    xw[x] = static_cast<float>(fx - ix);
  }
  const size_t row = static_cast<size_t>(src.width) * c;
  std::vector<float> tmp(static_cast<size_t>(width) * c);
  for (int y = 0; y < height; ++y) {
    double fy = (y + 0.5) * sy - 0.5;
    fy = std::min<double>(std::max<double>(fy, 0.0), h - 1);
    const int iy = std::min(static_cast<int>(fy), h - 1);
    const float wy = static_cast<float>(fy - iy);
    const uint8_t* r0 = src.pixels.data() + (y0 + iy) * row;
    const uint8_t* r1 = src.pixels.data() + (y0 + std::min(iy + 1, h - 1)) * row;
    uint8_t* out = dst->pixels.data() + static_cast<size_t>(y) * width * c;
    for (int x = 0; x < width; ++x) {
      const int a = xi[2 * x], b = xi[2 * x + 1];
      const float wx = xw[x];
      for (int k = 0; k < c; ++k) {
        const float top = r0[a + k] + (r0[b + k] - r0[a + k]) * wx;
        const float bot = r1[a + k] + (r1[b + k] - r1[a + k]) * wx;
        const float v = top + (bot - top) * wy;
        out[x * c + k] = static_cast<uint8_t>(std::min(255.f, std::max(0.f, v + 0.5f)));
      }
    }
  }
}

void resize_bilinear(const Image& src, int height, int width, Image* dst) {
  resize_window(src, 0, 0, src.height, src.width, height, width, dst);
}

void augment_to_chw(const Image& img, const AugmentParams& p, SampleRng& rng, Image* scratch,
                    float* out_f, uint8_t* out_u8) {
  MXN_CHECK(img.channels == p.channels, ErrorCode::kInternal, "augment: image has ",
            img.channels, " channels, expected ", p.channels);
  const Image* cur = &img;
  Image resized;
  if (p.resize > 0 && std::min(cur->height, cur->width) != p.resize) {
    int h, w;
    if (cur->height < cur->width) {
      h = p.resize;
      w = std::max(1, static_cast<int>(std::lround(double(cur->width) * p.resize / cur->height)));
    } else {
      w = p.resize;
      h = std::max(1, static_cast<int>(std::lround(double(cur->height) * p.resize / cur->width)));
    }
    resize_bilinear(*cur, h, w, &resized);
    cur = &resized;
  }
  const int H = p.height, W = p.width;
  int y0 = 0, x0 = 0;
  if (p.random_resized_crop) {
    const double area = double(cur->height) * cur->width;
    int ch = cur->height, cw = cur->width;
    bool found = false;
    for (int attempt = 0; attempt < 10 && !found; ++attempt) {
      const double target = area * (p.min_random_area +
                                     rng.uniform() * (p.max_random_area - p.min_random_area));
      const double lr0 = std::log(p.min_aspect_ratio), lr1 = std::log(p.max_aspect_ratio);
      const double ratio = std::exp(lr0 + rng.uniform() * (lr1 - lr0));
      const int w = static_cast<int>(std::lround(std::sqrt(target * ratio)));
      const int h = static_cast<int>(std::lround(std::sqrt(target / ratio)));
      if (w >= 1 && h >= 1 && w <= cur->width && h <= cur->height) {
        cw = w;
        ch = h;
        found = true;
      }
    }
    if (!found) {  // fall back to the largest centred square-ish window
      cw = ch = std::min(cur->height, cur->width);
    }
    y0 = found ? static_cast<int>(rng.below(cur->height - ch + 1)) : (cur->height - ch) / 2;
    x0 = found ? static_cast<int>(rng.below(cur->width - cw + 1)) : (cur->width - cw) / 2;
    resize_window(*cur, y0, x0, ch, cw, H, W, scratch);
    cur = scratch;
    y0 = x0 = 0;
  } else {
    if (cur->height < H || cur->width < W) {
      // Smaller than the output: scale up until it covers it, then crop.
      const double s = std::max(double(H) / cur->height, double(W) / cur->width);
      const int h = std::max(H, static_cast<int>(std::ceil(cur->height * s - 1e-9)));
      const int w = std::max(W, static_cast<int>(std::ceil(cur->width * s - 1e-9)));
      resize_bilinear(*cur, h, w, scratch);
      cur = scratch;
    }
    if (p.rand_crop) {
      y0 = static_cast<int>(rng.below(cur->height - H + 1));
      x0 = static_cast<int>(rng.below(cur->width - W + 1));
    } else {
      y0 = (cur->height - H) / 2;
      x0 = (cur->width - W) / 2;
    }
  }
  const bool flip = p.mirror || (p.rand_mirror && rng.uniform() < 0.5);
  const int c = p.channels;
  const size_t row = static_cast<size_t>(cur->width) * c;
  const size_t plane = static_cast<size_t>(H) * W;
  for (int y = 0; y < H; ++y) {
    const uint8_t* src = cur->pixels.data() + (y0 + y) * row + static_cast<size_t>(x0) * c;
    for (int k = 0; k < c; ++k) {
      if (out_f) {
        float* dst = out_f + k * plane + static_cast<size_t>(y) * W;
        const float mul = p.scale / p.std[k], add = -p.mean[k] * mul;
        if (flip) {
          for (int x = 0; x < W; ++x) dst[x] = src[(W - 1 - x) * c + k] * mul + add;
        } else {
          for (int x = 0; x < W; ++x) dst[x] = src[x * c + k] * mul + add;
        }
      } else {
        uint8_t* dst = out_u8 + k * plane + static_cast<size_t>(y) * W;
        if (flip) {
          for (int x = 0; x < W; ++x) dst[x] = src[(W - 1 - x) * c + k];
        } else {
          for (int x = 0; x < W; ++x) dst[x] = src[x * c + k];
        }
      }
    }
  }
}

}  // namespace mxn::io
