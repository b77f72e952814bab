// ImageRecordIter / ImageRecordUInt8Iter: images packed by im2rec (IRHeader + JPEG/PNG in a
// RecordIO file), decoded and augmented on a pool of preprocess_threads workers.
//
// Threading: the calling thread (next()) owns the sample stream and dispatches stream
// positions to the workers, keeping up to prefetch_buffer batches in flight. Each position has
// a slot in a ring; a worker reads its record (positional reads, no shared file position),
// decodes, augments straight into the slot, and marks it done (or stores the error). next()
// takes the slots in stream order, copies them into the batch and dispatches more work, so
// the workers decode batch k+1.. while the caller trains on batch k. An error is rethrown by
// next() for the sample that failed, naming the file and record; with skip_corrupt the sample
// is left out with a warning and the batch is filled from the following ones.
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "core/io/augment.h"
#include "core/io/data_iter.h"
#include "core/io/image_codec.h"
#include "core/io/image_record.h"
#include "core/io/recordio.h"
#include "core/io/sample_stream.h"
#include "core/io/thread_pool.h"

namespace mxn::io {

namespace {

class ImageRecordIter : public DataIter {
 public:
  ImageRecordIter(const OpParams& p, bool uint8_out) : uint8_(uint8_out) {
    path_ = p.get_string("path_imgrec");
    MXN_CHECK(!path_.empty(), ErrorCode::kInvalidArg, "path_imgrec is required");
    const Shape& ds = p.get_shape("data_shape");
    MXN_CHECK(ds.ndim() == 3 && (ds[0] == 1 || ds[0] == 3) && ds[1] > 0 && ds[2] > 0,
              ErrorCode::kInvalidArg, "data_shape must be (channels, height, width) with 1 or 3 ",
              "channels, got ", ds.str());
    batch_size_ = p.get_int("batch_size");
    MXN_CHECK(batch_size_ > 0, ErrorCode::kInvalidArg, "batch_size must be > 0, got ",
              batch_size_);
    label_width_ = p.get_int("label_width");
    MXN_CHECK(label_width_ >= 1, ErrorCode::kInvalidArg, "label_width must be >= 1");
    round_batch_ = p.get_bool("round_batch");
    skip_corrupt_ = p.get_bool("skip_corrupt");
    seed_ = static_cast<uint64_t>(p.get_int("seed"));
    const int64_t threads = p.get_int("preprocess_threads");
    MXN_CHECK(threads >= 1 && threads <= 256, ErrorCode::kInvalidArg,
              "preprocess_threads must be in [1, 256], got ", threads);
    const int64_t prefetch = p.get_int("prefetch_buffer");
    MXN_CHECK(prefetch >= 1, ErrorCode::kInvalidArg, "prefetch_buffer must be >= 1");
    num_parts_ = static_cast<int>(p.get_int("num_parts"));
    part_index_ = static_cast<int>(p.get_int("part_index"));
    // OpenCV's codes (MXNet passes them through); bilinear (1) is the only one implemented.
    const int64_t inter = p.get_int("inter_method");
    MXN_CHECK(inter == 1, ErrorCode::kNotImplemented, "inter_method=", inter,
              " is not supported: resizing is bilinear (inter_method=1)");

    aug_.channels = static_cast<int>(ds[0]);
    aug_.height = static_cast<int>(ds[1]);
    aug_.width = static_cast<int>(ds[2]);
    aug_.resize = static_cast<int>(p.get_int("resize"));
    aug_.rand_crop = p.get_bool("rand_crop");
    aug_.rand_mirror = p.get_bool("rand_mirror");
    aug_.mirror = p.get_bool("mirror");
    aug_.random_resized_crop = p.get_bool("random_resized_crop");
    aug_.min_random_area = static_cast<float>(p.get_float("min_random_area"));
    aug_.max_random_area = static_cast<float>(p.get_float("max_random_area"));
    aug_.min_aspect_ratio = static_cast<float>(p.get_float("min_aspect_ratio"));
    aug_.max_aspect_ratio = static_cast<float>(p.get_float("max_aspect_ratio"));
    MXN_CHECK(aug_.min_random_area > 0 && aug_.min_random_area <= aug_.max_random_area &&
                  aug_.max_random_area <= 1,
              ErrorCode::kInvalidArg, "need 0 < min_random_area <= max_random_area <= 1");
    MXN_CHECK(aug_.min_aspect_ratio > 0 && aug_.min_aspect_ratio <= aug_.max_aspect_ratio,
              ErrorCode::kInvalidArg, "need 0 < min_aspect_ratio <= max_aspect_ratio");
    if (!uint8_) {
      const char* mean_names[3] = {"mean_r", "mean_g", "mean_b"};
      const char* std_names[3] = {"std_r", "std_g", "std_b"};
      for (int k = 0; k < 3; ++k) {
        aug_.mean[k] = static_cast<float>(p.get_float(mean_names[k]));
        aug_.std[k] = static_cast<float>(p.get_float(std_names[k]));
        MXN_CHECK(aug_.std[k] != 0, ErrorCode::kInvalidArg, std_names[k], " must not be 0");
      }
      aug_.scale = static_cast<float>(p.get_float("scale"));
    }

    file_ = std::make_unique<RecordFile>(path_);
    int64_t begin = 0, end = 0;
    file_->part_range(num_parts_, part_index_, &begin, &end);
    index_ = index_part(begin, end);
    stream_ = std::make_unique<SampleStream>(static_cast<int64_t>(index_.size()),
                                             p.get_bool("shuffle"), seed_);

    data_dtype_ = uint8_ ? DType::kUint8 : DType::kFloat32;
    data_shape_ = Shape{batch_size_, ds[0], ds[1], ds[2]};
    label_shape_ = label_width_ == 1 ? Shape{batch_size_} : Shape{batch_size_, label_width_};
    sample_bytes_ = static_cast<size_t>(ds.size()) * dtype_size(data_dtype_);
    ring_ = static_cast<int64_t>(batch_size_ * prefetch + batch_size_);
    slots_.resize(static_cast<size_t>(ring_));
    slot_data_.resize(static_cast<size_t>(ring_) * sample_bytes_);
    pool_ = std::make_unique<ThreadPool>(static_cast<int>(threads));
    std::lock_guard<std::mutex> lock(mu_);
    dispatch_locked();
  }

  ~ImageRecordIter() override { pool_.reset(); }  // joins before the slots go away

  bool next() override {
    has_batch_ = false;
    if (stream_->size() == 0) return false;
    NDArray data = NDArray::empty(data_shape_, data_dtype_, Device{});
    NDArray label = NDArray::empty(label_shape_, DType::kFloat32, Device{});
    NDArray index = NDArray::empty(Shape{batch_size_}, DType::kInt64, Device{});
    char* dst = static_cast<char*>(data.data());
    float* lab = static_cast<float*>(label.data());
    int64_t* idx = static_cast<int64_t*>(index.data());
    int64_t got = 0, pad = 0, pos = 0;
    while (got < batch_size_ && stream_->take(&pos)) {
      if (collect(pos, got, dst, lab, idx)) ++got;
    }
    if (got == 0) return false;
    if (got < batch_size_) {
      if (round_batch_) {
        // Fill from the start of the next epoch (skipping corrupt ones, within reason).
        int64_t tries = 0;
        while (got < batch_size_ && tries++ < 4 * stream_->size() + batch_size_) {
          if (collect(stream_->take_overflow(), got, dst, lab, idx)) {
            ++got;
            ++pad;
          }
        }
        MXN_CHECK(got == batch_size_, ErrorCode::kFormat, "file '", path_,
                  "': too few readable records to fill a batch");
      } else {
        pad = batch_size_ - got;
        std::memset(dst + got * sample_bytes_, 0, pad * sample_bytes_);
        std::fill(lab + got * label_width_, lab + batch_size_ * label_width_, 0.f);
        std::fill(idx + got, idx + batch_size_, int64_t{0});
      }
    }
    batch_.data = data;
    batch_.label = label;
    batch_.index = index;
    batch_.pad = static_cast<int>(pad);
    has_batch_ = true;
    return true;
  }

  void reset() override {
    has_batch_ = false;
    const int64_t pos = stream_->reset();
    std::unique_lock<std::mutex> lock(mu_);
    if (pos > consumed_) {
      // Work dispatched for positions being skipped must finish before its slots are reused.
      cv_.wait(lock, [&] { return in_flight_ == 0; });
      for (auto& s : slots_) s.state = kEmpty;
      consumed_ = pos;
      if (dispatched_ < pos) dispatched_ = pos;
      // Positions >= pos that were already dispatched and done stay valid.
      for (int64_t q = pos; q < dispatched_; ++q) slots_[q % ring_].state = kDone;
      // (their results are intact: in_flight_ == 0, nothing overwrote them)
    }
    dispatch_locked();
  }

 private:
  enum State : int { kEmpty = 0, kPending = 1, kDone = 2 };
  struct Slot {
    int state = kEmpty;
    bool ok = false;
    Error error{ErrorCode::kOk, ""};
    float labels[16] = {};
    std::vector<float> more_labels;  // label_width > 16
    int64_t id = 0;
  };

  std::vector<int64_t> index_part(int64_t begin, int64_t end) {
    if (!skip_corrupt_) return file_->index_records(begin, end);
    // Skip what cannot be framed: resynchronise at the next record start.
    std::vector<int64_t> all;
    int64_t pos = begin;
    while (pos < end) {
      try {
        std::vector<int64_t> part = file_->index_records(pos, end);
        all.insert(all.end(), part.begin(), part.end());
        break;
      } catch (const Error& e) {
        if (e.code() != ErrorCode::kFormat) throw;
        // Keep the records before the broken one, then resume after it.
        std::vector<int64_t> good;
        int64_t p = pos;
        std::string scratch;
        while (p < end) {
          try {
            const int64_t nxt = file_->read_record(p, &scratch);
            good.push_back(p);
            p = nxt;
          } catch (const Error&) {
            break;
          }
        }
        all.insert(all.end(), good.begin(), good.end());
        std::fprintf(stderr, "mxnext: warning: skipping corrupt data in '%s' at offset %lld: %s\n",
                     path_.c_str(), static_cast<long long>(p), e.message().c_str());
        pos = file_->seek_record_begin(p + 4);
      }
    }
    return all;
  }

  std::string where(int64_t rec) const {
    std::string s = cat("file '", path_, "', record ", rec);
    if (num_parts_ > 1) s += cat(" of part ", part_index_, "/", num_parts_);
    return cat(s, " (offset ", index_[static_cast<size_t>(rec)], ")");
  }

  void dispatch_locked() {
    while (dispatched_ < consumed_ + ring_) {
      const int64_t pos = dispatched_++;
      const int64_t rec = stream_->sample_at(pos);
      Slot& s = slots_[pos % ring_];
      s.state = kPending;
      ++in_flight_;
      pool_->submit([this, pos, rec] { work(pos, rec); });
    }
  }

  void work(int64_t pos, int64_t rec) {
    Slot& s = slots_[pos % ring_];
    char* out = slot_data_.data() + (pos % ring_) * sample_bytes_;
    thread_local std::string buf;
    thread_local Image img, scratch;
    try {
      file_->read_record(index_[static_cast<size_t>(rec)], &buf, rec);
      const std::string w = where(rec);
      ImageRecord r = parse_image_record(buf, w);
      decode_image(r.image, r.image_size, aug_.channels, &img, w);
      SampleRng rng(seed_ * 0xd1342543de82ef95ull + static_cast<uint64_t>(pos) * 0x9e3779b97f4a7c15ull + 7);
      augment_to_chw(img, aug_, rng, &scratch, uint8_ ? nullptr : reinterpret_cast<float*>(out),
                     uint8_ ? reinterpret_cast<uint8_t*>(out) : nullptr);
      float* l = s.labels;
      if (label_width_ > 16) {
        s.more_labels.resize(static_cast<size_t>(label_width_));
        l = s.more_labels.data();
      }
      for (int64_t k = 0; k < label_width_; ++k) l[k] = r.label_at(static_cast<uint32_t>(k));
      s.id = static_cast<int64_t>(r.id);
      s.ok = true;
    } catch (const Error& e) {
      s.ok = false;
      s.error = e;
      if (e.message().find(path_) == std::string::npos) s.error.prefix(where(rec));
    } catch (const std::bad_alloc&) {
      s.ok = false;
      s.error = Error(ErrorCode::kOutOfMemory, cat(where(rec), ": out of memory"));
    } catch (const std::exception& e) {
      s.ok = false;
      s.error = Error(ErrorCode::kInternal, cat(where(rec), ": ", e.what()));
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      s.state = kDone;
      --in_flight_;
    }
    cv_.notify_all();
  }

  // Waits for position pos, copies it into row `row`; false when skipped as corrupt.
  bool collect(int64_t pos, int64_t row, char* dst, float* lab, int64_t* idx) {
    std::unique_lock<std::mutex> lock(mu_);
    if (pos >= dispatched_) {  // only after a jump: dispatch up to it
      consumed_ = pos;
      if (dispatched_ < pos) dispatched_ = pos;
      dispatch_locked();
    }
    Slot& s = slots_[pos % ring_];
    cv_.wait(lock, [&] { return s.state == kDone; });
    lock.unlock();
    bool ok = s.ok;
    Error err = ok ? Error(ErrorCode::kOk, "") : s.error;
    if (ok) {
      std::memcpy(dst + row * sample_bytes_, slot_data_.data() + (pos % ring_) * sample_bytes_,
                  sample_bytes_);
      const float* l = label_width_ > 16 ? s.more_labels.data() : s.labels;
      std::memcpy(lab + row * label_width_, l, sizeof(float) * label_width_);
      idx[row] = s.id;
    }
    lock.lock();
    s.state = kEmpty;
    consumed_ = pos + 1;
    dispatch_locked();
    lock.unlock();
    if (!ok) {
      if (!skip_corrupt_ || err.code() != ErrorCode::kFormat) throw err;
      std::fprintf(stderr, "mxnext: warning: skipping a corrupt record: %s\n",
                   err.message().c_str());
      return false;
    }
    return true;
  }

  bool uint8_;
  std::string path_;
  int64_t batch_size_ = 0, label_width_ = 1;
  bool round_batch_ = true, skip_corrupt_ = false;
  uint64_t seed_ = 0;
  int num_parts_ = 1, part_index_ = 0;
  AugmentParams aug_;
  std::unique_ptr<RecordFile> file_;
  std::vector<int64_t> index_;
  std::unique_ptr<SampleStream> stream_;
  size_t sample_bytes_ = 0;
  int64_t ring_ = 0;
  std::vector<Slot> slots_;
  std::vector<char> slot_data_;
  std::mutex mu_;
  std::condition_variable cv_;
  int64_t dispatched_ = 0, consumed_ = 0, in_flight_ = 0;
  std::unique_ptr<ThreadPool> pool_;
};

IterDef& image_record_params(IterDef& d, bool uint8_out) {
  d.required("path_imgrec", ParamType::kString, "The RecordIO file (.rec) of packed images.")
      .param("path_imgidx", ParamType::kString, ParamValue::of_string(""),
             "The .idx file; accepted for compatibility (records are located by scanning).")
      .required("data_shape", ParamType::kShape, "(channels, height, width) of each image.")
      .required("batch_size", ParamType::kInt, "Samples per batch.")
      .param("label_width", ParamType::kInt, ParamValue::of_int(1),
             "Labels per image (multi-label headers give up to this many; missing are 0).")
      .param("shuffle", ParamType::kBool, ParamValue::of_bool(false),
             "Visit the records in a new random order every epoch.")
      .param("seed", ParamType::kInt, ParamValue::of_int(0),
             "Seed of the shuffle and the augmentations (same seed, same batches).")
      .param("round_batch", ParamType::kBool, ParamValue::of_bool(true),
             "Fill the last batch from the start of the next epoch (else pad it).")
      .param("preprocess_threads", ParamType::kInt, ParamValue::of_int(4),
             "Decoding and augmentation threads.")
      .param("prefetch_buffer", ParamType::kInt, ParamValue::of_int(4),
             "Batches decoded ahead of the caller.")
      .param("num_parts", ParamType::kInt, ParamValue::of_int(1),
             "Split the file into this many parts (one per worker or machine)...")
      .param("part_index", ParamType::kInt, ParamValue::of_int(0), "...and read this part.")
      .param("resize", ParamType::kInt, ParamValue::of_int(-1),
             "Resize the shorter side to this many pixels before cropping (-1: no).")
      .param("rand_crop", ParamType::kBool, ParamValue::of_bool(false),
             "Crop at a random position (else the centre).")
      .param("rand_mirror", ParamType::kBool, ParamValue::of_bool(false),
             "Mirror horizontally with probability 0.5.")
      .param("mirror", ParamType::kBool, ParamValue::of_bool(false), "Always mirror.")
      .param("random_resized_crop", ParamType::kBool, ParamValue::of_bool(false),
             "Crop a random area and aspect ratio, then resize to data_shape.")
      .param("min_random_area", ParamType::kFloat, ParamValue::of_float(1.0),
             "Smallest crop area (fraction of the image) for random_resized_crop.")
      .param("max_random_area", ParamType::kFloat, ParamValue::of_float(1.0),
             "Largest crop area (fraction of the image) for random_resized_crop.")
      .param("min_aspect_ratio", ParamType::kFloat, ParamValue::of_float(1.0),
             "Smallest width/height ratio for random_resized_crop.")
      .param("max_aspect_ratio", ParamType::kFloat, ParamValue::of_float(1.0),
             "Largest width/height ratio for random_resized_crop.")
      .param("inter_method", ParamType::kInt, ParamValue::of_int(1),
             "Interpolation, OpenCV's codes: only 1 (bilinear) is implemented; others are an "
             "error.")
      .param("skip_corrupt", ParamType::kBool, ParamValue::of_bool(false),
             "Leave corrupt records out with a warning instead of failing at next().")
      .param("verbose", ParamType::kBool, ParamValue::of_bool(false), "Accepted for compatibility.");
  if (!uint8_out) {
    d.param("mean_r", ParamType::kFloat, ParamValue::of_float(0), "Mean of the red channel.")
        .param("mean_g", ParamType::kFloat, ParamValue::of_float(0), "Mean of the green channel.")
        .param("mean_b", ParamType::kFloat, ParamValue::of_float(0), "Mean of the blue channel.")
        .param("std_r", ParamType::kFloat, ParamValue::of_float(1), "Std of the red channel.")
        .param("std_g", ParamType::kFloat, ParamValue::of_float(1), "Std of the green channel.")
        .param("std_b", ParamType::kFloat, ParamValue::of_float(1), "Std of the blue channel.")
        .param("scale", ParamType::kFloat, ParamValue::of_float(1),
               "Multiplies (pixel - mean) / std.");
  }
  return d;
}

}  // namespace

[[maybe_unused]] static IterDef& image_record_iter_registration =
    image_record_params(IterRegistry::get().add("ImageRecordIter"), false)
        .describe("Images packed in RecordIO (im2rec), decoded (JPEG/PNG) and augmented on "
                  "preprocess_threads threads into float32 batches (batch, c, h, w) of "
                  "(pixel - mean) / std * scale, RGB.")
        .factory([](const OpParams& p) -> std::unique_ptr<DataIter> {
          return std::make_unique<ImageRecordIter>(p, false);
        });

[[maybe_unused]] static IterDef& image_record_uint8_iter_registration =
    image_record_params(IterRegistry::get().add("ImageRecordUInt8Iter"), true)
        .describe("ImageRecordIter with uint8 batches of the augmented pixels (no "
                  "normalisation), RGB.")
        .factory([](const OpParams& p) -> std::unique_ptr<DataIter> {
          return std::make_unique<ImageRecordIter>(p, true);
        });

}  // namespace mxn::io
