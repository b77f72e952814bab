// RecordIO, byte-compatible with dmlc-core / Apache MXNet (.rec files).
//
// A record is one or more parts, each: uint32 magic 0xCED7230A, uint32 lrec (upper 3 bits: the
// continuation flag cflag, lower 29: the part's length), the part's bytes, zero padding to a
// multiple of 4 after the last part. A payload holding the magic at a 4-aligned offset is split
// there (cflag 1 = first part, 2 = middle, 3 = last; 0 = a whole record) and the magic is put
// back on reading, so a 4-aligned magic in the file always starts a part: the start of a record
// (cflag 0 or 1) can be found from any aligned offset, which is how files are split into parts.
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace mxn::io {

constexpr uint32_t kRecordMagic = 0xced7230au;
constexpr uint32_t kMaxRecordPart = (1u << 29) - 1;

// A file opened for reading with positional reads (safe from many threads at once).
class RecordFile {
 public:
  explicit RecordFile(const std::string& path);  // kIO if it cannot be opened
  ~RecordFile();
  RecordFile(const RecordFile&) = delete;
  RecordFile& operator=(const RecordFile&) = delete;

  const std::string& path() const { return path_; }
  int64_t size() const { return size_; }
  // Reads the record starting at `offset` into *out (parts joined, magic restored); returns
  // the offset after it. Throws kFormat (naming the file, `record` and the offset) when the
  // bytes there are not a record, kIO when the read fails. Lengths are checked against the
  // file size before anything is allocated.
  int64_t read_record(int64_t offset, std::string* out, int64_t record = -1) const;
  // The first offset >= `from` (rounded up to 4) where a record starts (cflag 0 or 1), or
  // `size()` if none does.
  int64_t seek_record_begin(int64_t from) const;
  // Byte range [begin, end) of part `part_index` of `num_parts`: the records that start in it
  // (MXNet's InputSplit: equal 4-aligned byte ranges moved to record starts).
  void part_range(int num_parts, int part_index, int64_t* begin, int64_t* end) const;
  // Start offsets of every record in [begin, end), checking the framing of each.
  std::vector<int64_t> index_records(int64_t begin, int64_t end) const;

 private:
  void pread_exact(void* dst, size_t n, int64_t offset, int64_t record) const;
  std::string path_;
  int fd_ = -1;
  int64_t size_ = 0;
};

// Sequential reading of a file or of one part of it (MXRecordIO 'r').
class RecordReader {
 public:
  explicit RecordReader(const std::string& path, int num_parts = 1, int part_index = 0);
  // Next record into *out; false at the end of the part.
  bool next(std::string* out);
  void seek(int64_t offset);  // to a record start (as tell() returned or an .idx says)
  int64_t tell() const { return pos_; }
  void reset() { seek(begin_); record_ = 0; }
  const RecordFile& file() const { return file_; }

 private:
  RecordFile file_;
  int64_t begin_ = 0, end_ = 0, pos_ = 0;
  int64_t record_ = 0;  // ordinal of the next record, for error messages
};

// Appends records (MXRecordIO 'w').
class RecordWriter {
 public:
  explicit RecordWriter(const std::string& path);  // truncates; kIO on failure
  ~RecordWriter();
  RecordWriter(const RecordWriter&) = delete;
  RecordWriter& operator=(const RecordWriter&) = delete;
  void write(const void* data, size_t size);  // kInvalidArg when size >= 2^29
  int64_t tell() const { return pos_; }
  void flush();
  void close();

 private:
  void put(const void* p, size_t n);
  std::string path_;
  std::FILE* f_ = nullptr;
  int64_t pos_ = 0;
};

}  // namespace mxn::io
