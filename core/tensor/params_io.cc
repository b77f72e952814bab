// Apache MXNet 1.x NDArray list files: see params_io.h for the format.
#include "core/tensor/params_io.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstring>
#include <memory>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "params_io: MXNet files are little-endian; a big-endian host needs byte swapping here"
#endif

namespace mxn {

namespace {

constexpr int32_t kDenseStorage = 0;
constexpr int32_t kRowSparseStorage = 1;
constexpr int32_t kCSRStorage = 2;

// ---- reading ------------------------------------------------------------------------------

// Bytes of a file or a buffer, read front to back. Every read is checked against the bytes
// that remain, so nothing is allocated for data that is not there.
class Source {
 public:
  virtual ~Source() = default;
  uint64_t pos() const { return pos_; }
  uint64_t remaining() const { return size_ - pos_; }

  void read(void* dst, uint64_t n, const char* what) {
    need(n, what);
    if (n) do_read(dst, static_cast<size_t>(n));
    pos_ += n;
  }
  void skip(uint64_t n, const char* what) {
    need(n, what);
    if (n) do_skip(n);
    pos_ += n;
  }
  void need(uint64_t n, const char* what) const {
    if (n > remaining()) {
      throw_error(ErrorCode::kFormat,
                  cat("truncated: ", what, " needs ", n, " bytes at byte ", pos_, " but only ",
                      remaining(), " remain"));
    }
  }
  uint32_t u32(const char* what) {
    uint32_t v;
    read(&v, 4, what);
    return v;
  }
  int32_t i32(const char* what) {
    int32_t v;
    read(&v, 4, what);
    return v;
  }
  int64_t i64(const char* what) {
    int64_t v;
    read(&v, 8, what);
    return v;
  }
  uint64_t u64(const char* what) {
    uint64_t v;
    read(&v, 8, what);
    return v;
  }

 protected:
  explicit Source(uint64_t size) : size_(size) {}
  virtual void do_read(void* dst, size_t n) = 0;
  virtual void do_skip(uint64_t n) = 0;
  uint64_t size_;
  uint64_t pos_ = 0;
};

class MemSource : public Source {
 public:
  MemSource(const void* data, size_t size) : Source(size), p_(static_cast<const char*>(data)) {}

 private:
  void do_read(void* dst, size_t n) override { std::memcpy(dst, p_ + pos_, n); }
  void do_skip(uint64_t) override {}
  const char* p_;
};

class FileSource : public Source {
 public:
  FileSource(FILE* f, uint64_t size) : Source(size), f_(f) {}

 private:
  void do_read(void* dst, size_t n) override {
    if (std::fread(dst, 1, n, f_) != n) {
      throw_error(ErrorCode::kIO, cat("read of ", n, " bytes at byte ", pos_, " failed (",
                                      std::ferror(f_) ? std::strerror(errno) : "file shrank",
                                      ")"));
    }
  }
  void do_skip(uint64_t n) override {
    if (fseeko(f_, static_cast<off_t>(pos_ + n), SEEK_SET) != 0) {
      throw_error(ErrorCode::kIO, cat("seek to byte ", pos_ + n, " failed: ", std::strerror(errno)));
    }
  }
  FILE* f_;
};

// Element sizes of MXNet's type flags, including those mxnext has no dtype for (so that such
// records can be skipped and reported by name). 0: not a type flag.
size_t flag_size(int32_t flag) {
  switch (flag) {
    case 0: return 4;   // float32
    case 1: return 8;   // float64
    case 2: return 2;   // float16
    case 3: return 1;   // uint8
    case 4: return 4;   // int32
    case 5: return 1;   // int8
    case 6: return 8;   // int64
    case 7: return 1;   // bool
    case 8: return 2;   // int16
    case 9: return 2;   // uint16
    case 10: return 4;  // uint32
    case 11: return 8;  // uint64
    case 12: return 2;  // bfloat16
    default: return 0;
  }
}
const char* flag_name(int32_t flag) {
  static const char* const names[] = {"float32", "float64", "float16", "uint8",  "int32",
                                      "int8",    "int64",   "bool",    "int16",  "uint16",
                                      "uint32",  "uint64",  "bfloat16"};
  return flag >= 0 && flag <= 12 ? names[flag] : "?";
}

struct RawShape {
  bool unknown = false;  // a "none" array (V3: ndim -1 or a dim -1)
  int32_t ndim = 0;
  int64_t dims[kParamsMaxNdim] = {};

  std::string str() const {
    std::string s = "(";
    for (int i = 0; i < ndim; ++i) s += cat(i ? "," : "", dims[i]);
    return s + ")";
  }
  // Element count with overflow checks (kFormat).
  uint64_t elements(const char* what) const {
    uint64_t n = 1;
    bool zero = false;
    for (int i = 0; i < ndim; ++i) zero = zero || dims[i] == 0;
    if (zero) return 0;
    for (int i = 0; i < ndim; ++i) {
      const uint64_t d = static_cast<uint64_t>(dims[i]);
      if (n > static_cast<uint64_t>(INT64_MAX) / d) {
        throw_error(ErrorCode::kFormat,
                    cat(what, " ", str(), ": the element count overflows int64"));
      }
      n *= d;
    }
    return n;
  }
};

void check_ndim(int64_t ndim, const char* what) {
  if (ndim < 0 || ndim > kParamsMaxNdim) {
    throw_error(ErrorCode::kFormat,
                cat(what, ": ndim ", ndim, " is out of range [0, ", kParamsMaxNdim, "]"));
  }
}

// MXNet's TShape: int32 ndim + int64 dims. np: V3 semantics, where -1 marks unknown.
RawShape read_tshape(Source& s, bool np, const char* what) {
  RawShape r;
  const int32_t ndim = s.i32(what);
  if (np && ndim == -1) {
    r.unknown = true;
    return r;
  }
  check_ndim(ndim, what);
  r.ndim = ndim;
  s.need(static_cast<uint64_t>(ndim) * 8, what);
  for (int i = 0; i < ndim; ++i) {
    const int64_t d = s.i64(what);
    if (np && d == -1) {
      r.unknown = true;
    } else if (d < 0) {
      throw_error(ErrorCode::kFormat, cat(what, ": dim ", i, " is negative (", d, ")"));
    }
    r.dims[i] = d;
  }
  return r;
}

// The pre-V1 shape: the record's first word is ndim, then uint32 dims.
RawShape read_legacy_shape(Source& s, uint32_t ndim) {
  RawShape r;
  if (ndim > static_cast<uint32_t>(kParamsMaxNdim)) {
    throw_error(ErrorCode::kFormat,
                cat("unknown record magic 0x", [&] {
                  char buf[16];
                  std::snprintf(buf, sizeof(buf), "%08x", ndim);
                  return std::string(buf);
                }(), " (not an NDArray record; as a legacy record it would be ndim ", ndim,
                    ", above ", kParamsMaxNdim, ")"));
  }
  r.ndim = static_cast<int32_t>(ndim);
  s.need(static_cast<uint64_t>(ndim) * 4, "legacy shape");
  for (uint32_t i = 0; i < ndim; ++i) r.dims[i] = s.u32("legacy shape");
  return r;
}

void read_context(Source& s) {
  const int32_t dev_type = s.i32("context");
  s.i32("context");  // dev_id: every array loads on the CPU
  // kCPU 1, kGPU 2, kCPUPinned 3, kCPUShared 5.
  if (dev_type != 1 && dev_type != 2 && dev_type != 3 && dev_type != 5) {
    throw_error(ErrorCode::kFormat, cat("unknown device type ", dev_type, " in the context"));
  }
}

uint64_t checked_bytes(uint64_t elements, size_t elem_size, const RawShape& shape,
                       const char* what) {
  if (elements > static_cast<uint64_t>(INT64_MAX) / elem_size) {
    throw_error(ErrorCode::kFormat,
                cat(what, " ", shape.str(), ": the byte count overflows int64"));
  }
  return elements * elem_size;
}

// A record that is well-formed but that mxnext cannot represent (sparse, int16, ...): skipped
// while the rest of the file is checked, then reported naming the array.
struct Deferred {
  bool set = false;
  size_t index = 0;
  ErrorCode code = ErrorCode::kNotImplemented;
  std::string message;
  void note(size_t i, std::string msg) {
    if (set) return;
    set = true;
    index = i;
    message = std::move(msg);
  }
};

NDArray empty_float32() { return NDArray::empty(Shape{0}, DType::kFloat32, Device::cpu()); }

// Reads the dense payload of a record into a new CPU array.
NDArray read_dense(Source& s, const RawShape& shape, int32_t flag, size_t index, Deferred* d) {
  const size_t esize = flag_size(flag);
  if (esize == 0) throw_error(ErrorCode::kFormat, cat("unknown type flag ", flag));
  const uint64_t bytes = checked_bytes(shape.elements("shape"), esize, shape, "shape");
  s.need(bytes, "array data");  // before any allocation
  if (!dtype_valid(flag)) {
    d->note(index, cat("dtype ", flag_name(flag), " (type flag ", flag,
                       ") is not supported by mxnext"));
    s.skip(bytes, "array data");
    return NDArray();
  }
  if (shape.ndim > kMaxNdim) {
    d->note(index, cat("shape ", shape.str(), " has ", shape.ndim,
                       " dimensions; mxnext arrays have at most ", kMaxNdim));
    s.skip(bytes, "array data");
    return NDArray();
  }
  const DType dt = static_cast<DType>(flag);
  NDArray a = NDArray::empty(Shape::from_dims(shape.dims, shape.ndim), dt, Device::cpu());
  s.read(a.data(), bytes, "array data");
  if (dt == DType::kBool) {  // a bool must hold 0 or 1
    auto* p = static_cast<uint8_t*>(a.data());
    for (uint64_t i = 0; i < bytes; ++i) p[i] = p[i] != 0;
  }
  return a;
}

NDArray read_record(Source& s, size_t index, Deferred* d) {
  const uint32_t magic = s.u32("record magic");
  if (magic == kNDArrayV2Magic || magic == kNDArrayV3Magic) {
    const bool np = magic == kNDArrayV3Magic;
    const int32_t stype = s.i32("storage type");
    int nad = 0;
    if (stype == kRowSparseStorage) {
      nad = 1;
    } else if (stype == kCSRStorage) {
      nad = 2;
    } else if (stype != kDenseStorage) {
      throw_error(ErrorCode::kFormat, cat("unknown storage type ", stype));
    }
    if (np && nad) {
      throw_error(ErrorCode::kFormat, "a V3 (NumPy-shape) record with sparse storage");
    }
    RawShape sshape;
    if (nad) sshape = read_tshape(s, false, "storage shape");
    const RawShape shape = read_tshape(s, np, "shape");
    if (shape.unknown || (!np && shape.ndim == 0)) return empty_float32();  // a "none" array
    read_context(s);
    const int32_t flag = s.i32("type flag");
    if (nad == 0) return read_dense(s, shape, flag, index, d);
    // Sparse: check and skip values (storage shape) and aux data, then report by name.
    const size_t esize = flag_size(flag);
    if (esize == 0) throw_error(ErrorCode::kFormat, cat("unknown type flag ", flag));
    uint64_t skip = checked_bytes(sshape.elements("storage shape"), esize, sshape,
                                  "storage shape");
    for (int i = 0; i < nad; ++i) {
      const int32_t aux_flag = s.i32("aux type flag");
      const size_t aux_size = flag_size(aux_flag);
      if (aux_size == 0) throw_error(ErrorCode::kFormat, cat("unknown aux type flag ", aux_flag));
      const RawShape aux = read_tshape(s, false, "aux shape");
      const uint64_t b = checked_bytes(aux.elements("aux shape"), aux_size, aux, "aux shape");
      if (b > static_cast<uint64_t>(INT64_MAX) - skip) {
        throw_error(ErrorCode::kFormat, "sparse record: the byte count overflows int64");
      }
      skip += b;
    }
    s.skip(skip, "sparse array data");
    d->note(index, cat("it has ", stype == kRowSparseStorage ? "row_sparse" : "csr",
                       " storage; mxnext loads dense arrays only"));
    return NDArray();
  }
  RawShape shape;
  if (magic == kNDArrayV1Magic) {
    const uint32_t ndim = s.u32("shape");
    check_ndim(ndim, "shape");
    shape.ndim = static_cast<int32_t>(ndim);
    s.need(static_cast<uint64_t>(ndim) * 8, "shape");
    for (uint32_t i = 0; i < ndim; ++i) {
      shape.dims[i] = s.i64("shape");
      if (shape.dims[i] < 0) {
        throw_error(ErrorCode::kFormat, cat("shape: dim ", i, " is negative (", shape.dims[i], ")"));
      }
    }
  } else {
    shape = read_legacy_shape(s, magic);
  }
  if (shape.ndim == 0) return empty_float32();
  read_context(s);
  const int32_t flag = s.i32("type flag");
  return read_dense(s, shape, flag, index, d);
}

NamedArrays parse(Source& s) {
  const uint64_t magic = s.u64("list magic");
  if (magic != kParamsListMagic) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(magic));
    throw_error(ErrorCode::kFormat,
                cat("not an MXNet NDArray file: list magic ", buf, " (expected 0x112)"));
  }
  s.u64("reserved word");  // MXNet writes 0 and never checks it
  const uint64_t n = s.u64("array count");
  if (n > s.remaining() / 4) {
    throw_error(ErrorCode::kFormat, cat("the file declares ", n, " arrays but only ",
                                        s.remaining(),
                                        " bytes follow (a record takes at least 4)"));
  }
  NamedArrays out;
  // Grown as records arrive: an NDArray object is larger than the 4 bytes a record needs at
  // least, so reserving the declared count could allocate far more than the file's size.
  out.arrays.reserve(static_cast<size_t>(std::min<uint64_t>(n, 1024)));
  Deferred deferred;
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t at = s.pos();
    try {
      out.arrays.push_back(read_record(s, static_cast<size_t>(i), &deferred));
    } catch (Error& e) {
      e.prefix(cat("array ", i, " (record at byte ", at, ")"));
      throw;
    }
  }
  const uint64_t num_names = s.u64("name count");
  if (num_names != 0 && num_names != n) {
    throw_error(ErrorCode::kFormat,
                cat("the file has ", n, " arrays but ", num_names, " names (must be 0 or ", n,
                    ")"));
  }
  out.names.reserve(static_cast<size_t>(std::min<uint64_t>(num_names, 1024)));
  for (uint64_t j = 0; j < num_names; ++j) {
    const uint64_t len = s.u64("name length");
    if (len > s.remaining()) {
      throw_error(ErrorCode::kFormat, cat("name ", j, " declares ", len, " bytes but only ",
                                          s.remaining(), " remain"));
    }
    std::string name(static_cast<size_t>(len), '\0');
    s.read(name.data(), len, "name");
    out.names.push_back(std::move(name));
  }
  if (s.remaining() != 0) {
    throw_error(ErrorCode::kFormat, cat(s.remaining(), " trailing bytes after the last name (at byte ",
                                        s.pos(), ")"));
  }
  if (deferred.set) {
    const std::string who =
        out.names.empty() ? cat("array ", deferred.index)
                          : cat("array '", out.names[deferred.index], "' (index ", deferred.index, ")");
    throw_error(deferred.code, cat(who, ": ", deferred.message));
  }
  return out;
}

// ---- writing ------------------------------------------------------------------------------

class Sink {
 public:
  virtual ~Sink() = default;
  virtual void write(const void* p, size_t n) = 0;
  template <typename T>
  void put(T v) {
    write(&v, sizeof(v));
  }
};

class StringSink : public Sink {
 public:
  void write(const void* p, size_t n) override { out.append(static_cast<const char*>(p), n); }
  std::string out;
};

class FileSink : public Sink {
 public:
  FileSink(FILE* f, const std::string& path) : f_(f), path_(path) {}
  void write(const void* p, size_t n) override {
    if (n && std::fwrite(p, 1, n, f_) != n) {
      throw_error(ErrorCode::kIO, cat("write to '", path_, "' failed: ", std::strerror(errno)));
    }
  }

 private:
  FILE* f_;
  const std::string& path_;
};

// Checks the request and waits for the arrays' pending writes (their failures surface here,
// before a file is touched).
void prepare(const std::vector<NDArray>& arrays, const std::vector<std::string>& names) {
  MXN_CHECK(names.empty() || names.size() == arrays.size(), ErrorCode::kInvalidArg, "save: ",
            arrays.size(), " arrays but ", names.size(), " names (give none or one per array)");
  for (size_t i = 0; i < arrays.size(); ++i) {
    if (arrays[i].is_none()) {
      throw Error(ErrorCode::kInvalidArg, cat("save: array ", i, " is empty (no storage)"))
          .with_arg(static_cast<int>(i));
    }
  }
  for (const NDArray& a : arrays) a.wait_to_read();
}

void write_all(Sink& out, const std::vector<NDArray>& arrays,
               const std::vector<std::string>& names) {
  out.put<uint64_t>(kParamsListMagic);
  out.put<uint64_t>(0);
  out.put<uint64_t>(arrays.size());
  // MXNet 1.9.1 loads V3 records only with NumPy shape semantics on and V2 records only with
  // them off, so one file uses one version: V3 when some array is 0-d (V2 cannot hold it).
  bool np = false;
  for (const NDArray& a : arrays) np = np || a.shape().ndim() == 0;
  for (const NDArray& a : arrays) {
    const Shape& s = a.shape();
    out.put<uint32_t>(np ? kNDArrayV3Magic : kNDArrayV2Magic);
    out.put<int32_t>(kDenseStorage);
    out.put<int32_t>(s.ndim());
    for (int i = 0; i < s.ndim(); ++i) out.put<int64_t>(s[i]);
    out.put<int32_t>(static_cast<int32_t>(a.device().type));
    out.put<int32_t>(a.device().id);
    out.put<int32_t>(static_cast<int32_t>(a.dtype()));
    out.write(a.data(), a.nbytes());
  }
  out.put<uint64_t>(names.size());
  for (const std::string& n : names) {
    out.put<uint64_t>(n.size());
    out.write(n.data(), n.size());
  }
}

std::string temp_name(const std::string& dir, const std::string& base) {
  static std::atomic<uint64_t> counter{0};
  const uint64_t t = static_cast<uint64_t>(
      std::chrono::steady_clock::now().time_since_epoch().count());
  char buf[64];
  std::snprintf(buf, sizeof(buf), ".tmp.%ld.%llx.%llx", static_cast<long>(getpid()),
                static_cast<unsigned long long>(t & 0xffffffffffull),
                static_cast<unsigned long long>(counter.fetch_add(1)));
  return dir + "/." + base + buf;
}

}  // namespace

std::string save_params_to_buffer(const std::vector<NDArray>& arrays,
                                  const std::vector<std::string>& names) {
  prepare(arrays, names);
  StringSink sink;
  write_all(sink, arrays, names);
  return std::move(sink.out);
}

void save_params_to_file(const std::string& path, const std::vector<NDArray>& arrays,
                         const std::vector<std::string>& names) {
  MXN_CHECK(!path.empty(), ErrorCode::kInvalidArg, "save: the path is empty");
  prepare(arrays, names);
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  MXN_CHECK(!base.empty(), ErrorCode::kInvalidArg, "save: '", path, "' names a directory");

  std::string tmp;
  int fd = -1;
  for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
    tmp = temp_name(dir, base);
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) {
    throw_error(ErrorCode::kIO, cat("cannot save '", path, "': cannot create a file in '", dir,
                                    "': ", std::strerror(errno)));
  }
  FILE* f = ::fdopen(fd, "wb");
  if (f == nullptr) {
    const int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    throw_error(ErrorCode::kIO, cat("cannot save '", path, "': ", std::strerror(err)));
  }
  try {
    FileSink sink(f, tmp);
    write_all(sink, arrays, names);
    if (std::fflush(f) != 0 || ::fsync(::fileno(f)) != 0) {
      throw_error(ErrorCode::kIO, cat("write to '", tmp, "' failed: ", std::strerror(errno)));
    }
    FILE* g = f;
    f = nullptr;
    if (std::fclose(g) != 0) {
      throw_error(ErrorCode::kIO, cat("closing '", tmp, "' failed: ", std::strerror(errno)));
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
      throw_error(ErrorCode::kIO, cat("cannot save '", path, "': rename from '", tmp,
                                      "' failed: ", std::strerror(errno)));
    }
  } catch (Error& e) {
    if (f) std::fclose(f);
    ::unlink(tmp.c_str());
    if (e.message().find(path) == std::string::npos) e.prefix(cat("cannot save '", path, "'"));
    throw;
  } catch (...) {
    if (f) std::fclose(f);
    ::unlink(tmp.c_str());
    throw;
  }
  // Make the rename itself durable (best effort: some filesystems refuse fsync on a directory).
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
}

NamedArrays load_params_from_buffer(const void* data, size_t size) {
  MXN_CHECK(data != nullptr || size == 0, ErrorCode::kInvalidArg, "load: the buffer is NULL");
  MemSource s(data, size);
  try {
    return parse(s);
  } catch (Error& e) {
    e.prefix("NDArray buffer");
    throw;
  }
}

NamedArrays load_params_from_file(const std::string& path) {
  MXN_CHECK(!path.empty(), ErrorCode::kInvalidArg, "load: the path is empty");
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) {
    throw_error(ErrorCode::kIO, cat("cannot open '", path, "': ", std::strerror(errno)));
  }
  struct stat st;
  if (::fstat(::fileno(f.get()), &st) != 0) {
    throw_error(ErrorCode::kIO, cat("cannot stat '", path, "': ", std::strerror(errno)));
  }
  if (S_ISDIR(st.st_mode)) throw_error(ErrorCode::kIO, cat("'", path, "' is a directory"));
  try {
    if (S_ISREG(st.st_mode)) {
      FileSource s(f.get(), static_cast<uint64_t>(st.st_size));
      return parse(s);
    }
    // A pipe or device: its size is known only once read.
    std::string bytes;
    char buf[65536];
    size_t got;
    while ((got = std::fread(buf, 1, sizeof(buf), f.get())) > 0) bytes.append(buf, got);
    MemSource s(bytes.data(), bytes.size());
    return parse(s);
  } catch (Error& e) {
    e.prefix(cat("'", path, "'"));
    throw;
  }
}

}  // namespace mxn
