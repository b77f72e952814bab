// The order in which an iterator visits its n samples: an endless stream of positions, epoch
// after epoch (epoch e = positions [e*n, (e+1)*n), reshuffled per epoch from the seed when
// shuffle is on), with MXNet's batching rules on top:
//  - take() hands out the positions of the current epoch;
//  - round_batch: a short last batch is filled from the start of the next epoch
//    (take_overflow()), and the following reset() continues after those samples, as MXNet's
//    BatchLoader does; otherwise the last batch is padded and reset() moves to the next epoch.
#pragma once
#include <cstdint>
#include <vector>

namespace mxn::io {

class SampleStream {
 public:
  SampleStream(int64_t n, bool shuffle, uint64_t seed) : n_(n), shuffle_(shuffle), seed_(seed) {
    epoch_end_ = n;
  }
  int64_t size() const { return n_; }
  // The sample index at a stream position. Not thread-safe (callers hold their lock).
  int64_t sample_at(int64_t pos);
  bool take(int64_t* pos) {
    if (pos_ >= epoch_end_) return false;
    *pos = pos_++;
    return true;
  }
  int64_t take_overflow() {  // n > 0
    overflow_ = true;
    return pos_++;
  }
  int64_t position() const { return pos_; }
  // Starts the next epoch (nothing to do when no sample of this one was taken yet); returns
  // the new position.
  int64_t reset();

 private:
  const std::vector<int64_t>& order(int64_t epoch);
  int64_t n_;
  bool shuffle_;
  uint64_t seed_;
  int64_t pos_ = 0, epoch_end_ = 0, epoch_start_ = 0;
  bool overflow_ = false;
  int64_t cached_epoch_[2] = {-1, -1};
  std::vector<int64_t> cached_[2];
};

}  // namespace mxn::io
