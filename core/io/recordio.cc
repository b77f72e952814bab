#include "core/io/recordio.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/base/error.h"

namespace mxn::io {

namespace {

uint32_t load_u32(const unsigned char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);  // the format is little-endian, as is every host we build for
  return v;
}

[[noreturn]] void bad_record(const std::string& path, int64_t record, int64_t offset,
                             const std::string& why) {
  std::string which = record >= 0 ? cat("record ", record, " (offset ", offset, ")")
                                  : cat("the record at offset ", offset);
  throw Error(ErrorCode::kFormat, cat("RecordIO file '", path, "': ", which, ": ", why));
}

}  // namespace

RecordFile::RecordFile(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  MXN_CHECK(fd_ >= 0, ErrorCode::kIO, "cannot open '", path, "' for reading: ",
            std::strerror(errno));
  struct stat st;
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd_);
    fd_ = -1;
    throw Error(ErrorCode::kIO, cat("'", path, "' is not a regular file"));
  }
  size_ = static_cast<int64_t>(st.st_size);
}

RecordFile::~RecordFile() {
  if (fd_ >= 0) ::close(fd_);
}

void RecordFile::pread_exact(void* dst, size_t n, int64_t offset, int64_t record) const {
  char* p = static_cast<char*>(dst);
  while (n > 0) {
    ssize_t got = ::pread(fd_, p, n, offset);
    if (got < 0 && errno == EINTR) continue;
    MXN_CHECK(got >= 0, ErrorCode::kIO, "RecordIO file '", path_, "': read failed at offset ",
              offset, ": ", std::strerror(errno));
    if (got == 0) bad_record(path_, record, offset, "the file ends inside the record");
    p += got;
    n -= static_cast<size_t>(got);
    offset += got;
  }
}

int64_t RecordFile::read_record(int64_t offset, std::string* out, int64_t record) const {
  const int64_t start = offset;
  out->clear();
  MXN_CHECK(offset >= 0 && offset <= size_, ErrorCode::kInvalidArg, "RecordIO file '", path_,
            "': offset ", offset, " is outside the file (", size_, " bytes)");
  for (int part = 0;; ++part) {
    if (size_ - offset < 8) {
      bad_record(path_, record, start,
                 part == 0 ? cat("only ", size_ - offset, " bytes left, a header needs 8")
                           : "the file ends before the record's last part");
    }
    unsigned char head[8];
    pread_exact(head, 8, offset, record);
    const uint32_t magic = load_u32(head), lrec = load_u32(head + 4);
    if (magic != kRecordMagic) {
      bad_record(path_, record, start,
                 cat("bad magic 0x", [&] {
                   char b[16];
                   std::snprintf(b, sizeof(b), "%08x", magic);
                   return std::string(b);
                 }(), " at offset ", offset, " (expected 0xced7230a)"));
    }
    const uint32_t cflag = lrec >> 29, len = lrec & kMaxRecordPart;
    const bool first = part == 0;
    if (first ? (cflag != 0 && cflag != 1) : (cflag != 2 && cflag != 3)) {
      bad_record(path_, record, start,
                 cat("part ", part, " has continuation flag ", cflag,
                     first ? " (a record starts with 0 or 1)" : " (expected 2 or 3)"));
    }
    const int64_t padded = (static_cast<int64_t>(len) + 3) / 4 * 4;
    const bool last = cflag == 0 || cflag == 3;
    // Validate before allocating: the part (padded when it is the last) must fit in the file.
    const int64_t need = last ? padded : static_cast<int64_t>(len);
    if (need > size_ - offset - 8) {
      bad_record(path_, record, start,
                 cat("a part of ", len, " bytes at offset ", offset, " runs past the end of the ",
                     size_, "-byte file"));
    }
    if (!last && len % 4 != 0) {
      bad_record(path_, record, start,
                 cat("a non-final part of ", len, " bytes (must be a multiple of 4)"));
    }
    const size_t old = out->size();
    out->resize(old + len);
    if (len) pread_exact(&(*out)[old], len, offset + 8, record);
    offset += 8 + (last ? padded : len);
    if (last) break;
    const uint32_t m = kRecordMagic;
    out->append(reinterpret_cast<const char*>(&m), 4);
  }
  return offset;
}

int64_t RecordFile::seek_record_begin(int64_t from) const {
  int64_t pos = (std::max<int64_t>(from, 0) + 3) / 4 * 4;
  constexpr size_t kBuf = 1 << 16;
  std::vector<unsigned char> buf(kBuf + 8);
  while (pos + 8 <= size_) {
    const size_t n = static_cast<size_t>(std::min<int64_t>(kBuf + 8, size_ - pos));
    pread_exact(buf.data(), n, pos, -1);
    for (size_t i = 0; i + 8 <= n; i += 4) {
      if (load_u32(&buf[i]) == kRecordMagic) {
        const uint32_t cflag = load_u32(&buf[i + 4]) >> 29;
        if (cflag == 0 || cflag == 1) return pos + static_cast<int64_t>(i);
      }
    }
    if (n < kBuf + 8) break;
    pos += kBuf;
  }
  return size_;
}

void RecordFile::part_range(int num_parts, int part_index, int64_t* begin, int64_t* end) const {
  MXN_CHECK(num_parts >= 1, ErrorCode::kInvalidArg, "num_parts must be >= 1, got ", num_parts);
  MXN_CHECK(part_index >= 0 && part_index < num_parts, ErrorCode::kInvalidArg, "part_index ",
            part_index, " is out of range [0, ", num_parts, ")");
  int64_t step = (size_ + num_parts - 1) / num_parts;
  step = (step + 3) / 4 * 4;
  const int64_t b = std::min<int64_t>(step * part_index, size_);
  const int64_t e = std::min<int64_t>(step * (part_index + 1), size_);
  *begin = b == 0 ? 0 : seek_record_begin(b);
  *end = e >= size_ ? size_ : seek_record_begin(e);
  if (*begin > *end) *begin = *end;
}

std::vector<int64_t> RecordFile::index_records(int64_t begin, int64_t end) const {
  std::vector<int64_t> starts;
  std::string scratch;
  int64_t pos = begin;
  while (pos < end) {
    // Walk the headers without reading payloads.
    const int64_t start = pos;
    const int64_t record = static_cast<int64_t>(starts.size());
    for (int part = 0;; ++part) {
      if (size_ - pos < 8) {
        bad_record(path_, record, start, part == 0 ? cat("only ", size_ - pos,
                                                         " bytes left, a header needs 8")
                                                   : "the file ends before the record's last part");
      }
      unsigned char head[8];
      pread_exact(head, 8, pos, record);
      const uint32_t magic = load_u32(head), lrec = load_u32(head + 4);
      if (magic != kRecordMagic) {
        char b[16];
        std::snprintf(b, sizeof(b), "%08x", magic);
        bad_record(path_, record, start, cat("bad magic 0x", b, " at offset ", pos));
      }
      const uint32_t cflag = lrec >> 29, len = lrec & kMaxRecordPart;
      if (part == 0 ? (cflag != 0 && cflag != 1) : (cflag != 2 && cflag != 3)) {
        bad_record(path_, record, start, cat("part ", part, " has continuation flag ", cflag));
      }
      const bool last = cflag == 0 || cflag == 3;
      const int64_t step = last ? (static_cast<int64_t>(len) + 3) / 4 * 4 : len;
      if (!last && len % 4 != 0) bad_record(path_, record, start, "misaligned non-final part");
      if (step > size_ - pos - 8) {
        bad_record(path_, record, start,
                   cat("a part of ", len, " bytes at offset ", pos, " runs past the end of the ",
                       size_, "-byte file"));
      }
      pos += 8 + step;
      if (last) break;
    }
    starts.push_back(start);
  }
  return starts;
}

RecordReader::RecordReader(const std::string& path, int num_parts, int part_index) : file_(path) {
  file_.part_range(num_parts, part_index, &begin_, &end_);
  pos_ = begin_;
}

bool RecordReader::next(std::string* out) {
  if (pos_ >= end_) return false;
  pos_ = file_.read_record(pos_, out, record_);
  ++record_;
  return true;
}

void RecordReader::seek(int64_t offset) {
  MXN_CHECK(offset >= 0 && offset <= file_.size(), ErrorCode::kInvalidArg, "RecordIO file '",
            file_.path(), "': cannot seek to ", offset, " (the file has ", file_.size(),
            " bytes)");
  pos_ = offset;
  record_ = -1;  // unknown after a seek: errors name the offset
}

RecordWriter::RecordWriter(const std::string& path) : path_(path) {
  f_ = std::fopen(path.c_str(), "wb");
  MXN_CHECK(f_ != nullptr, ErrorCode::kIO, "cannot open '", path, "' for writing: ",
            std::strerror(errno));
}

RecordWriter::~RecordWriter() {
  if (f_) std::fclose(f_);
}

void RecordWriter::put(const void* p, size_t n) {
  if (n == 0) return;
  MXN_CHECK(f_ != nullptr, ErrorCode::kInvalidArg, "RecordIO file '", path_, "' is closed");
  MXN_CHECK(std::fwrite(p, 1, n, f_) == n, ErrorCode::kIO, "writing '", path_, "' failed: ",
            std::strerror(errno));
  pos_ += static_cast<int64_t>(n);
}

void RecordWriter::write(const void* data, size_t size) {
  MXN_CHECK(size <= kMaxRecordPart, ErrorCode::kInvalidArg, "RecordIO records must be shorter ",
            "than 2^29 bytes, got ", size);
  MXN_CHECK(f_ != nullptr, ErrorCode::kInvalidArg, "RecordIO file '", path_, "' is closed");
  const unsigned char* b = static_cast<const unsigned char*>(data);
  const uint32_t len = static_cast<uint32_t>(size);
  const uint32_t lower = len / 4 * 4, upper = (len + 3) / 4 * 4;
  const uint32_t magic = kRecordMagic;
  uint32_t dptr = 0;
  for (uint32_t i = 0; i < lower; i += 4) {
    if (load_u32(b + i) == kRecordMagic) {
      const uint32_t lrec = ((dptr == 0 ? 1u : 2u) << 29) | (i - dptr);
      put(&magic, 4);
      put(&lrec, 4);
      put(b + dptr, i - dptr);
      dptr = i + 4;
    }
  }
  const uint32_t lrec = ((dptr != 0 ? 3u : 0u) << 29) | (len - dptr);
  put(&magic, 4);
  put(&lrec, 4);
  put(b + dptr, len - dptr);
  const uint32_t zero = 0;
  put(&zero, upper - len);
}

void RecordWriter::flush() {
  if (f_) std::fflush(f_);
}

void RecordWriter::close() {
  if (!f_) return;
  const int rc = std::fclose(f_);
  f_ = nullptr;
  MXN_CHECK(rc == 0, ErrorCode::kIO, "closing '", path_, "' failed: ", std::strerror(errno));
}

}  // namespace mxn::io
