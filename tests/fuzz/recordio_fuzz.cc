// Bounded mutation fuzzer of the RecordIO reader, the image header parser and the image
// decoders: byte-level mutations of small .rec files (the MXNet fixtures and generated ones)
// are read like ImageRecordIter reads them. Every outcome must be a record or an mxn::Error;
// anything else (a crash, an ASan report, another exception) fails.
//
//   recordio_fuzz [--iterations N] [--seed S] [corpus files...]
// ctest and scripts/sanitize.sh (ASan) run 3000 iterations; the README names a longer run.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "core/base/error.h"
#include "core/io/augment.h"
#include "core/io/image_codec.h"
#include "core/io/image_record.h"
#include "core/io/recordio.h"

using namespace mxn;
using namespace mxn::io;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// A .rec of image records (JPEG and PNG) and one of magic-laden payloads, made here.
std::vector<std::string> generated_corpus(const std::string& dir) {
  std::vector<std::string> files;
  std::vector<uint8_t> px(16 * 12 * 3);
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<uint8_t>(i * 7);
  const std::string path = dir + "/gen_images.rec";
  {
    RecordWriter w(path);
    for (int k = 0; k < 3; ++k) {
      std::string rec(24, '\0');
      const float label = static_cast<float>(k);
      std::memcpy(&rec[4], &label, 4);
      rec += k == 1 ? encode_png(px.data(), 12, 16, 3, 1) : encode_jpeg(px.data(), 12, 16, 3, 80);
      w.write(rec.data(), rec.size());
    }
  }
  files.push_back(path);
  const std::string magic("\x0a\x23\xd7\xce", 4);
  const std::string path2 = dir + "/gen_magic.rec";
  {
    RecordWriter w(path2);
    for (const std::string& r : {magic + "abcd" + magic, std::string("xy"), magic + magic}) {
      w.write(r.data(), r.size());
    }
  }
  files.push_back(path2);
  return files;
}

struct Rng {
  uint64_t s;
  uint64_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
  size_t below(size_t n) { return n ? static_cast<size_t>(next() % n) : 0; }
};

std::string mutate(std::string b, Rng& rng) {
  const int n = 1 + static_cast<int>(rng.below(4));
  for (int k = 0; k < n; ++k) {
    switch (rng.below(7)) {
      case 0:
        if (!b.empty()) b[rng.below(b.size())] ^= static_cast<char>(1u << rng.below(8));
        break;
      case 1:
        if (!b.empty()) b[rng.below(b.size())] = static_cast<char>(rng.next());
        break;
      case 2: b.resize(rng.below(b.size() + 1)); break;  // truncate
      case 3: {                                           // a random length/flag word
        if (b.size() >= 8) {
          const size_t at = rng.below(b.size() / 4) * 4;
          const uint32_t v = static_cast<uint32_t>(rng.next());
          if (at + 4 <= b.size()) std::memcpy(&b[at], &v, 4);
        }
        break;
      }
      case 4: b.insert(rng.below(b.size() + 1), std::string(1 + rng.below(8), char(rng.next()))); break;
      case 5:
        if (!b.empty()) b.erase(rng.below(b.size()), 1 + rng.below(8));
        break;
      case 6: {  // plant the magic somewhere
        const std::string magic("\x0a\x23\xd7\xce", 4);
        if (b.size() >= 4) b.replace(rng.below(b.size() - 3), 4, magic);
        break;
      }
    }
  }
  return b;
}

// Reads a file as ImageRecordIter would (parts, records, headers, decode, augment).
void consume(const std::string& path, Rng& rng, int64_t* records) {
  RecordFile f(path);
  const int parts = 1 + static_cast<int>(rng.below(3));
  int64_t b = 0, e = 0;
  f.part_range(parts, static_cast<int>(rng.below(static_cast<size_t>(parts))), &b, &e);
  std::vector<int64_t> starts;
  try {
    starts = f.index_records(b, e);
  } catch (const Error&) {
  }
  RecordReader r(path);
  std::string rec;
  while (r.next(&rec)) {
    ++*records;
    try {
      ImageRecord ir = parse_image_record(rec, "fuzz");
      Image img;
      decode_image(ir.image, ir.image_size, 3, &img, "fuzz");
      AugmentParams p;
      p.height = 8;
      p.width = 8;
      p.rand_crop = true;
      p.resize = 10;
      SampleRng srng(rng.next());
      Image scratch;
      std::vector<float> out(3 * 8 * 8);
      augment_to_chw(img, p, srng, &scratch, out.data(), nullptr);
    } catch (const Error&) {
    }
  }
  for (int64_t s : starts) f.read_record(s, &rec);
}

}  // namespace

int main(int argc, char** argv) {
  long iterations = 3000;
  uint64_t seed = 1;
  std::vector<std::string> corpus;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--iterations") && i + 1 < argc) {
      iterations = std::atol(argv[++i]);
    } else if (!std::strcmp(argv[i], "--seed") && i + 1 < argc) {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (!std::strncmp(argv[i], "--gtest", 7)) {
      // sanitize.sh passes gtest flags to every test; ignore them
    } else {
      corpus.push_back(argv[i]);
    }
  }
  const std::string dir = std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp";
  const std::string work = dir + "/mxn_recordio_fuzz_" + std::to_string(::getpid());
  std::string mk = "mkdir -p '" + work + "'";
  if (std::system(mk.c_str()) != 0) return 2;
#ifdef MXN_FUZZ_CORPUS_DIR
  for (const char* name : {"scalar.rec", "multilabel.rec", "magic.rec", "images.rec"}) {
    corpus.push_back(std::string(MXN_FUZZ_CORPUS_DIR) + "/" + name);
  }
#endif
  for (const auto& g : generated_corpus(work)) corpus.push_back(g);
  std::vector<std::string> seeds;
  for (const auto& c : corpus) {
    std::string b = read_file(c);
    if (b.empty()) {
      std::fprintf(stderr, "corpus file %s is missing or empty\n", c.c_str());
      return 2;
    }
    seeds.push_back(std::move(b));
  }
  Rng rng{seed * 0x9e3779b97f4a7c15ull + 1};
  const std::string path = work + "/mutant.rec";
  long errors = 0, ok = 0;
  int64_t records = 0;
  for (long it = 0; it < iterations; ++it) {
    const std::string m = mutate(seeds[rng.below(seeds.size())], rng);
    {
      std::ofstream f(path, std::ios::binary | std::ios::trunc);
      f.write(m.data(), static_cast<std::streamsize>(m.size()));
    }
    try {
      consume(path, rng, &records);
      ++ok;
    } catch (const Error& e) {
      if (e.code() != ErrorCode::kFormat && e.code() != ErrorCode::kIO) {
        std::fprintf(stderr, "iteration %ld: unexpected error code %d: %s\n", it,
                     static_cast<int>(e.code()), e.what());
        return 1;
      }
      ++errors;
    }
  }
  std::remove(path.c_str());
  for (const auto& g : generated_corpus(work)) std::remove(g.c_str());
  std::remove(work.c_str());
  std::printf("recordio_fuzz: %ld mutations of %zu files: %ld read cleanly, %ld format errors, "
              "%lld records, 0 crashes\n",
              iterations, seeds.size(), ok, errors, static_cast<long long>(records));
  return 0;
}
