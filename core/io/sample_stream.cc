#include "core/io/sample_stream.h"

#include <numeric>

#include "core/io/augment.h"

namespace mxn::io {

const std::vector<int64_t>& SampleStream::order(int64_t epoch) {
  for (int k = 0; k < 2; ++k) {
    if (cached_epoch_[k] == epoch) return cached_[k];
  }
  const int k = cached_epoch_[0] < cached_epoch_[1] ? 0 : 1;  // replace the older epoch
  std::vector<int64_t>& v = cached_[k];
  v.resize(static_cast<size_t>(n_));
  std::iota(v.begin(), v.end(), int64_t{0});
  SampleRng rng(seed_ * 0x9e3779b97f4a7c15ull + static_cast<uint64_t>(epoch) + 1);
  for (int64_t i = n_ - 1; i > 0; --i) std::swap(v[i], v[rng.below(i + 1)]);
  cached_epoch_[k] = epoch;
  return v;
}

int64_t SampleStream::sample_at(int64_t pos) {
  if (!shuffle_) return pos % n_;
  return order(pos / n_)[static_cast<size_t>(pos % n_)];
}

int64_t SampleStream::reset() {
  if (n_ == 0 || pos_ == epoch_start_) return pos_;
  epoch_start_ = pos_;
  if (overflow_) {
    // The overflow samples were the start of the epoch now beginning.
    overflow_ = false;
    epoch_end_ += n_;
    if (pos_ >= epoch_end_) epoch_end_ = (pos_ / n_ + 1) * n_;
    return pos_;
  }
  if (pos_ < epoch_end_) pos_ = epoch_end_;  // abandon the rest of this epoch
  epoch_start_ = pos_;
  epoch_end_ = pos_ + n_;
  return pos_;
}

}  // namespace mxn::io
