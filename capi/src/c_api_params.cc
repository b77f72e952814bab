// Apache MXNet NDArray list files (mx.nd.save / mx.nd.load, .params checkpoints): save to a
// file or a buffer, load into an mxn_ndarray_list.
#include <string>
#include <vector>

#include "capi/src/handles.h"
#include "core/tensor/params_io.h"

using namespace mxn;
using mxn::capi::check_out;
using mxn::capi::ndarray_of;

constexpr uint32_t kNDArrayListMagic = 0x4e444c53u;  // "NDLS"

struct mxn_ndarray_list {
  uint32_t magic = kNDArrayListMagic;
  NamedArrays contents;
};

namespace {

const NamedArrays& list_of(const mxn_ndarray_list* h, const char* what) {
  MXN_CHECK(h != nullptr, ErrorCode::kInvalidArg, what, " is a NULL array-list handle");
  MXN_CHECK(h->magic == kNDArrayListMagic, ErrorCode::kInvalidArg, what,
            " is not an array-list handle (wrong handle type or already freed)");
  return h->contents;
}

void gather(int32_t num, mxn_ndarray* const* arrays, const char* const* names,
            std::vector<NDArray>* out, std::vector<std::string>* out_names) {
  MXN_CHECK(num >= 0, ErrorCode::kInvalidArg, "save: num must be >= 0, got ", num);
  MXN_CHECK(num == 0 || arrays != nullptr, ErrorCode::kInvalidArg, "save: arrays is NULL");
  out->reserve(static_cast<size_t>(num));
  for (int32_t i = 0; i < num; ++i) {
    try {
      out->push_back(ndarray_of(arrays[i], "array"));
    } catch (Error& e) {
      e.prefix(cat("save: array ", i));
      e.with_arg(i);
      throw;
    }
  }
  if (names == nullptr) return;
  out_names->reserve(static_cast<size_t>(num));
  for (int32_t i = 0; i < num; ++i) {
    if (names[i] == nullptr) {
      throw Error(ErrorCode::kInvalidArg, cat("save: name ", i, " is NULL")).with_arg(i);
    }
    out_names->emplace_back(names[i]);
  }
}

mxn_ndarray_list* new_list(NamedArrays contents) {
  auto* h = new mxn_ndarray_list();
  h->contents = std::move(contents);
  return h;
}

}  // namespace

extern "C" {

int mxn_ndarray_save(const char* path, int32_t num, mxn_ndarray* const* arrays,
                     const char* const* names) {
  MXN_API_BEGIN();
  MXN_CHECK(path != nullptr, ErrorCode::kInvalidArg, "save: path is NULL");
  std::vector<NDArray> as;
  std::vector<std::string> ns;
  gather(num, arrays, names, &as, &ns);
  save_params_to_file(path, as, ns);
  MXN_API_END();
}

int mxn_ndarray_save_to_buffer(int32_t num, mxn_ndarray* const* arrays,
                               const char* const* names, mxn_ndarray** out) {
  MXN_API_BEGIN();
  check_out(out, "out");
  std::vector<NDArray> as;
  std::vector<std::string> ns;
  gather(num, arrays, names, &as, &ns);
  const std::string bytes = save_params_to_buffer(as, ns);
  NDArray buf = NDArray::empty(Shape{static_cast<int64_t>(bytes.size())}, DType::kUint8,
                               Device::cpu());
  copy_from_host(buf, bytes.data(), bytes.size());
  *out = capi::new_handle(std::move(buf));
  MXN_API_END();
}

int mxn_ndarray_load(const char* path, mxn_ndarray_list** out) {
  MXN_API_BEGIN();
  MXN_CHECK(path != nullptr, ErrorCode::kInvalidArg, "load: path is NULL");
  check_out(out, "out");
  NamedArrays contents = load_params_from_file(path);
  *out = new_list(std::move(contents));
  MXN_API_END();
}

int mxn_ndarray_load_from_buffer(const void* data, size_t size, mxn_ndarray_list** out) {
  MXN_API_BEGIN();
  check_out(out, "out");
  NamedArrays contents = load_params_from_buffer(data, size);
  *out = new_list(std::move(contents));
  MXN_API_END();
}

int mxn_ndarray_list_size(const mxn_ndarray_list* list, int32_t* num_arrays,
                          int32_t* num_names) {
  MXN_API_BEGIN();
  const NamedArrays& c = list_of(list, "list");
  check_out(num_arrays, "num_arrays");
  check_out(num_names, "num_names");
  MXN_CHECK(c.arrays.size() <= static_cast<size_t>(INT32_MAX), ErrorCode::kNotImplemented,
            "the list holds more than 2^31-1 arrays");
  *num_arrays = static_cast<int32_t>(c.arrays.size());
  *num_names = static_cast<int32_t>(c.names.size());
  MXN_API_END();
}

int mxn_ndarray_list_get(const mxn_ndarray_list* list, int32_t index, mxn_ndarray** out) {
  MXN_API_BEGIN();
  const NamedArrays& c = list_of(list, "list");
  check_out(out, "out");
  if (index < 0 || static_cast<size_t>(index) >= c.arrays.size()) {
    throw Error(ErrorCode::kInvalidArg, cat("index ", index, " is out of range for a list of ",
                                            c.arrays.size(), " arrays"))
        .with_arg(1);
  }
  *out = capi::new_handle(c.arrays[static_cast<size_t>(index)]);
  MXN_API_END();
}

int mxn_ndarray_list_name(const mxn_ndarray_list* list, int32_t index, const char** name,
                          size_t* length) {
  MXN_API_BEGIN();
  const NamedArrays& c = list_of(list, "list");
  check_out(name, "name");
  MXN_CHECK(!c.names.empty(), ErrorCode::kInvalidArg,
            "the list has no names (it was saved as a list, not a dict)");
  if (index < 0 || static_cast<size_t>(index) >= c.names.size()) {
    throw Error(ErrorCode::kInvalidArg, cat("index ", index, " is out of range for a list of ",
                                            c.names.size(), " names"))
        .with_arg(1);
  }
  const std::string& n = c.names[static_cast<size_t>(index)];
  *name = n.c_str();
  if (length != nullptr) *length = n.size();
  MXN_API_END();
}

void mxn_ndarray_list_free(mxn_ndarray_list* list) {
  if (list == nullptr || list->magic != kNDArrayListMagic) return;
  list->magic = 0;
  delete list;
}

}  // extern "C"
