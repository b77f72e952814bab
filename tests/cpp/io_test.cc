// core/io: the RecordIO format (magic, length/continuation word, padding, split records,
// boundary search, parts), corrupt and truncated files, IRHeader parsing, the image codecs.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "core/io/augment.h"
#include "core/io/image_codec.h"
#include "core/io/image_record.h"
#include "core/io/recordio.h"

using namespace mxn;
using namespace mxn::io;

namespace {

const std::string kMagic("\x0a\x23\xd7\xce", 4);

std::string tmp_path(const std::string& name) {
  return ::testing::TempDir() + "mxn_io_test_" + name;
}

std::string read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

void write_all(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f << bytes;
}

uint32_t u32(const std::string& s, size_t off) {
  uint32_t v;
  std::memcpy(&v, s.data() + off, 4);
  return v;
}

std::string write_records(const std::string& name, const std::vector<std::string>& recs) {
  const std::string path = tmp_path(name);
  RecordWriter w(path);
  for (const auto& r : recs) w.write(r.data(), r.size());
  w.close();
  return path;
}

std::vector<std::string> read_records(const std::string& path, int parts = 1, int part = 0) {
  RecordReader r(path, parts, part);
  std::vector<std::string> out;
  std::string rec;
  while (r.next(&rec)) out.push_back(rec);
  return out;
}

ErrorCode code_of(const std::function<void()>& f, std::string* msg = nullptr) {
  try {
    f();
  } catch (const Error& e) {
    if (msg) *msg = e.message();
    return e.code();
  }
  return ErrorCode::kOk;
}

}  // namespace

TEST(RecordIO, HeaderWordAndPadding) {
  for (size_t len = 0; len < 9; ++len) {
    const std::string payload(len, 'x');
    const std::string path = write_records("pad", {payload});
    const std::string bytes = read_all(path);
    ASSERT_EQ(bytes.size(), 8 + (len + 3) / 4 * 4) << len;
    EXPECT_EQ(u32(bytes, 0), kRecordMagic);
    EXPECT_EQ(u32(bytes, 4), len);  // cflag 0
    EXPECT_EQ(bytes.substr(8, len), payload);
    for (size_t i = 8 + len; i < bytes.size(); ++i) EXPECT_EQ(bytes[i], '\0');
    EXPECT_EQ(read_records(path), std::vector<std::string>{payload});
  }
}

TEST(RecordIO, PayloadWithMagicIsSplitAndRestored) {
  const std::string rec = "abcd" + kMagic + "efgh";
  const std::string path = write_records("split", {rec});
  const std::string b = read_all(path);
  // part 1: cflag 1, 4 bytes; part 2: cflag 3, 4 bytes; the payload's magic is not stored.
  ASSERT_EQ(b.size(), 8u + 4 + 8 + 4);
  EXPECT_EQ(u32(b, 4), (1u << 29) | 4u);
  EXPECT_EQ(b.substr(8, 4), "abcd");
  EXPECT_EQ(u32(b, 12), kRecordMagic);
  EXPECT_EQ(u32(b, 16), (3u << 29) | 4u);
  EXPECT_EQ(read_records(path), std::vector<std::string>{rec});
  // Unaligned magic is not split; middle parts get cflag 2.
  const std::vector<std::string> recs = {"ab" + kMagic + "cd", kMagic, kMagic + kMagic + "xy",
                                         kMagic + kMagic + kMagic, "", "12345678" + kMagic};
  const std::string p2 = write_records("split2", recs);
  EXPECT_EQ(read_records(p2), recs);
  const std::string b2 = read_all(p2);
  EXPECT_EQ(u32(b2, 4), 8u);  // the unaligned one is one part (cflag 0, 8 bytes)
}

TEST(RecordIO, TellSeekAndIndex) {
  std::vector<std::string> recs;
  for (int i = 0; i < 20; ++i) recs.push_back(std::string(static_cast<size_t>(i * 7), char('a' + i)));
  const std::string path = tmp_path("seek");
  std::vector<int64_t> offsets;
  {
    RecordWriter w(path);
    for (const auto& r : recs) {
      offsets.push_back(w.tell());
      w.write(r.data(), r.size());
    }
  }
  RecordFile f(path);
  EXPECT_EQ(f.index_records(0, f.size()), offsets);
  RecordReader r(path);
  std::string rec;
  r.seek(offsets[13]);
  ASSERT_TRUE(r.next(&rec));
  EXPECT_EQ(rec, recs[13]);
  EXPECT_EQ(r.tell(), offsets[14]);
}

TEST(RecordIO, BoundarySearchSkipsContinuationParts) {
  // Records made mostly of magics: every aligned offset inside them looks like a header.
  std::vector<std::string> recs;
  for (int i = 0; i < 40; ++i) {
    std::string r;
    for (int k = 0; k < i % 5 + 1; ++k) r += kMagic + std::string(static_cast<size_t>(4 * (i % 3)), 'q');
    r += std::string(static_cast<size_t>(i % 4), 'z');
    recs.push_back(r);
  }
  const std::string path = write_records("boundary", recs);
  RecordFile f(path);
  const std::vector<int64_t> starts = f.index_records(0, f.size());
  ASSERT_EQ(starts.size(), recs.size());
  const std::set<int64_t> start_set(starts.begin(), starts.end());
  for (int64_t off = 0; off <= f.size(); ++off) {
    const int64_t found = f.seek_record_begin(off);
    auto it = start_set.lower_bound(off);
    EXPECT_EQ(found, it == start_set.end() ? f.size() : *it) << off;
  }
  // Every split into parts reads every record exactly once, in order.
  for (int parts = 1; parts <= 9; ++parts) {
    std::vector<std::string> all;
    for (int p = 0; p < parts; ++p) {
      auto got = read_records(path, parts, p);
      all.insert(all.end(), got.begin(), got.end());
    }
    EXPECT_EQ(all, recs) << parts << " parts";
  }
}

TEST(RecordIO, CorruptAndTruncatedFilesAreFormatErrors) {
  const std::string good = read_all(write_records("good", {"hello world", "second record!", "x"}));
  struct Case {
    const char* what;
    std::string bytes;
  };
  std::string bad_magic = good;
  bad_magic[0] = 'X';
  std::string huge = good;  // length word claims 2^29 - 1 bytes in a tiny file
  const uint32_t big = kMaxRecordPart;
  std::memcpy(&huge[4], &big, 4);
  std::string bad_flag = good;
  const uint32_t flag2 = (2u << 29) | 11u;
  std::memcpy(&bad_flag[4], &flag2, 4);
  std::string no_end = good.substr(0, 8 + 12);
  const uint32_t flag1 = (1u << 29) | 12u;
  std::memcpy(&no_end[4], &flag1, 4);
  const std::vector<Case> cases = {
      {"truncated payload", good.substr(0, good.size() - 3)},
      {"truncated header", good.substr(0, good.size() - 8 - 4 + 5)},
      {"bad magic", bad_magic},
      {"4 GB claim", huge},
      {"continuation first", bad_flag},
      {"missing last part", no_end},
      {"garbage", std::string(37, '\x5a')},
  };
  for (const auto& c : cases) {
    const std::string path = tmp_path("corrupt");
    write_all(path, c.bytes);
    std::string msg;
    EXPECT_EQ(code_of([&] { read_records(path); }, &msg), ErrorCode::kFormat) << c.what;
    EXPECT_NE(msg.find(path), std::string::npos) << c.what << ": " << msg;
    EXPECT_NE(msg.find("record"), std::string::npos) << msg;
    RecordFile f(path);
    EXPECT_EQ(code_of([&] { f.index_records(0, f.size()); }), ErrorCode::kFormat) << c.what;
  }
  EXPECT_EQ(code_of([] { RecordReader r("/nonexistent/x.rec"); }), ErrorCode::kIO);
  EXPECT_EQ(code_of([] { RecordWriter w("/nonexistent/dir/x.rec"); }), ErrorCode::kIO);
  const std::string path = tmp_path("toolarge");
  RecordWriter w(path);
  EXPECT_EQ(code_of([&] { w.write("", size_t{1} << 29); }), ErrorCode::kInvalidArg);
}

TEST(ImageRecordHeader, ScalarAndMultiLabel) {
  std::string rec(24, '\0');
  const uint32_t flag = 3;
  const float labels[3] = {1.5f, -2.f, 7.f};
  const uint64_t id = 42;
  std::memcpy(&rec[0], &flag, 4);
  std::memcpy(&rec[8], &id, 8);
  rec.append(reinterpret_cast<const char*>(labels), 12);
  rec += "IMG";
  ImageRecord r = parse_image_record(rec, "t");
  EXPECT_EQ(r.num_labels, 3u);
  EXPECT_EQ(r.label_at(1), -2.f);
  EXPECT_EQ(r.label_at(5), 0.f);
  EXPECT_EQ(r.id, 42u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(r.image), r.image_size), "IMG");
  const uint32_t lie = 1000000;  // more labels than bytes
  std::memcpy(&rec[0], &lie, 4);
  EXPECT_EQ(code_of([&] { parse_image_record(rec, "t"); }), ErrorCode::kFormat);
  EXPECT_EQ(code_of([&] { parse_image_record(std::string(10, 'a'), "t"); }), ErrorCode::kFormat);
}

TEST(ImageCodec, JpegAndPngRoundTrip) {
  const int h = 20, w = 30;
  std::vector<uint8_t> px(static_cast<size_t>(h) * w * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) px[(y * w + x) * 3 + c] = static_cast<uint8_t>(x * 8 + c * 40);
  const std::string png = encode_png(px.data(), h, w, 3, 3);
  Image img;
  decode_image(reinterpret_cast<const unsigned char*>(png.data()), png.size(), 0, &img, "png");
  EXPECT_EQ(img.height, h);
  EXPECT_EQ(img.width, w);
  EXPECT_EQ(img.channels, 3);
  EXPECT_EQ(img.pixels, px);  // lossless
  const std::string jpg = encode_jpeg(px.data(), h, w, 3, 95);
  decode_image(reinterpret_cast<const unsigned char*>(jpg.data()), jpg.size(), 3, &img, "jpg");
  ASSERT_EQ(img.pixels.size(), px.size());
  double err = 0;
  for (size_t i = 0; i < px.size(); ++i) err += std::abs(int(img.pixels[i]) - int(px[i]));
  EXPECT_LT(err / px.size(), 10.0);  // sharp synthetic edges; quality 95
  decode_image(reinterpret_cast<const unsigned char*>(jpg.data()), jpg.size(), 1, &img, "jpg");
  EXPECT_EQ(img.channels, 1);
  std::string msg;
  EXPECT_EQ(code_of([&] {
              decode_image(reinterpret_cast<const unsigned char*>(jpg.data()), 40, 3, &img,
                           "file 'x.rec', record 3");
            }, &msg),
            ErrorCode::kFormat);
  EXPECT_NE(msg.find("record 3"), std::string::npos) << msg;
  EXPECT_EQ(code_of([&] {
              decode_image(reinterpret_cast<const unsigned char*>("hello"), 5, 3, &img, "r");
            }),
            ErrorCode::kFormat);
}

TEST(Augment, CenterCropMirrorNormalise) {
  Image img;
  img.height = 4;
  img.width = 6;
  img.channels = 3;
  img.pixels.resize(72);
  for (size_t i = 0; i < 72; ++i) img.pixels[i] = static_cast<uint8_t>(i);
  AugmentParams p;
  p.height = 2;
  p.width = 2;
  p.mirror = true;
  p.mean[0] = 1;
  p.std[0] = 2;
  SampleRng rng(1);
  Image scratch;
  std::vector<float> out(12);
  augment_to_chw(img, p, rng, &scratch, out.data(), nullptr);
  // centre crop rows 1..2, cols 2..3, mirrored: (y=1, x=3) first; red channel (v - 1) / 2.
  EXPECT_FLOAT_EQ(out[0], ((1 * 6 + 3) * 3 - 1) / 2.0f);
  EXPECT_FLOAT_EQ(out[1], ((1 * 6 + 2) * 3 - 1) / 2.0f);
  EXPECT_FLOAT_EQ(out[4], (1 * 6 + 3) * 3 + 1);  // green plane, no normalisation
}
