// Image augmentation of ImageRecordIter: shorter-side resize, random or center crop, random
// resized crop, mirror, and the final mean/std normalisation into CHW, fused into one pass
// over the source pixels where no resampling is needed.
#pragma once
#include <cstdint>

#include "core/io/image_codec.h"

namespace mxn::io {

// splitmix64: a tiny, seedable generator; one per sample, seeded from (seed, stream position),
// so the augmentation of a sample never depends on which thread ran it.
struct SampleRng {
  uint64_t state;
  explicit SampleRng(uint64_t seed) : state(seed) {}
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
  int64_t below(int64_t n) { return n <= 1 ? 0 : static_cast<int64_t>(next() % uint64_t(n)); }
};

struct AugmentParams {
  int channels = 3, height = 224, width = 224;  // output (data_shape)
  int resize = -1;                              // shorter side first, when > 0
  bool rand_crop = false, rand_mirror = false, mirror = false;
  bool random_resized_crop = false;
  float min_random_area = 1.f, max_random_area = 1.f;
  float min_aspect_ratio = 1.f, max_aspect_ratio = 1.f;
  float mean[3] = {0, 0, 0}, std[3] = {1, 1, 1};
  float scale = 1.f;
};

// Bilinear resize (pixel centres aligned, as OpenCV's INTER_LINEAR).
void resize_bilinear(const Image& src, int height, int width, Image* dst);
// Bilinear resize of the window (y0, x0, h, w) of src.
void resize_window(const Image& src, int y0, int x0, int h, int w, int height, int width,
                   Image* dst);

// Augments `img` (channels must equal p.channels) and writes p.channels x p.height x p.width
// values: float ((pixel - mean) / std * scale) into out_f, or raw uint8 into out_u8 (exactly
// one of them is non-null). `scratch` holds intermediate images between calls.
void augment_to_chw(const Image& img, const AugmentParams& p, SampleRng& rng, Image* scratch,
                    float* out_f, uint8_t* out_u8);

}  // namespace mxn::io
