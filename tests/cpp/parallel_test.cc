// parallel_for / parallel_parts (core/ops/nn_util.h): every index runs exactly once whatever
// the size, cost and thread count; a kernel's exception reaches the caller; a parallel_for
// inside another one (a kernel calling a kernel) still covers everything.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

#include "core/ops/nn_util.h"

namespace {

using mxn::ops::nn::parallel_for;
using mxn::ops::nn::parallel_parts;

std::vector<int> run_counts(int64_t n, int64_t cost) {
  std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
  parallel_for(n, cost, [&](int64_t b, int64_t e) {
    ASSERT_LE(0, b);
    ASSERT_LE(b, e);
    ASSERT_LE(e, n);
    for (int64_t i = b; i < e; ++i) ++hits[static_cast<size_t>(i)];
  });
  std::vector<int> out;
  for (auto& h : hits) out.push_back(h.load());
  return out;
}

TEST(ParallelFor, EveryIndexOnce) {
  for (int64_t n : {0, 1, 2, 3, 7, 64, 1000, 100003}) {
    for (int64_t cost : {1, 1 << 10, 1 << 20}) {
      const std::vector<int> hits = run_counts(n, cost);
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[static_cast<size_t>(i)], 1) << n << " " << cost;
    }
  }
}

TEST(ParallelFor, NestedCallsCoverEverything) {
  std::atomic<int64_t> total{0};
  parallel_for(8, 1 << 20, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      parallel_for(1000, 1 << 20, [&](int64_t b2, int64_t e2) { total += e2 - b2; });
    }
  });
  EXPECT_EQ(total.load(), 8000);
}

TEST(ParallelFor, ExceptionsReachTheCaller) {
  EXPECT_THROW(parallel_for(1000, 1 << 20,
                            [](int64_t b, int64_t) {
                              if (b > 0) throw std::runtime_error("part failed");
                            }),
               std::runtime_error);
  EXPECT_THROW(parallel_parts(3, [](int t) {
                 if (t == 2) throw std::runtime_error("last part failed");
               }),
               std::runtime_error);
  // And the pool is usable afterwards.
  const std::vector<int> hits = run_counts(5000, 1 << 10);
  for (int h : hits) ASSERT_EQ(h, 1);
}

TEST(ParallelParts, RunsEachPartOnce) {
  for (int parts : {1, 2, 3, 5}) {
    std::vector<std::atomic<int>> seen(static_cast<size_t>(parts));
    parallel_parts(parts, [&](int t) { ++seen[static_cast<size_t>(t)]; });
    for (auto& s : seen) EXPECT_EQ(s.load(), 1) << parts;
  }
}

}  // namespace
