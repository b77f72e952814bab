// CSVIter: rows of comma-separated numbers (data_csv, optionally label_csv), each reshaped to
// data_shape / label_shape, in file order, batched with MXNet's round_batch rules.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/io/data_iter.h"
#include "core/io/sample_stream.h"

namespace mxn::io {

namespace {

// All rows of a CSV file, each exactly `width` numbers.
std::vector<float> read_csv(const std::string& path, int64_t width, int64_t* rows) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  MXN_CHECK(f != nullptr, ErrorCode::kIO, "cannot open '", path, "' for reading: ",
            std::strerror(errno));
  std::string text;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) text.append(buf, n);
  std::fclose(f);
  std::vector<float> out;
  int64_t line = 0;
  size_t pos = 0;
  *rows = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    ++line;
    std::string row = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (!row.empty() && row.back() == '\r') row.pop_back();
    if (row.find_first_not_of(" \t") == std::string::npos) continue;  // blank line
    const char* p = row.c_str();
    int64_t count = 0;
    for (;;) {
      char* end = nullptr;
      errno = 0;
      const float v = std::strtof(p, &end);
      MXN_CHECK(end != p, ErrorCode::kFormat, "CSV file '", path, "', line ", line, ", value ",
                count + 1, ": not a number near '", std::string(p).substr(0, 20), "'");
      ++count;
      MXN_CHECK(count <= width, ErrorCode::kFormat, "CSV file '", path, "', line ", line,
                ": more than ", width, " values (the shape's size)");
      out.push_back(v);
      p = end;
      while (*p == ' ' || *p == '\t') ++p;
      if (*p == '\0') break;
      MXN_CHECK(*p == ',', ErrorCode::kFormat, "CSV file '", path, "', line ", line,
                ": unexpected '", *p, "'");
      ++p;
    }
    MXN_CHECK(count == width, ErrorCode::kFormat, "CSV file '", path, "', line ", line, ": ",
              count, " values, the shape needs ", width);
    ++*rows;
  }
  return out;
}

class CSVIter : public DataIter {
 public:
  explicit CSVIter(const OpParams& p) {
    batch_size_ = p.get_int("batch_size");
    MXN_CHECK(batch_size_ > 0, ErrorCode::kInvalidArg, "batch_size must be > 0");
    const Shape& ds = p.get_shape("data_shape");
    const Shape& ls = p.get_shape("label_shape");
    MXN_CHECK(ds.ndim() >= 1 && ds.size() > 0 && ls.ndim() >= 1 && ls.size() > 0,
              ErrorCode::kInvalidArg, "data_shape and label_shape must be non-empty");
    dwidth_ = ds.size();
    lwidth_ = ls.size();
    round_batch_ = p.get_bool("round_batch");
    int64_t rows = 0;
    data_ = read_csv(p.get_string("data_csv"), dwidth_, &rows);
    const std::string label_csv = p.get_string("label_csv");
    if (!label_csv.empty() && label_csv != "NULL") {
      int64_t lrows = 0;
      labels_ = read_csv(label_csv, lwidth_, &lrows);
      MXN_CHECK(lrows == rows, ErrorCode::kFormat, "'", label_csv, "' has ", lrows,
                " rows but '", p.get_string("data_csv"), "' has ", rows);
    } else {
      labels_.assign(static_cast<size_t>(rows * lwidth_), 0.f);
    }
    stream_ = std::make_unique<SampleStream>(rows, false, 0);
    data_shape_ = Shape{batch_size_};
    for (int i = 0; i < ds.ndim(); ++i) data_shape_.push_back(ds[i]);
    label_shape_ = Shape{batch_size_};
    if (!(ls.ndim() == 1 && ls[0] == 1)) {
      for (int i = 0; i < ls.ndim(); ++i) label_shape_.push_back(ls[i]);
    }
  }

  bool next() override {
    has_batch_ = false;
    if (stream_->size() == 0) return false;
    NDArray data = NDArray::empty(data_shape_, DType::kFloat32, Device{});
    NDArray label = NDArray::empty(label_shape_, DType::kFloat32, Device{});
    NDArray index = NDArray::empty(Shape{batch_size_}, DType::kInt64, Device{});
    float* d = static_cast<float*>(data.data());
    float* l = static_cast<float*>(label.data());
    int64_t* ix = static_cast<int64_t*>(index.data());
    int64_t got = 0, pad = 0, pos = 0;
    auto put = [&](int64_t position) {
      const int64_t s = stream_->sample_at(position);
      std::memcpy(d + got * dwidth_, &data_[s * dwidth_], sizeof(float) * dwidth_);
      std::memcpy(l + got * lwidth_, &labels_[s * lwidth_], sizeof(float) * lwidth_);
      ix[got++] = s;
    };
    while (got < batch_size_ && stream_->take(&pos)) put(pos);
    if (got == 0) return false;
    if (got < batch_size_) {
      pad = batch_size_ - got;
      if (round_batch_) {
        while (got < batch_size_) put(stream_->take_overflow());
      } else {
        std::memset(d + got * dwidth_, 0, sizeof(float) * dwidth_ * pad);
        std::memset(l + got * lwidth_, 0, sizeof(float) * lwidth_ * pad);
        for (int64_t k = got; k < batch_size_; ++k) ix[k] = 0;
      }
    }
    batch_ = DataBatch{data, label, index, static_cast<int>(pad)};
    has_batch_ = true;
    return true;
  }

  void reset() override {
    stream_->reset();
    has_batch_ = false;
  }

 private:
  int64_t batch_size_ = 0, dwidth_ = 0, lwidth_ = 0;
  bool round_batch_ = true;
  std::vector<float> data_, labels_;
  std::unique_ptr<SampleStream> stream_;
};

}  // namespace

[[maybe_unused]] static IterDef& csv_iter_registration =
    IterRegistry::get()
        .add("CSVIter")
        .describe("Rows of comma-separated numbers as float32 batches of (batch, *data_shape), "
                  "labels (batch, *label_shape) (or (batch,) for label_shape (1,)).")
        .required("data_csv", ParamType::kString, "The data CSV file.")
        .required("data_shape", ParamType::kShape, "Shape of one row of data.")
        .param("label_csv", ParamType::kString, ParamValue::of_string("NULL"),
               "The label CSV file ('NULL': labels are 0).")
        .param("label_shape", ParamType::kShape, ParamValue::of_shape(Shape{1}),
               "Shape of one row of labels.")
        .param("batch_size", ParamType::kInt, ParamValue::of_int(100), "Rows per batch.")
        .param("round_batch", ParamType::kBool, ParamValue::of_bool(true),
               "Fill the last batch from the start of the next epoch (else pad it).")
        .param("prefetch_buffer", ParamType::kInt, ParamValue::of_int(4),
               "Accepted for compatibility (the data is in memory).")
        .factory([](const OpParams& p) -> std::unique_ptr<DataIter> {
          return std::make_unique<CSVIter>(p);
        });

}  // namespace mxn::io
