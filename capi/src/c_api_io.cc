// RecordIO handles, image codecs and data iterators (core/io) behind the C ABI.
#include <cstring>
#include <memory>

#include "capi/src/handles.h"
#include "core/io/data_iter.h"
#include "core/io/image_codec.h"
#include "core/io/recordio.h"

using namespace mxn;
using mxn::capi::check_out;

constexpr uint32_t kRecordIOMagic = 0x5245434eu;  // "RECN"
constexpr uint32_t kDataIterMagic = 0x4954524eu;  // "ITRN"

struct mxn_recordio {
  uint32_t magic = kRecordIOMagic;
  std::unique_ptr<io::RecordReader> reader;
  std::unique_ptr<io::RecordWriter> writer;
  std::string record;  // the last record read (borrowed by mxn_recordio_read's caller)
  bool closed = false;
};

struct mxn_dataiter {
  uint32_t magic = kDataIterMagic;
  std::string name;
  std::unique_ptr<io::DataIter> iter;
};

namespace {

mxn_recordio* recordio_of(mxn_recordio* h, const char* what) {
  MXN_CHECK(h != nullptr, ErrorCode::kInvalidArg, what, " is a NULL RecordIO handle");
  MXN_CHECK(h->magic == kRecordIOMagic, ErrorCode::kInvalidArg, what,
            " is not a RecordIO handle (wrong handle type or already freed)");
  return h;
}

const mxn_recordio* recordio_of(const mxn_recordio* h, const char* what) {
  return recordio_of(const_cast<mxn_recordio*>(h), what);
}

io::RecordReader& reader_of(mxn_recordio* h) {
  MXN_CHECK(!h->closed, ErrorCode::kInvalidArg, "the RecordIO handle is closed");
  MXN_CHECK(h->reader != nullptr, ErrorCode::kInvalidArg,
            "the RecordIO handle was opened for writing, not reading");
  return *h->reader;
}

mxn_dataiter* dataiter_of(const mxn_dataiter* h, const char* what) {
  MXN_CHECK(h != nullptr, ErrorCode::kInvalidArg, what, " is a NULL data iterator handle");
  MXN_CHECK(h->magic == kDataIterMagic, ErrorCode::kInvalidArg, what,
            " is not a data iterator handle (wrong handle type or already freed)");
  return const_cast<mxn_dataiter*>(h);
}


const io::DataBatch& batch_of(const mxn_dataiter* h) {
  mxn_dataiter* it = dataiter_of(h, "iter");
  MXN_CHECK(it->iter->has_batch(), ErrorCode::kInvalidArg, it->name,
            ": no current batch (call next first; after the last batch there is none)");
  return it->iter->batch();
}

}  // namespace

extern "C" {

int mxn_recordio_open(const char* path, const char* mode, mxn_recordio** out) {
  MXN_API_BEGIN();
  check_out(out, "out");
  MXN_CHECK(path != nullptr, ErrorCode::kInvalidArg, "path is NULL");
  MXN_CHECK(mode != nullptr, ErrorCode::kInvalidArg, "mode is NULL");
  const std::string m = mode;
  MXN_CHECK(m == "r" || m == "w", ErrorCode::kInvalidArg, "mode must be \"r\" or \"w\", got \"",
            m, "\"");
  auto h = std::make_unique<mxn_recordio>();
  if (m == "r") {
    h->reader = std::make_unique<io::RecordReader>(path);
  } else {
    h->writer = std::make_unique<io::RecordWriter>(path);
  }
  *out = h.release();
  MXN_API_END();
}

int mxn_recordio_open_part(const char* path, int32_t num_parts, int32_t part_index,
                           mxn_recordio** out) {
  MXN_API_BEGIN();
  check_out(out, "out");
  MXN_CHECK(path != nullptr, ErrorCode::kInvalidArg, "path is NULL");
  MXN_CHECK(num_parts >= 1 && part_index >= 0 && part_index < num_parts, ErrorCode::kInvalidArg,
            "part_index ", part_index, " is out of range [0, ", num_parts, ")");
  auto h = std::make_unique<mxn_recordio>();
  h->reader = std::make_unique<io::RecordReader>(path, num_parts, part_index);
  *out = h.release();
  MXN_API_END();
}

int mxn_recordio_close(mxn_recordio* rec) {
  MXN_API_BEGIN();
  mxn_recordio* h = recordio_of(rec, "rec");
  if (!h->closed) {
    h->closed = true;
    if (h->writer) h->writer->close();
  }
  MXN_API_END();
}

void mxn_recordio_free(mxn_recordio* rec) {
  if (rec == nullptr || rec->magic != kRecordIOMagic) return;
  rec->magic = 0;
  try {
    delete rec;  // the writer's destructor closes without throwing
  } catch (...) {
  }
}

int mxn_recordio_write(mxn_recordio* rec, const void* data, size_t size) {
  MXN_API_BEGIN();
  mxn_recordio* h = recordio_of(rec, "rec");
  MXN_CHECK(!h->closed, ErrorCode::kInvalidArg, "the RecordIO handle is closed");
  MXN_CHECK(h->writer != nullptr, ErrorCode::kInvalidArg,
            "the RecordIO handle was opened for reading, not writing");
  MXN_CHECK(size == 0 || data != nullptr, ErrorCode::kInvalidArg, "data is NULL");
  h->writer->write(data, size);
  MXN_API_END();
}

int mxn_recordio_read(mxn_recordio* rec, const void** data, size_t* size, int32_t* has_record) {
  MXN_API_BEGIN();
  mxn_recordio* h = recordio_of(rec, "rec");
  check_out(data, "data");
  check_out(size, "size");
  check_out(has_record, "has_record");
  io::RecordReader& r = reader_of(h);
  std::string next;
  if (!r.next(&next)) {
    *has_record = 0;
  } else {
    h->record.swap(next);
    *data = h->record.data();
    *size = h->record.size();
    *has_record = 1;
  }
  MXN_API_END();
}

int mxn_recordio_tell(const mxn_recordio* rec, int64_t* out) {
  MXN_API_BEGIN();
  const mxn_recordio* h = recordio_of(rec, "rec");
  check_out(out, "out");
  *out = h->writer ? h->writer->tell() : h->reader->tell();
  MXN_API_END();
}

int mxn_recordio_seek(mxn_recordio* rec, int64_t offset) {
  MXN_API_BEGIN();
  reader_of(recordio_of(rec, "rec")).seek(offset);
  MXN_API_END();
}

int mxn_recordio_reset(mxn_recordio* rec) {
  MXN_API_BEGIN();
  reader_of(recordio_of(rec, "rec")).reset();
  MXN_API_END();
}

int mxn_image_decode(const void* data, size_t size, int32_t channels, mxn_ndarray** out) {
  MXN_API_BEGIN();
  check_out(out, "out");
  MXN_CHECK(data != nullptr || size == 0, ErrorCode::kInvalidArg, "data is NULL");
  MXN_CHECK(channels == 0 || channels == 1 || channels == 3, ErrorCode::kInvalidArg,
            "channels must be 0, 1 or 3, got ", channels);
  io::Image img;
  io::decode_image(static_cast<const unsigned char*>(data), size, channels, &img, "image");
  NDArray a = NDArray::empty(Shape{img.height, img.width, img.channels}, DType::kUint8, Device{});
  std::memcpy(a.data(), img.pixels.data(), img.pixels.size());
  *out = capi::new_handle(std::move(a));
  MXN_API_END();
}

int mxn_image_encode(const mxn_ndarray* image, const char* format, int32_t quality,
                     mxn_ndarray** out) {
  MXN_API_BEGIN();
  const NDArray& a = capi::ndarray_of(image, "image");
  check_out(out, "out");
  MXN_CHECK(format != nullptr, ErrorCode::kInvalidArg, "format is NULL");
  const std::string f = format;
  MXN_CHECK(f == "jpeg" || f == "png", ErrorCode::kInvalidArg,
            "format must be \"jpeg\" or \"png\", got \"", f, "\"");
  MXN_CHECK(a.dtype() == DType::kUint8, ErrorCode::kDType, "images are uint8, got ",
            dtype_name(a.dtype()));
  const Shape& s = a.shape();
  MXN_CHECK(s.ndim() == 2 || (s.ndim() == 3 && (s[2] == 1 || s[2] == 3)), ErrorCode::kShape,
            "an image is (height, width) or (height, width, 1 or 3), got ", s.str());
  MXN_CHECK(s[0] > 0 && s[1] > 0 && s[0] <= 65535 && s[1] <= 65535, ErrorCode::kShape,
            "cannot encode an image of shape ", s.str());
  a.wait_to_read();
  const int c = s.ndim() == 2 ? 1 : static_cast<int>(s[2]);
  const auto* px = static_cast<const uint8_t*>(a.data());
  const std::string bytes = f == "jpeg"
      ? io::encode_jpeg(px, static_cast<int>(s[0]), static_cast<int>(s[1]), c, quality)
      : io::encode_png(px, static_cast<int>(s[0]), static_cast<int>(s[1]), c, quality);
  NDArray b = NDArray::empty(Shape{static_cast<int64_t>(bytes.size())}, DType::kUint8, Device{});
  std::memcpy(b.data(), bytes.data(), bytes.size());
  *out = capi::new_handle(std::move(b));
  MXN_API_END();
}

const char* mxn_dataiter_schema_json(void) {
  try {
    return io::IterRegistry::get().schema_json().c_str();
  } catch (...) {
    return "{}";
  }
}

int mxn_dataiter_create(const char* name, int32_t num_params, const char* const* keys,
                        const mxn_value* values, mxn_dataiter** out) {
  MXN_API_BEGIN();
  check_out(out, "out");
  MXN_CHECK(name != nullptr, ErrorCode::kInvalidArg, "iterator name is NULL");
  MXN_CHECK(num_params >= 0, ErrorCode::kInvalidArg, "num_params is negative");
  MXN_CHECK(num_params == 0 || (keys != nullptr && values != nullptr), ErrorCode::kInvalidArg,
            "keys or values is NULL");
  std::vector<ParamValue> vals(static_cast<size_t>(num_params));
  for (int32_t k = 0; k < num_params; ++k) {
    vals[k] = capi::param_value(values[k], keys[k] ? keys[k] : "(null)");
  }
  auto h = std::make_unique<mxn_dataiter>();
  h->name = name;
  h->iter = io::create_iter(name, num_params, keys, vals.data());
  *out = h.release();
  MXN_API_END();
}

void mxn_dataiter_free(mxn_dataiter* iter) {
  if (iter == nullptr || iter->magic != kDataIterMagic) return;
  iter->magic = 0;
  delete iter;
}

int mxn_dataiter_next(mxn_dataiter* iter, int32_t* has_batch) {
  MXN_API_BEGIN();
  mxn_dataiter* h = dataiter_of(iter, "iter");
  check_out(has_batch, "has_batch");
  try {
    *has_batch = h->iter->next() ? 1 : 0;
  } catch (Error& e) {
    if (e.op_name().empty()) e.with_op(h->name);
    throw;
  }
  MXN_API_END();
}

int mxn_dataiter_reset(mxn_dataiter* iter) {
  MXN_API_BEGIN();
  dataiter_of(iter, "iter")->iter->reset();
  MXN_API_END();
}

int mxn_dataiter_data(const mxn_dataiter* iter, mxn_ndarray** out) {
  MXN_API_BEGIN();
  const io::DataBatch& b = batch_of(iter);
  check_out(out, "out");
  *out = capi::new_handle(b.data);
  MXN_API_END();
}

int mxn_dataiter_label(const mxn_dataiter* iter, mxn_ndarray** out) {
  MXN_API_BEGIN();
  const io::DataBatch& b = batch_of(iter);
  check_out(out, "out");
  *out = capi::new_handle(b.label);
  MXN_API_END();
}

int mxn_dataiter_index(const mxn_dataiter* iter, mxn_ndarray** out) {
  MXN_API_BEGIN();
  const io::DataBatch& b = batch_of(iter);
  check_out(out, "out");
  *out = capi::new_handle(b.index);
  MXN_API_END();
}

int mxn_dataiter_pad(const mxn_dataiter* iter, int32_t* out) {
  MXN_API_BEGIN();
  const io::DataBatch& b = batch_of(iter);
  check_out(out, "out");
  *out = b.pad;
  MXN_API_END();
}

int mxn_dataiter_batch_shape(const mxn_dataiter* iter, int32_t which, int32_t* ndim,
                             const int64_t** dims, int32_t* dtype) {
  MXN_API_BEGIN();
  mxn_dataiter* h = dataiter_of(iter, "iter");
  check_out(ndim, "ndim");
  check_out(dims, "dims");
  check_out(dtype, "dtype");
  MXN_CHECK(which == 0 || which == 1, ErrorCode::kInvalidArg,
            "which must be 0 (data) or 1 (label), got ", which);
  const Shape& s = which == 0 ? h->iter->data_shape() : h->iter->label_shape();
  *ndim = s.ndim();
  *dims = s.data();
  *dtype = static_cast<int32_t>(which == 0 ? h->iter->data_dtype() : DType::kFloat32);
  MXN_API_END();
}

}  // extern "C"
