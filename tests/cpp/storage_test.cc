// CpuPool: the pooled, aligned host allocator (core/storage/cpu_pool.h).
// The pool is process-wide: every test here restores the limit to 0 and frees what it took.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "core/base/error.h"
#include "core/storage/cpu_pool.h"

// The refused-by-the-OS test asks for a petabyte: let the sanitizers' allocators return NULL
// as malloc would. Default visibility: targets are built with hidden symbols, and the runtime
// looks these up.
#if defined(__SANITIZE_ADDRESS__)
extern "C" __attribute__((visibility("default"), used)) const char* __asan_default_options() {
  return "allocator_may_return_null=1";
}
#endif
#if defined(__SANITIZE_THREAD__)
extern "C" __attribute__((visibility("default"), used)) const char* __tsan_default_options() {
  return "allocator_may_return_null=1";
}
#endif

namespace mxn {
namespace {

struct Block {
  void* p = nullptr;
  size_t bytes = 0;
};

Block take(size_t n) {
  Block b;
  b.p = CpuPool::get().alloc(n, &b.bytes);
  return b;
}
void give(const Block& b) { CpuPool::get().free(b.p, b.bytes); }

class CpuPoolTest : public ::testing::Test {
 protected:
  void TearDown() override { CpuPool::get().set_limit(0); }
};

TEST_F(CpuPoolTest, SizeClasses) {
  EXPECT_EQ(CpuPool::size_class(1), 64u);
  EXPECT_EQ(CpuPool::size_class(64), 64u);
  EXPECT_EQ(CpuPool::size_class(65), 128u);
  EXPECT_EQ(CpuPool::size_class(256), 256u);
  EXPECT_EQ(CpuPool::size_class(257), 320u);
  EXPECT_EQ(CpuPool::size_class(1024), 1024u);
  EXPECT_EQ(CpuPool::size_class(1025), 1280u);
  EXPECT_EQ(CpuPool::size_class(1280), 1280u);
  EXPECT_EQ(CpuPool::size_class(1281), 1536u);
  EXPECT_EQ(CpuPool::size_class(size_t{1} << 30), size_t{1} << 30);
  size_t prev = 0;
  for (size_t b = 1; b < (size_t{1} << 20); b += (b < 4096 ? 1 : 37)) {
    const size_t c = CpuPool::size_class(b);
    ASSERT_GE(c, b);
    ASSERT_EQ(c % kCpuAlignment, 0u) << b;
    ASSERT_GE(c, prev) << "size classes must grow with the request, at " << b;
    if (b > 256) {
      ASSERT_LE(c - b, b / 4) << "more than 25% waste at " << b;
    }
    ASSERT_EQ(CpuPool::size_class(c), c) << "a size class must be its own class";
    prev = c;
  }
}

TEST_F(CpuPoolTest, AlignmentAndBlockSizes) {
  std::vector<Block> blocks;
  for (size_t n : {size_t{1}, size_t{3}, size_t{63}, size_t{64}, size_t{65}, size_t{100},
                   size_t{257}, size_t{4095}, size_t{4097}, size_t{100000}, size_t{1} << 22}) {
    Block b = take(n);
    ASSERT_NE(b.p, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(b.p) % kCpuAlignment, 0u) << n;
    EXPECT_EQ(b.bytes, CpuPool::size_class(n)) << n;
    std::memset(b.p, 0xab, b.bytes);  // the whole block is usable (ASan checks)
    blocks.push_back(b);
  }
  for (const Block& b : blocks) give(b);
}

TEST_F(CpuPoolTest, ZeroBytesGivesAValidPointer) {
  Block b = take(0);
  EXPECT_NE(b.p, nullptr);
  EXPECT_EQ(b.bytes, 0u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b.p) % kCpuAlignment, 0u);
  const MemoryStats before = CpuPool::get().stats();
  give(b);
  give(b);  // freeing the empty block is a no-op, even twice
  const MemoryStats after = CpuPool::get().stats();
  EXPECT_EQ(after.live_bytes, before.live_bytes);
  EXPECT_EQ(after.cached_bytes, before.cached_bytes);
  CpuPool::get().free(nullptr, 64);  // ignored
}

TEST_F(CpuPoolTest, FreedBlocksAreReused) {
  const size_t n = 123457;  // an unusual size class, so other tests' blocks do not interfere
  const size_t cls = CpuPool::size_class(n);
  Block a = take(n);
  const MemoryStats s1 = CpuPool::get().stats();
  give(a);
  const MemoryStats s2 = CpuPool::get().stats();
  EXPECT_EQ(s2.live_bytes, s1.live_bytes - static_cast<int64_t>(cls));
  EXPECT_EQ(s2.cached_bytes, s1.cached_bytes + static_cast<int64_t>(cls));
  Block b = take(n - 5);  // same class
  const MemoryStats s3 = CpuPool::get().stats();
  EXPECT_EQ(b.p, a.p) << "the cached block must be handed out again";
  EXPECT_EQ(b.bytes, cls);
  // Nothing new from the OS: held bytes (live + cached) unchanged.
  EXPECT_EQ(s3.live_bytes + s3.cached_bytes, s1.live_bytes + s1.cached_bytes);
  EXPECT_EQ(s3.cached_bytes, s2.cached_bytes - static_cast<int64_t>(cls));
  EXPECT_EQ(s3.alloc_count, s2.alloc_count + 1);
  give(b);
}

TEST_F(CpuPoolTest, LivePeakCachedAccounting) {
  CpuPool& pool = CpuPool::get();
  pool.release_cached();
  EXPECT_EQ(pool.stats().cached_bytes, 0);
  pool.reset_peak();
  const MemoryStats s0 = pool.stats();
  EXPECT_EQ(s0.peak_bytes, s0.live_bytes);

  Block a = take(1000);    // 1024
  Block b = take(5000);    // 5120
  Block c = take(70000);   // 81920 (steps of 16384 between 64 KiB and 128 KiB)
  const int64_t total = static_cast<int64_t>(a.bytes + b.bytes + c.bytes);
  EXPECT_EQ(a.bytes + b.bytes + c.bytes, 1024u + 5120u + 81920u);
  MemoryStats s = pool.stats();
  EXPECT_EQ(s.live_bytes, s0.live_bytes + total);
  EXPECT_EQ(s.peak_bytes, s0.live_bytes + total);
  EXPECT_EQ(s.alloc_count, s0.alloc_count + 3);

  give(c);
  s = pool.stats();
  EXPECT_EQ(s.live_bytes, s0.live_bytes + total - static_cast<int64_t>(c.bytes));
  EXPECT_EQ(s.peak_bytes, s0.live_bytes + total);  // the peak stays
  EXPECT_EQ(s.cached_bytes, static_cast<int64_t>(c.bytes));

  pool.reset_peak();
  EXPECT_EQ(pool.stats().peak_bytes, pool.stats().live_bytes);

  give(a);
  give(b);
  s = pool.stats();
  EXPECT_EQ(s.live_bytes, s0.live_bytes);
  EXPECT_EQ(s.cached_bytes, total);
  pool.release_cached();
  s = pool.stats();
  EXPECT_EQ(s.cached_bytes, 0);
  EXPECT_EQ(s.live_bytes, s0.live_bytes);
  // After release, allocation works and comes fresh.
  Block d = take(1000);
  EXPECT_EQ(pool.stats().cached_bytes, 0);
  give(d);
}

TEST_F(CpuPoolTest, LimitGivesOutOfMemoryNamingTheRequest) {
  CpuPool& pool = CpuPool::get();
  pool.release_cached();
  const MemoryStats s0 = pool.stats();
  const int64_t limit = s0.live_bytes + (int64_t{1} << 20);  // room for 1 MiB more
  pool.set_limit(limit);
  EXPECT_EQ(pool.stats().limit_bytes, limit);

  Block a = take(600000);  // fits
  try {
    take(2097152);
    FAIL() << "allocation over the limit succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kOutOfMemory);
    EXPECT_NE(e.message().find("2097152"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("cpu"), std::string::npos) << e.message();
  }
  // Cached blocks count against the limit but are given back before refusing.
  Block b = take(300000);
  give(b);
  give(a);
  EXPECT_GT(pool.stats().cached_bytes, 0);
  Block big = take(900000);  // needs the cached bytes released first
  EXPECT_EQ(pool.stats().cached_bytes, 0);
  give(big);

  // The pool keeps working after an OOM, and lifting the limit lifts the refusal.
  pool.set_limit(0);
  Block c = take(2097152);
  EXPECT_NE(c.p, nullptr);
  std::memset(c.p, 1, c.bytes);
  give(c);
  pool.release_cached();
}

TEST_F(CpuPoolTest, NegativeLimitIsRejected) {
  try {
    CpuPool::get().set_limit(-1);
    FAIL() << "negative limit accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArg);
  }
  EXPECT_EQ(CpuPool::get().stats().limit_bytes, 0);
}

TEST_F(CpuPoolTest, AbsurdRequestsAreOutOfMemory) {
  const MemoryStats s0 = CpuPool::get().stats();
  for (size_t n : {size_t{1} << 61, size_t{1} << 50}) {  // over the cap; refused by the OS
    try {
      take(n);
      FAIL() << "allocated " << n << " bytes";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kOutOfMemory);
      EXPECT_NE(e.message().find(std::to_string(n)), std::string::npos) << e.message();
    }
  }
  const MemoryStats s1 = CpuPool::get().stats();
  EXPECT_EQ(s1.live_bytes, s0.live_bytes);
  EXPECT_EQ(s1.alloc_count, s0.alloc_count);
  EXPECT_EQ(s1.peak_bytes, s0.peak_bytes) << "a refused request must not raise the peak";
  Block b = take(100);
  EXPECT_NE(b.p, nullptr);
  give(b);
}

TEST_F(CpuPoolTest, LimitHoldsUnderConcurrentAllocation) {
  CpuPool& pool = CpuPool::get();
  pool.release_cached();
  const MemoryStats s0 = pool.stats();
  const int64_t limit = s0.live_bytes + (int64_t{8} << 20);
  pool.set_limit(limit);
  pool.reset_peak();
  const int kThreads = 8;
  std::vector<std::vector<Block>> held(kThreads);
  std::atomic<int64_t> ooms{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        try {
          held[t].push_back(take(65536 + 4096 * static_cast<size_t>(t)));
        } catch (const Error& e) {
          if (e.code() == ErrorCode::kOutOfMemory) ++ooms;
          if (i % 3 == 0 && !held[t].empty()) {  // free some, keep going
            give(held[t].back());
            held[t].pop_back();
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  const MemoryStats s = pool.stats();
  EXPECT_GT(ooms.load(), 0);
  EXPECT_LE(s.peak_bytes, limit) << "the limit was exceeded under concurrency";
  EXPECT_LE(s.live_bytes + s.cached_bytes, limit);
  for (auto& v : held) {
    for (const Block& b : v) give(b);
  }
  pool.set_limit(0);
  pool.release_cached();
  EXPECT_EQ(pool.stats().live_bytes, s0.live_bytes);
}

TEST_F(CpuPoolTest, ConcurrentAllocFreeKeepsAccounting) {
  CpuPool& pool = CpuPool::get();
  const MemoryStats s0 = pool.stats();
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([t] {
      std::vector<Block> mine;
      for (int i = 0; i < 2000; ++i) {
        mine.push_back(take(static_cast<size_t>(64 + (i * 97 + t * 31) % 20000)));
        *static_cast<unsigned char*>(mine.back().p) = static_cast<unsigned char>(i);
        if (i % 2 == 1) {
          give(mine.front());
          mine.erase(mine.begin());
        }
      }
      for (const Block& b : mine) give(b);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(pool.stats().live_bytes, s0.live_bytes);
  pool.release_cached();
}

}  // namespace
}  // namespace mxn
