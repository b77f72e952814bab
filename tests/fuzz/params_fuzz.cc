// Bounded mutation fuzzer of the .params loader, through the C ABI (EXAMPLES "Reliability" 1-2):
// byte-level mutations of the MXNet fixtures (bit flips, truncations, splices, overwritten
// length/count/ndim/dim fields with boundary values, inserted and appended bytes) go through
// mxn_ndarray_load_from_buffer (and every 64th through mxn_ndarray_load from a file). Every
// array of a successful load is read back in full. A failure must be MXN_ERR_FORMAT or
// MXN_ERR_NOT_IMPLEMENTED with a non-empty message; anything else (another code, a crash, a
// sanitizer report, a load slower than 1 s) fails the run.
//
//   params_fuzz [--iterations N] [--seed S] [corpus files...]
// ctest and scripts/sanitize.sh (ASan) run 10000 iterations (EXAMPLES "Reliability" 1).
#include <mxnext/c_api.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <dirent.h>
#include <unistd.h>

namespace {

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

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

std::vector<std::string> corpus_files(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      const std::string n = e->d_name;
      if (n.size() > 7 && n.compare(n.size() - 7, 7, ".params") == 0) out.push_back(dir + "/" + n);
    }
    closedir(d);
  }
  return out;
}

// Values that stress length, count, ndim and dim fields.
const uint64_t kInteresting[] = {0,          1,          2,          16,         17,
                                 32,         33,         0x7f,       0xff,       0x7fffffff,
                                 0x80000000, 0xffffffff, 1ull << 32, 1ull << 40, 1ull << 62,
                                 ~0ull >> 1, ~0ull,      0x112,      0xF993fac8, 0xF993fac9,
                                 0xF993faca, 12,         7,          5};

std::string mutate(const std::vector<std::string>& seeds, Rng& rng) {
  std::string m = seeds[rng.below(seeds.size())];
  const int rounds = 1 + static_cast<int>(rng.below(3));
  for (int r = 0; r < rounds; ++r) {
    switch (rng.below(8)) {
      case 0:  // bit flips
        for (int k = 0, n = 1 + static_cast<int>(rng.below(4)); k < n && !m.empty(); ++k) {
          m[rng.below(m.size())] ^= static_cast<char>(1u << rng.below(8));
        }
        break;
      case 1:  // truncation
        m.resize(rng.below(m.size() + 1));
        break;
      case 2:    // a 4- or 8-byte field overwritten with a boundary value, aligned or not
      case 3: {
        const size_t w = rng.below(2) ? 4 : 8;
        if (m.size() < w) break;
        size_t at = rng.below(m.size() - w + 1);
        if (rng.below(2)) at &= ~size_t{3};
        uint64_t v = kInteresting[rng.below(sizeof(kInteresting) / sizeof(kInteresting[0]))];
        if (rng.below(4) == 0) v = ~v + 1;  // negated
        std::memcpy(&m[at], &v, w);
        break;
      }
      case 4: {  // splice: a prefix of this file, a suffix of another
        const std::string& o = seeds[rng.below(seeds.size())];
        m = m.substr(0, rng.below(m.size() + 1)) + o.substr(rng.below(o.size() + 1));
        break;
      }
      case 5: {  // a duplicated chunk
        if (m.empty()) break;
        const size_t a = rng.below(m.size()), n = 1 + rng.below(std::min<size_t>(64, m.size() - a));
        m.insert(rng.below(m.size() + 1), m.substr(a, n));
        break;
      }
      case 6: {  // random bytes inserted or overwritten
        const size_t n = 1 + rng.below(8);
        std::string b(n, '\0');
        for (char& c : b) c = static_cast<char>(rng.next());
        if (rng.below(2) || m.size() < n) {
          m.insert(rng.below(m.size() + 1), b);
        } else {
          m.replace(rng.below(m.size() - n + 1), n, b);
        }
        break;
      }
      default:  // trailing bytes
        m.append(1 + rng.below(16), static_cast<char>(rng.next()));
        break;
    }
  }
  return m;
}

size_t dtype_size(int32_t dtype) {
  switch (dtype) {
    case MXN_DTYPE_FLOAT64: case MXN_DTYPE_INT64: return 8;
    case MXN_DTYPE_FLOAT32: case MXN_DTYPE_INT32: return 4;
    case MXN_DTYPE_FLOAT16: return 2;
    default: return 1;
  }
}

// Reads everything a successful load produced; returns false on any inconsistency.
bool consume(mxn_ndarray_list* list, std::string* why) {
  int32_t n = -1, nn = -1;
  if (mxn_ndarray_list_size(list, &n, &nn) != MXN_OK || n < 0 || (nn != 0 && nn != n)) {
    *why = "list_size";
    return false;
  }
  std::vector<char> buf;
  for (int32_t i = 0; i < n; ++i) {
    mxn_ndarray* a = nullptr;
    int64_t size = -1;
    int32_t dtype = -1;
    if (mxn_ndarray_list_get(list, i, &a) != MXN_OK || mxn_ndarray_size(a, &size) != MXN_OK ||
        mxn_ndarray_dtype(a, &dtype) != MXN_OK || size < 0) {
      mxn_ndarray_free(a);
      *why = "list_get/size/dtype";
      return false;
    }
    buf.resize(static_cast<size_t>(size) * dtype_size(dtype) + 1);
    const int rc = mxn_ndarray_copy_to_host(a, buf.data(), buf.size() - 1);
    mxn_ndarray_free(a);
    if (rc != MXN_OK) {
      *why = std::string("copy_to_host: ") + mxn_last_error_message();
      return false;
    }
    if (nn) {
      const char* name = nullptr;
      size_t len = 0;
      if (mxn_ndarray_list_name(list, i, &name, &len) != MXN_OK || name == nullptr ||
          std::strlen(name) > len) {
        *why = "list_name";
        return false;
      }
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  long iterations = 3000;
  uint64_t seed = 1;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--iterations") && i + 1 < argc) {
      iterations = std::atol(argv[++i]);
    } else if (!std::strcmp(argv[i], "--seed") && i + 1 < argc) {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (!std::strncmp(argv[i], "--gtest", 7)) {
      // scripts/sanitize.sh passes GoogleTest flags to every test binary
    } else {
      files.push_back(argv[i]);
    }
  }
  if (files.empty()) files = corpus_files(MXN_FUZZ_PARAMS_DIR);
  std::vector<std::string> seeds;
  for (const auto& f : files) {
    std::string b = read_file(f);
    if (!b.empty()) seeds.push_back(std::move(b));
  }
  if (seeds.empty()) {
    std::fprintf(stderr, "params_fuzz: no corpus files\n");
    return 2;
  }
  char tmpl[] = "/tmp/params_fuzz.XXXXXX";
  const int fd = mkstemp(tmpl);
  if (fd < 0) {
    std::perror("mkstemp");
    return 2;
  }
  close(fd);
  const std::string tmp_path = tmpl;

  Rng rng{seed * 0x9e3779b97f4a7c15ull + 1};
  long ok = 0, format = 0, not_impl = 0, via_file = 0, failures = 0;
  double slowest = 0;
  for (long it = 0; it < iterations; ++it) {
    const std::string m = mutate(seeds, rng);
    const bool file = it % 64 == 0;
    mxn_ndarray_list* list = nullptr;
    const auto t0 = std::chrono::steady_clock::now();
    int rc;
    if (file) {
      std::ofstream(tmp_path, std::ios::binary | std::ios::trunc).write(m.data(), m.size());
      rc = mxn_ndarray_load(tmp_path.c_str(), &list);
      ++via_file;
    } else {
      rc = mxn_ndarray_load_from_buffer(m.data(), m.size(), &list);
    }
    std::string why;
    if (rc == MXN_OK) {
      if (consume(list, &why)) ++ok;
    } else if (list != nullptr) {
      why = "out-parameter written on failure";
    } else if (std::strlen(mxn_last_error_message()) == 0) {
      why = "empty error message";
    } else if (rc == MXN_ERR_FORMAT) {
      ++format;
    } else if (rc == MXN_ERR_NOT_IMPLEMENTED) {
      ++not_impl;
    } else {
      why = "unexpected code " + std::to_string(rc) + ": " + mxn_last_error_message();
    }
    mxn_ndarray_list_free(list);
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    slowest = std::max(slowest, secs);
    if (secs > 1.0) why = "load took " + std::to_string(secs) + " s";
    if (!why.empty()) {
      ++failures;
      std::fprintf(stderr, "iteration %ld (seed %llu, %zu bytes): %s\n", it,
                   static_cast<unsigned long long>(seed), m.size(), why.c_str());
    }
  }
  unlink(tmp_path.c_str());
  std::printf("params_fuzz: %ld iterations over %zu seed files: %ld loaded, %ld format errors, "
              "%ld not implemented, %ld via files, slowest %.1f ms, %ld failures\n",
              iterations, seeds.size(), ok, format, not_impl, via_file, slowest * 1e3, failures);
  return failures ? 1 : 0;
}
