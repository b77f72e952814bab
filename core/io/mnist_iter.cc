// MNISTIter: the IDX files of MNIST (images: magic 2051, count, rows, cols, uint8 pixels;
// labels: magic 2049, count, uint8 labels), loaded once, shuffled once from the seed (as MXNet
// does), served in full batches of float32 pixels / 255; a last partial batch is dropped.
#include <cstdio>
#include <cstring>

#include "core/io/augment.h"
#include "core/io/data_iter.h"

namespace mxn::io {

namespace {

std::vector<unsigned char> read_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  MXN_CHECK(f != nullptr, ErrorCode::kIO, "cannot open '", path, "' for reading");
  std::vector<unsigned char> data;
  unsigned char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) data.insert(data.end(), buf, buf + n);
  const bool err = std::ferror(f) != 0;
  std::fclose(f);
  MXN_CHECK(!err, ErrorCode::kIO, "reading '", path, "' failed");
  return data;
}

uint32_t be32(const unsigned char* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}

class MNISTIter : public DataIter {
 public:
  explicit MNISTIter(const OpParams& p) {
    const std::string image_path = p.get_string("image"), label_path = p.get_string("label");
    batch_size_ = p.get_int("batch_size");
    MXN_CHECK(batch_size_ > 0, ErrorCode::kInvalidArg, "batch_size must be > 0");
    const std::vector<unsigned char> img = read_file(image_path);
    const std::vector<unsigned char> lab = read_file(label_path);
    MXN_CHECK(img.size() >= 16 && be32(img.data()) == 2051, ErrorCode::kFormat, "'", image_path,
              "' is not an IDX image file (magic 2051)");
    MXN_CHECK(lab.size() >= 8 && be32(lab.data()) == 2049, ErrorCode::kFormat, "'", label_path,
              "' is not an IDX label file (magic 2049)");
    const uint64_t n = be32(img.data() + 4), rows = be32(img.data() + 8),
                   cols = be32(img.data() + 12);
    MXN_CHECK(rows > 0 && cols > 0 && rows <= 65536 && cols <= 65536 &&
                  (img.size() - 16) % (rows * cols) == 0 &&
                  n == (img.size() - 16) / (rows * cols),
              ErrorCode::kFormat, "'", image_path, "': header says ", n, " images of ", rows, "x",
              cols, " but the file holds ", img.size() - 16, " bytes of pixels");
    MXN_CHECK(be32(lab.data() + 4) == n && lab.size() - 8 == n, ErrorCode::kFormat, "'",
              label_path, "': ", be32(lab.data() + 4), " labels (", lab.size() - 8,
              " bytes) for ", n, " images");
    const int64_t parts = p.get_int("num_parts"), part = p.get_int("part_index");
    MXN_CHECK(parts >= 1 && part >= 0 && part < parts, ErrorCode::kInvalidArg,
              "part_index must be in [0, num_parts)");
    const uint64_t b = n * part / parts, e = n * (part + 1) / parts;
    pixels_ = rows * cols;
    images_.assign(img.begin() + 16 + b * pixels_, img.begin() + 16 + e * pixels_);
    labels_.assign(lab.begin() + 8 + b, lab.begin() + 8 + e);
    order_.resize(e - b);
    for (size_t i = 0; i < order_.size(); ++i) order_[i] = static_cast<int64_t>(b + i);
    if (p.get_bool("shuffle")) {
      SampleRng rng(static_cast<uint64_t>(p.get_int("seed")) * 0x9e3779b97f4a7c15ull + 11);
      for (int64_t i = static_cast<int64_t>(order_.size()) - 1; i > 0; --i)
        std::swap(order_[i], order_[rng.below(i + 1)]);
    }
    first_ = static_cast<int64_t>(b);
    data_shape_ = p.get_bool("flat") ? Shape{batch_size_, static_cast<int64_t>(pixels_)}
                                     : Shape{batch_size_, 1, static_cast<int64_t>(rows),
                                             static_cast<int64_t>(cols)};
    label_shape_ = Shape{batch_size_};
  }

  bool next() override {
    has_batch_ = false;
    if (loc_ + batch_size_ > static_cast<int64_t>(order_.size())) return false;
    NDArray data = NDArray::empty(data_shape_, DType::kFloat32, Device{});
    NDArray label = NDArray::empty(label_shape_, DType::kFloat32, Device{});
    NDArray index = NDArray::empty(Shape{batch_size_}, DType::kInt64, Device{});
    float* d = static_cast<float*>(data.data());
    float* l = static_cast<float*>(label.data());
    int64_t* ix = static_cast<int64_t*>(index.data());
    for (int64_t k = 0; k < batch_size_; ++k) {
      const int64_t s = order_[static_cast<size_t>(loc_ + k)];
      const unsigned char* src = images_.data() + (s - first_) * pixels_;
      for (uint64_t j = 0; j < pixels_; ++j) d[k * pixels_ + j] = src[j] * (1.0f / 255.0f);
      l[k] = labels_[static_cast<size_t>(s - first_)];
      ix[k] = s;
    }
    loc_ += batch_size_;
    batch_ = DataBatch{data, label, index, 0};
    has_batch_ = true;
    return true;
  }

  void reset() override {
    loc_ = 0;
    has_batch_ = false;
  }

 private:
  int64_t batch_size_ = 0, loc_ = 0, first_ = 0;
  uint64_t pixels_ = 0;
  std::vector<unsigned char> images_, labels_;
  std::vector<int64_t> order_;
};

}  // namespace

[[maybe_unused]] static IterDef& mnist_iter_registration =
    IterRegistry::get()
        .add("MNISTIter")
        .describe("MNIST in IDX files: batches of (batch, 1, rows, cols) float32 pixels in "
                  "[0, 1] (or (batch, rows*cols) with flat) and float32 labels.")
        .param("image", ParamType::kString, ParamValue::of_string("./train-images-idx3-ubyte"),
               "The IDX image file.")
        .param("label", ParamType::kString, ParamValue::of_string("./train-labels-idx1-ubyte"),
               "The IDX label file.")
        .param("batch_size", ParamType::kInt, ParamValue::of_int(128), "Samples per batch.")
        .param("shuffle", ParamType::kBool, ParamValue::of_bool(true),
               "Shuffle once at load, from seed.")
        .param("flat", ParamType::kBool, ParamValue::of_bool(false),
               "Batches of (batch, rows*cols).")
        .param("seed", ParamType::kInt, ParamValue::of_int(0), "Seed of the shuffle.")
        .param("silent", ParamType::kBool, ParamValue::of_bool(false),
               "Accepted for compatibility.")
        .param("num_parts", ParamType::kInt, ParamValue::of_int(1), "Split into this many parts...")
        .param("part_index", ParamType::kInt, ParamValue::of_int(0), "...and read this one.")
        .param("prefetch_buffer", ParamType::kInt, ParamValue::of_int(4),
               "Accepted for compatibility (the data is in memory).")
        .factory([](const OpParams& p) -> std::unique_ptr<DataIter> {
          return std::make_unique<MNISTIter>(p);
        });

}  // namespace mxn::io
