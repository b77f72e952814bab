// parallel_for / parallel_parts (core/ops/nn_util.h): every index runs exactly once whatever
// the size, cost and thread count; a kernel's exception reaches the caller; a parallel_for
// inside another one (a kernel calling a kernel) still covers everything. Each holds on a thread
// that leads OpenMP teams (an engine worker) and on one that does not, where the parts run in
// turn; and a thread waiting beside a computing worker leaves it the work (and so leads no
// team).
#include <gtest/gtest.h>

#include <dirent.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/engine/engine.h"
#include "core/ops/nn_util.h"

namespace {

using mxn::leads_parallel_teams;
using mxn::ParallelTeamLead;
using mxn::ops::nn::parallel_for;
using mxn::ops::nn::parallel_parts;

// Each test body runs twice: on a thread that leads teams, and on the test's own thread.
class Parallel : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (GetParam()) lead_ = std::make_unique<ParallelTeamLead>();
  }
  void TearDown() override { lead_.reset(); }
  std::unique_ptr<ParallelTeamLead> lead_;
};

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

TEST_P(Parallel, EveryIndexOnce) {
  for (int64_t n : {0, 1, 2, 3, 7, 64, 1000, 100003}) {
    for (int64_t cost : {1, 1 << 10, 1 << 20}) {
      const std::vector<int> hits = run_counts(n, cost);
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[static_cast<size_t>(i)], 1) << n << " " << cost;
    }
  }
}

TEST_P(Parallel, NestedCallsCoverEverything) {
  std::atomic<int64_t> total{0};
  parallel_for(8, 1 << 20, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      parallel_for(1000, 1 << 20, [&](int64_t b2, int64_t e2) { total += e2 - b2; });
    }
  });
  EXPECT_EQ(total.load(), 8000);
}

TEST_P(Parallel, ExceptionsReachTheCaller) {
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

TEST_P(Parallel, EachPartRunsOnce) {
  for (int parts : {1, 2, 3, 5}) {
    std::vector<std::atomic<int>> seen(static_cast<size_t>(parts));
    parallel_parts(parts, [&](int t) { ++seen[static_cast<size_t>(t)]; });
    for (auto& s : seen) EXPECT_EQ(s.load(), 1) << parts;
  }
}

TEST_P(Parallel, PartsRunOnTheTeamOnlyWhereThreadsLeadTeams) {
  std::mutex mu;
  std::set<std::thread::id> ran_on;
  parallel_parts(2, [&](int) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // both parts overlap
    std::lock_guard<std::mutex> lock(mu);
    ran_on.insert(std::this_thread::get_id());
  });
  if (GetParam()) {
    EXPECT_EQ(ran_on.size(), 2u);
  } else {
    EXPECT_EQ(ran_on, std::set<std::thread::id>{std::this_thread::get_id()});
  }
}

INSTANTIATE_TEST_SUITE_P(LeadingOrNot, Parallel, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return p.param ? "leads_teams" : "plain_thread";
                         });

int os_threads() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/task")) {
    while (dirent* e = readdir(d)) n += e->d_name[0] != '.';
    closedir(d);
  }
  return n;
}

TEST(ParallelTeams, AWaitingThreadLeavesWorkToAComputingWorker) {
  // The one worker computes for 400 ms (a long operation, like VGG-16's weight preparation)
  // while a parallel_for waits behind it. The waiting thread must not run that operation: it
  // would lead an OpenMP team of its own, and libgomp stops spinning for good once a process
  // keeps more team threads than cores (core/engine/engine.h). The operation runs on the
  // worker, on its team, and the process keeps its threads.
  auto eng = mxn::make_threaded_engine(1);
  mxn::EngineVar* busy = eng->new_var();
  mxn::EngineVar* v = eng->new_var();
  std::atomic<bool> started{false};
  std::thread::id worker;
  auto push = [&](mxn::Engine::Fn fn, mxn::EngineVar* w) {
    eng->push(std::move(fn), nullptr, 0, &w, 1, mxn::PushOptions{});
  };
  push([&] {
    worker = std::this_thread::get_id();
    started = true;
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(400);
    volatile uint64_t spin = 0;
    while (std::chrono::steady_clock::now() < end) spin = spin + 1;
  }, busy);
  while (!started.load()) std::this_thread::yield();
  std::mutex mu;
  std::set<std::thread::id> ran_on;
  push([&] {
    parallel_parts(2, [&](int) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      std::lock_guard<std::mutex> lock(mu);
      ran_on.insert(std::this_thread::get_id());
    });
  }, v);
  const int before = os_threads();
  eng->wait_for_var(v);
  EXPECT_EQ(ran_on.size(), 2u) << "the operation ran without a team";
  EXPECT_EQ(ran_on.count(std::this_thread::get_id()), 0u) << "the waiting thread ran it";
  EXPECT_EQ(ran_on.count(worker), 1u);
  EXPECT_LE(os_threads(), before + 1) << "at most the worker's team's thread is new";
  eng->wait_all();
  eng->delete_var(busy);
  eng->delete_var(v);
}

}  // namespace
