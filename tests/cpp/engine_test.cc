// The dependency engine contract (core/engine/engine.h, DESIGN §5), run against both engines.
// Timing assertions apply to the threaded engine only and keep generous margins: the test
// machines are small, shared VMs.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/base/env.h"
#include "core/base/error.h"
#include "core/engine/engine.h"
#include "tests/cpp/engine_test_util.h"

namespace mxn {
namespace {

using namespace engine_test;  // NOLINT: the shared helpers


// A one-shot gate: operations block on it until the test opens it.
class Gate {
 public:
  void open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

void spin_until(const std::atomic<bool>& flag) {
  const auto t0 = Clock::now();
  while (!flag.load()) {
    ASSERT_LT(ms_since(t0), 10000.0) << "timed out waiting for an operation to start";
    std::this_thread::yield();
  }
}


int64_t dag_ops() {
  static const int64_t n = env_int("MXNEXT_TEST_DAG_OPS", 100000);
  return n;
}

// ---------------------------------------------------------------------------------------------
// Parameterised over both engines.

class EngineTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    engine_ = GetParam() == "threaded" ? make_threaded_engine(4) : make_naive_engine();
  }
  void TearDown() override {
    for (EngineVar* v : vars_) engine_->delete_var(v);
    engine_.reset();
  }
  bool threaded() const { return GetParam() == "threaded"; }
  EngineVar* var() {
    vars_.push_back(engine_->new_var());
    return vars_.back();
  }
  Engine& e() { return *engine_; }

  std::unique_ptr<Engine> engine_;
  Vars vars_;
};

TEST_P(EngineTest, NameAndWorkers) {
  EXPECT_EQ(std::string(e().name()), GetParam());
  EXPECT_EQ(e().num_workers(), threaded() ? 4 : 0);
}

TEST_P(EngineTest, PushThenWaitSeesTheWrite) {
  EngineVar* v = var();
  int value = 0;
  push(e(), [&] { value = 42; }, {}, {v});
  e().wait_for_var(v);
  EXPECT_EQ(value, 42);
  int seen = 0;
  push(e(), [&] { seen = value; }, {v}, {});
  e().wait_all();
  EXPECT_EQ(seen, 42);
}

TEST_P(EngineTest, IndependentOperationsOverlap) {
  // Two workers; two 100 ms operations on different variables.
  std::unique_ptr<Engine> eng = threaded() ? make_threaded_engine(2) : make_naive_engine();
  EngineVar* a = eng->new_var();
  EngineVar* b = eng->new_var();
  std::atomic<int> running{0}, max_running{0}, done{0};
  auto op = [&] {
    int now = ++running;
    int prev = max_running.load();
    while (now > prev && !max_running.compare_exchange_weak(prev, now)) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    --running;
    ++done;
  };
  const auto t0 = Clock::now();
  push(*eng, op, {}, {a});
  push(*eng, op, {}, {b});
  eng->wait_all();
  const double ms = ms_since(t0);
  EXPECT_EQ(done.load(), 2);
  if (threaded()) {
    EXPECT_LT(ms, 170.0) << "independent operations did not run concurrently";
    EXPECT_EQ(max_running.load(), 2);
  } else {
    EXPECT_EQ(max_running.load(), 1);  // naive runs one at a time
  }
  eng->delete_var(a);
  eng->delete_var(b);
}

TEST_P(EngineTest, VersionsChangeWithWritesOnly) {
  EngineVar* a = var();
  EngineVar* b = var();
  const uint64_t a0 = var_version(a), b0 = var_version(b);
  EXPECT_NE(a0, 0u);
  EXPECT_NE(a0, b0);  // fresh variables never share a version
  // Reads leave it; the version seen inside a reading operation is the current one.
  uint64_t inside = 0;
  push(e(), [&] { inside = var_version(a); }, {a}, {});
  e().wait_all();
  EXPECT_EQ(inside, a0);
  EXPECT_EQ(var_version(a), a0);
  // A completed write renews it (also a failed one: the contents may be half written).
  push(e(), [] {}, {}, {a});
  e().wait_all();
  const uint64_t a1 = var_version(a);
  EXPECT_NE(a1, a0);
  EXPECT_NE(a1, b0);
  EXPECT_EQ(var_version(b), b0);
  push(e(), [] { throw Error(ErrorCode::kInternal, "half written"); }, {}, {a});
  EXPECT_NE(wait_all_error(e()), "");
  const uint64_t a2 = var_version(a);
  EXPECT_NE(a2, a1);
  // wait_for_var for writing renews it (the caller writes next); for reading it does not.
  EXPECT_NE(wait_error(e(), a, false), "");  // poisoned: rethrows
  EXPECT_EQ(var_version(a), a2);
  EXPECT_NE(wait_error(e(), a, true), "");  // still poisoned, and renewed anyway
  EXPECT_NE(var_version(a), a2);
}

TEST_P(EngineTest, WritesKeepPushOrder) {
  EngineVar* v = var();
  EngineVar* other = var();
  std::vector<int> seq;  // guarded by the engine only
  std::vector<size_t> seen_by_read;
  const int n = 3000;
  seen_by_read.assign(n, SIZE_MAX);
  for (int i = 0; i < n; ++i) {
    PushOptions opt;
    opt.priority = i % 7;  // priorities must not reorder dependent operations
    opt.run_inline = (i % 5) == 0;
    if (i % 3 == 0) {
      push(e(), [&, i] { seq.push_back(i); }, {other}, {v}, opt);  // write that reads another var
    } else {
      push(e(), [&, i] { seq.push_back(i); }, {}, {v}, opt);
    }
    if (i % 10 == 0) push(e(), [&, i] { seen_by_read[i] = seq.size(); }, {v}, {}, opt);
  }
  e().wait_for_var(v);
  ASSERT_EQ(seq.size(), static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) ASSERT_EQ(seq[i], i) << "write " << i << " out of order";
  e().wait_all();
  for (int i = 0; i < n; i += 10) EXPECT_EQ(seen_by_read[i], static_cast<size_t>(i + 1));
}

TEST_P(EngineTest, WriteAfterReadWaitsForTheReads) {
  EngineVar* v = var();
  std::atomic<int> reads_done{0};
  int reads_done_at_write = -1;
  int value = 1;
  std::vector<int> read_values(4, 0);
  for (int i = 0; i < 4; ++i) {
    push(e(), [&, i] {
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
      read_values[i] = value;
      ++reads_done;
    }, {v}, {});
  }
  push(e(), [&] {
    reads_done_at_write = reads_done.load();
    value = 2;
  }, {}, {v});
  int after = 0;
  push(e(), [&] { after = value; }, {v}, {});
  e().wait_all();
  EXPECT_EQ(reads_done_at_write, 4);
  for (int x : read_values) EXPECT_EQ(x, 1);
  EXPECT_EQ(after, 2);
}

TEST_P(EngineTest, WaitForWriteWaitsForReaders) {
  EngineVar* v = var();
  std::atomic<int> reads_done{0};
  for (int i = 0; i < 3; ++i) {
    push(e(), [&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      ++reads_done;
    }, {v}, {});
  }
  e().wait_for_var(v, /*for_write=*/true);
  EXPECT_EQ(reads_done.load(), 3);
  e().wait_all();
}

TEST_P(EngineTest, DuplicateAndReadWriteVariables) {
  EngineVar* a = var();
  EngineVar* b = var();
  uint32_t x = 1;  // wraps, defined (an int overflowed here: undefined behaviour)
  for (int i = 0; i < 100; ++i) {
    // a read and written, listed twice on each side; b read twice.
    push(e(), [&] { x = x * 3 + 1; }, {a, b, a, b}, {a, a});
  }
  e().wait_for_var(a);
  uint32_t expect = 1;
  for (int i = 0; i < 100; ++i) expect = expect * 3 + 1;
  EXPECT_EQ(x, expect);
  e().wait_all();
}

TEST_P(EngineTest, LongDependencyListsMergeLikeShortOnes) {
  // Over 16 variables the list is merged by sorting (an executor step writes every arena
  // block it overlaps): duplicates, and variables both read and written, must still make one
  // ordering each. Every operation writes w[0..19] (twice each) and reads them plus r[0..9];
  // a reader of one w must see every write before it, and readers of r run together.
  Vars w, r;
  for (int i = 0; i < 20; ++i) w.push_back(var());
  for (int i = 0; i < 10; ++i) r.push_back(var());
  Vars writes = w, reads = r;
  writes.insert(writes.end(), w.rbegin(), w.rend());
  reads.insert(reads.end(), w.begin(), w.end());
  reads.insert(reads.end(), r.begin(), r.end());
  uint32_t x = 1;  // wraps, defined
  std::atomic<int> seen_wrong{0};
  for (int i = 0; i < 50; ++i) {
    push(e(), [&] {
      std::this_thread::sleep_for(std::chrono::microseconds(200));  // readers would overtake
      x = x * 3 + 1;
    }, reads, writes);
    const int expect_now = i;
    push(e(), [&, expect_now] {
      uint32_t expect = 1;
      for (int k = 0; k <= expect_now; ++k) expect = expect * 3 + 1;
      if (x != expect) ++seen_wrong;
    }, {w[static_cast<size_t>(i % 20)]}, {});
  }
  e().wait_for_var(w[7]);
  uint32_t expect = 1;
  for (int i = 0; i < 50; ++i) expect = expect * 3 + 1;
  EXPECT_EQ(x, expect);
  e().wait_all();
  EXPECT_EQ(seen_wrong.load(), 0);
  EXPECT_THROW(push(e(), [] {}, Vars(20, r[0]), {nullptr}), Error);
}

TEST_P(EngineTest, BadArgumentsThrowInvalidArg) {
  EngineVar* a = var();
  EngineVar* null_var = nullptr;
  bool ran = false;
  try {
    e().push([&] { ran = true; }, &null_var, 1, &a, 1, PushOptions{});
    FAIL() << "NULL read variable accepted";
  } catch (const Error& err) {
    EXPECT_EQ(err.code(), ErrorCode::kInvalidArg);
  }
  try {
    e().push([&] { ran = true; }, &a, 1, &null_var, 1, PushOptions{});
    FAIL() << "NULL write variable accepted";
  } catch (const Error& err) {
    EXPECT_EQ(err.code(), ErrorCode::kInvalidArg);
  }
  try {
    e().push([&] { ran = true; }, &a, -1, nullptr, 0, PushOptions{});
    FAIL() << "negative count accepted";
  } catch (const Error& err) {
    EXPECT_EQ(err.code(), ErrorCode::kInvalidArg);
  }
  try {
    e().wait_for_var(nullptr);
    FAIL() << "wait on NULL accepted";
  } catch (const Error& err) {
    EXPECT_EQ(err.code(), ErrorCode::kInvalidArg);
  }
  e().wait_all();
  EXPECT_FALSE(ran);
  // Still usable.
  push(e(), [&] { ran = true; }, {}, {a});
  e().wait_for_var(a);
  EXPECT_TRUE(ran);
}

TEST_P(EngineTest, OperationsMayPushOperations) {
  EngineVar* a = var();
  EngineVar* b = var();
  int x = 0, y = 0;
  push(e(), [&] {
    x = 1;
    push(e(), [&] { y = x + 1; }, {a}, {b});  // reads a: runs after this op completes
  }, {}, {a});
  e().wait_all();
  EXPECT_EQ(x, 1);
  EXPECT_EQ(y, 2);
}

// ---- failures ------------------------------------------------------------------------------

TEST_P(EngineTest, FailurePoisonsWritesAndPropagates) {
  EngineVar* a = var();
  EngineVar* b = var();
  EngineVar* c = var();
  push(e(), [] { throw Error(ErrorCode::kShape, "boom: shapes (2,3) and (4,)"); }, {}, {a});
  bool reader_ran = false;
  push(e(), [&] { reader_ran = true; }, {a}, {b});  // reads poisoned a: skipped, poisons b
  bool rw_ran = false;
  push(e(), [&] { rw_ran = true; }, {b}, {b, c});  // read-write of b: skipped, poisons c

  try {
    e().wait_for_var(a);
    FAIL() << "poison not rethrown";
  } catch (const Error& err) {
    EXPECT_EQ(err.code(), ErrorCode::kShape);  // the original exception, not a copy of its text
    EXPECT_EQ(err.message(), "boom: shapes (2,3) and (4,)");
  }
  EXPECT_EQ(wait_error(e(), a), "boom: shapes (2,3) and (4,)");  // poison stays until rewritten
  EXPECT_EQ(wait_error(e(), b), "boom: shapes (2,3) and (4,)");
  EXPECT_EQ(wait_error(e(), c, /*for_write=*/true), "boom: shapes (2,3) and (4,)");
  EXPECT_FALSE(reader_ran);
  EXPECT_FALSE(rw_ran);
  // Reported by wait_for_var already: wait_all does not report it again.
  EXPECT_EQ(wait_all_error(e()), "");

  // A successful write that does not read a clears its poison.
  int value = 0;
  push(e(), [&] { value = 7; }, {}, {a});
  EXPECT_EQ(wait_error(e(), a), "");
  EXPECT_EQ(value, 7);
  EXPECT_EQ(wait_error(e(), b), "boom: shapes (2,3) and (4,)");  // b untouched
  push(e(), [&] { value += 1; }, {a}, {b});
  EXPECT_EQ(wait_error(e(), b), "");
  EXPECT_EQ(value, 8);
  EXPECT_EQ(wait_all_error(e()), "");
}

TEST_P(EngineTest, NonMxnExceptionsPoisonToo) {
  EngineVar* a = var();
  push(e(), [] { throw std::runtime_error("plain failure"); }, {}, {a});
  try {
    e().wait_for_var(a);
    FAIL() << "poison not rethrown";
  } catch (const std::runtime_error& err) {
    EXPECT_STREQ(err.what(), "plain failure");
  }
  EXPECT_EQ(wait_all_error(e()), "");
}

TEST_P(EngineTest, WaitAllReportsAnErrorOnce) {
  EngineVar* a = var();
  EngineVar* b = var();
  push(e(), [] { throw Error(ErrorCode::kInvalidArg, "first failure"); }, {}, {a});
  push(e(), [] { throw Error(ErrorCode::kInvalidArg, "second failure"); }, {}, {b});
  push(e(), [] {}, {a}, {b});  // skipped: not a new failure
  // The first failure to complete: the two are independent, so either may come first.
  const std::string first = wait_all_error(e());
  EXPECT_TRUE(first == "first failure" || first == "second failure") << first;
  EXPECT_EQ(wait_all_error(e()), "");
  // The variables keep their poison for waits on them.
  EXPECT_EQ(wait_error(e(), a), "first failure");
  EXPECT_EQ(wait_error(e(), b), "first failure");
  EXPECT_EQ(wait_all_error(e()), "");
}

TEST_P(EngineTest, ManyFailuresThenRecovery) {
  Vars vs;
  for (int i = 0; i < 8; ++i) vs.push_back(var());
  for (int i = 0; i < 1000; ++i) {
    EngineVar* w = vs[i % 8];
    EngineVar* r = vs[(i * 3 + 1) % 8];
    push(e(), [i] { throw Error(ErrorCode::kInternal, cat("failure ", i)); }, {r}, {w});
  }
  const std::string first = wait_all_error(e());
  EXPECT_EQ(first.rfind("failure ", 0), 0u) << first;  // independent ones may finish first
  if (!threaded()) {
    EXPECT_EQ(first, "failure 0");
  }
  EXPECT_EQ(wait_all_error(e()), "");
  // Good operations after the storm: clear every variable, then compute.
  std::vector<uint64_t> val(8, 0);  // grows past int64 in 100 rounds: wraps, defined
  for (int i = 0; i < 8; ++i) push(e(), [&, i] { val[i] = i; }, {}, {vs[i]});
  for (int round = 0; round < 100; ++round) {
    for (int i = 0; i < 8; ++i) {
      push(e(), [&, i] { val[i] += val[(i + 1) % 8]; }, {vs[(i + 1) % 8]}, {vs[i]});
    }
  }
  for (int i = 0; i < 8; ++i) EXPECT_EQ(wait_error(e(), vs[i]), "") << "var " << i;
  EXPECT_EQ(wait_all_error(e()), "");
  std::vector<uint64_t> ref(8);
  for (int i = 0; i < 8; ++i) ref[i] = i;
  for (int round = 0; round < 100; ++round) {
    for (int i = 0; i < 8; ++i) ref[i] += ref[(i + 1) % 8];
  }
  EXPECT_EQ(val, ref);
}

// ---- threads -------------------------------------------------------------------------------

TEST_P(EngineTest, ConcurrentClientThreads) {
  const int kThreads = 8, kOps = 3000, kShared = 4;
  Vars shared, priv;
  for (int i = 0; i < kShared; ++i) shared.push_back(var());
  for (int t = 0; t < kThreads; ++t) priv.push_back(var());
  std::vector<int64_t> shared_val(kShared, 0);
  std::vector<uint64_t> priv_val(kThreads, 0);
  std::vector<int64_t> shared_reads(kThreads, 0);
  std::vector<std::thread> clients;
  for (int t = 0; t < kThreads; ++t) {
    clients.emplace_back([&, t] {
      for (int i = 0; i < kOps; ++i) {
        PushOptions opt;
        opt.run_inline = (i % 4) == 0;
        const int s = (t + i) % kShared;
        switch (i % 3) {
          case 0:  // order-dependent chain on the private variable
            push(e(), [&, t, i] { priv_val[t] = mix(priv_val[t], i); }, {}, {priv[t]}, opt);
            break;
          case 1:  // commutative update of a shared variable
            push(e(), [&, t, i, s] { shared_val[s] += t * 100000 + i; }, {}, {shared[s]}, opt);
            break;
          default:  // read a shared variable into the private one (the value does not matter,
                    // the access must be ordered)
            push(e(), [&, t, s] { shared_reads[t] += shared_val[s] >= 0 ? 1 : 0; },
                 {shared[s]}, {priv[t]}, opt);
        }
        if (i % 500 == 499) e().wait_for_var(priv[t]);
      }
    });
  }
  for (auto& c : clients) c.join();
  e().wait_all();
  std::vector<int64_t> shared_ref(kShared, 0);
  std::vector<uint64_t> priv_ref(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kOps; ++i) {
      if (i % 3 == 0) priv_ref[t] = mix(priv_ref[t], i);
      if (i % 3 == 1) shared_ref[(t + i) % kShared] += t * 100000 + i;
    }
  }
  EXPECT_EQ(shared_val, shared_ref);
  EXPECT_EQ(priv_val, priv_ref);
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(shared_reads[t], kOps / 3);
}

TEST_P(EngineTest, RunInlineRunsOnThePushingThreadWhenReady) {
  EngineVar* v = var();
  std::thread::id ran_on;
  bool done = false;
  PushOptions opt;
  opt.run_inline = true;
  push(e(), [&] {
    ran_on = std::this_thread::get_id();
    done = true;
  }, {}, {v}, opt);
  EXPECT_TRUE(done) << "a ready run_inline operation must have run before push returned";
  EXPECT_EQ(ran_on, std::this_thread::get_id());
  e().wait_all();
}

TEST_P(EngineTest, OnlyThreadsRunningOperationsLeadTeams) {
  // leads_parallel_teams (engine.h): true inside the threaded engine's workers and for the
  // naive engine's pushing thread, false on the thread that pushes and waits, and for an
  // operation the threaded engine runs inline on it.
  EXPECT_FALSE(leads_parallel_teams());
  EngineVar* v = var();
  EngineVar* w = var();
  std::atomic<bool> queued_leads{false}, inline_leads{true};
  push(e(), [&] { queued_leads = leads_parallel_teams(); }, {}, {v});
  e().wait_for_var(v);
  PushOptions opt;
  opt.run_inline = true;
  push(e(), [&] { inline_leads = leads_parallel_teams(); }, {}, {w}, opt);
  e().wait_all();
  EXPECT_TRUE(queued_leads.load());
  EXPECT_EQ(inline_leads.load(), !threaded());
  EXPECT_FALSE(leads_parallel_teams()) << "the mark must end with the operation";
}

TEST_P(EngineTest, DeleteVarWithPendingWork) {
  EngineVar* v = e().new_var();  // not in vars_: deleted here
  std::atomic<int> ran{0};
  for (int i = 0; i < 5; ++i) {
    push(e(), [&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      ++ran;
    }, {}, {v});
    push(e(), [&] { ++ran; }, {v}, {});
  }
  e().delete_var(v);  // freed once the ten operations complete
  e().wait_all();
  EXPECT_EQ(ran.load(), 10);
  // A poisoned variable can be deleted too.
  EngineVar* p = e().new_var();
  push(e(), [] { throw Error(ErrorCode::kInternal, "x"); }, {}, {p});
  e().delete_var(p);
  EXPECT_EQ(wait_all_error(e()), "x");
  e().delete_var(nullptr);  // ignored
}

TEST_P(EngineTest, ClosuresAreReleasedBeforeWaitsReturn) {
  // Closures own resources (arrays' storage): once a wait says an operation has completed,
  // its closure must be gone, or memory accounting read right after a wait is wrong.
  EngineVar* v = var();
  EngineVar* w = var();
  int late_var = 0, late_all = 0, late_skipped = 0;
  for (int i = 0; i < 300; ++i) {
    auto token = std::make_shared<int>(i);
    push(e(), [token] { (void)*token; }, {}, {v});
    e().wait_for_var(v);
    if (token.use_count() != 1) ++late_var;
    push(e(), [token] { (void)*token; }, {v}, {w});
    push(e(), [token] { (void)*token; }, {}, {w});
    e().wait_all();
    if (token.use_count() != 1) ++late_all;
  }
  // Skipped operations release their closures too.
  push(e(), [] { throw Error(ErrorCode::kInternal, "poison"); }, {}, {v});
  for (int i = 0; i < 100; ++i) {
    auto token = std::make_shared<int>(i);
    push(e(), [token] { (void)*token; }, {v}, {w});
    try {
      e().wait_for_var(w);
    } catch (const Error&) {
    }
    if (token.use_count() != 1) ++late_skipped;
  }
  EXPECT_EQ(wait_all_error(e()), "");  // the poison was reported by wait_for_var(w)
  EXPECT_EQ(late_var, 0);
  EXPECT_EQ(late_all, 0);
  EXPECT_EQ(late_skipped, 0);
}

// push_async (the dist kvstore's communication): the operation ends when `done` is called,
// from another thread; its writes are visible to later operations; a failure passed to done
// poisons its writes; a poisoned input skips it without starting it. The threaded engine
// frees the worker meanwhile: 8 operations, each finished only once all 8 have started, fit
// on 4 workers.
TEST_P(EngineTest, AsyncOperationsEndWhenDoneIsCalled) {
  const int n = threaded() ? 8 : 1;
  std::mutex mu;
  std::condition_variable cv;
  int started = 0;
  std::vector<std::thread> helpers;
  std::vector<int> value(static_cast<size_t>(n), 0), seen(static_cast<size_t>(n), -1);
  Vars vs;
  for (int i = 0; i < n; ++i) vs.push_back(var());
  for (int i = 0; i < n; ++i) {
    EngineVar* v = vs[static_cast<size_t>(i)];
    e().push_async([&, i](Engine::Done done) {
      std::lock_guard<std::mutex> lock(mu);
      ++started;
      cv.notify_all();
      helpers.emplace_back([&, i, done] {
        {
          std::unique_lock<std::mutex> l(mu);
          ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds(20), [&] { return started == n; }));
        }
        value[static_cast<size_t>(i)] = i + 1;
        done(nullptr);
      });
    }, nullptr, 0, &v, 1, PushOptions{});
    push(e(), [&, i] { seen[static_cast<size_t>(i)] = value[static_cast<size_t>(i)]; }, {v}, {});
  }
  e().wait_all();
  for (int i = 0; i < n; ++i) EXPECT_EQ(seen[static_cast<size_t>(i)], i + 1);
  for (auto& t : helpers) t.join();
  helpers.clear();

  EngineVar* w = var();
  std::thread failer;
  bool failer_set = false;
  e().push_async([&](Engine::Done done) {
    std::thread t([done] { done(std::make_exception_ptr(std::runtime_error("peer lost"))); });
    std::lock_guard<std::mutex> lock(mu);
    failer = std::move(t);
    failer_set = true;
    cv.notify_all();
  }, nullptr, 0, &w, 1, PushOptions{});
  EXPECT_EQ(wait_error(e(), w), "peer lost");
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return failer_set; });
  }
  failer.join();
  bool ran = false;
  EngineVar* x = var();
  e().push_async([&](Engine::Done done) {
    ran = true;
    done(nullptr);
  }, &w, 1, &x, 1, PushOptions{});
  EXPECT_EQ(wait_error(e(), x), "peer lost");
  EXPECT_FALSE(ran);
  EXPECT_EQ(wait_all_error(e()), "");
}

INSTANTIATE_TEST_SUITE_P(BothEngines, EngineTest, ::testing::Values("threaded", "naive"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

// ---------------------------------------------------------------------------------------------
// Threaded-engine specifics.

// Threaded only: the naive engine runs one operation at a time by design.
TEST(ThreadedEngine, ReadsOfOneVariableRunTogether) {
  auto eng = make_threaded_engine(4);
  EngineVar* v = eng->new_var();
  // Each read waits (bounded) until the other has started: only possible if they overlap.
  std::atomic<int> started{0};
  std::atomic<int> saw_both{0};
  auto read = [&] {
    ++started;
    const auto t0 = Clock::now();
    while (started.load() < 2 && ms_since(t0) < 5000) std::this_thread::yield();
    if (started.load() == 2) ++saw_both;
  };
  push(*eng, read, {v}, {});
  push(*eng, read, {v}, {});
  eng->wait_all();
  EXPECT_EQ(saw_both.load(), 2);
  eng->delete_var(v);
}

TEST(ThreadedEngine, RunInlineNotReadyRunsLater) {
  auto eng = make_threaded_engine(2);
  EngineVar* v = eng->new_var();
  Gate gate;
  std::atomic<bool> started{false};
  push(*eng, [&] {
    started = true;
    gate.wait();
  }, {}, {v});
  spin_until(started);
  PushOptions opt;
  opt.run_inline = true;
  std::atomic<bool> done{false};
  push(*eng, [&] { done = true; }, {v}, {}, opt);  // v is busy: must not block the pusher
  EXPECT_FALSE(done.load());
  gate.open();
  eng->wait_for_var(v, /*for_write=*/true);
  EXPECT_TRUE(done.load());
  eng->delete_var(v);
}

TEST(ThreadedEngine, WaitingThreadRunsReadyWorkBesideABlockedWorker) {
  // One worker, blocked (no CPU used); the waiting thread must run the ready operation itself.
  auto eng = make_threaded_engine(1);
  EngineVar* busy = eng->new_var();
  EngineVar* v = eng->new_var();
  Gate gate;
  std::atomic<bool> started{false};
  push(*eng, [&] {
    started = true;
    gate.wait();
  }, {}, {busy});
  spin_until(started);
  std::thread::id ran_on;
  bool leads = false;
  push(*eng, [&] {
    ran_on = std::this_thread::get_id();
    leads = leads_parallel_teams();
  }, {}, {v});
  eng->wait_for_var(v);  // would deadlock if waits only slept
  // On the waiting thread itself (the distributed KVStore keeps a communicator per calling
  // thread), which does not lead OpenMP teams (leads_parallel_teams).
  EXPECT_EQ(ran_on, std::this_thread::get_id());
  EXPECT_FALSE(leads);
  gate.open();
  eng->wait_all();
  eng->delete_var(busy);
  eng->delete_var(v);
}

TEST(ThreadedEngine, WaitingThreadsLeaveWorkToWorkers) {
  // Kernels lead OpenMP teams of their own: only workers run them while workers make
  // progress, so a process keeps one team (docs/architecture.md, "The engine").
  auto eng = make_threaded_engine(1);
  std::vector<EngineVar*> vars;
  std::vector<std::thread::id> ran(40);
  for (size_t i = 0; i < ran.size(); ++i) {
    vars.push_back(eng->new_var());
    push(*eng, [&ran, i] {
      ran[i] = std::this_thread::get_id();
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }, {}, {vars.back()});
  }
  eng->wait_for_var(vars.back());
  eng->wait_all();
  for (const std::thread::id& id : ran) EXPECT_NE(id, std::this_thread::get_id());
  for (EngineVar* v : vars) eng->delete_var(v);
}

TEST(ThreadedEngine, WaitingThreadRunsReadyWorkBesideASpinningWorker) {
  // The worker spins (uses the CPU) until an operation queued behind it has run, as a worker
  // polling MPI does: it looks busy, so the waiting thread leaves the work to it for 100 ms
  // stalls, but after 2 s without a completion it runs the operation itself.
  auto eng = make_threaded_engine(1);
  EngineVar* busy = eng->new_var();
  EngineVar* v = eng->new_var();
  std::atomic<bool> started{false}, released{false};
  push(*eng, [&] {
    started = true;
    const auto give_up = Clock::now() + std::chrono::seconds(20);
    while (!released.load() && Clock::now() < give_up) {
    }
  }, {}, {busy});
  spin_until(started);
  std::thread::id ran_on;
  push(*eng, [&] {
    ran_on = std::this_thread::get_id();
    released = true;
  }, {}, {v});
  const auto t0 = Clock::now();
  eng->wait_for_var(v);
  const double ms = ms_since(t0);
  EXPECT_EQ(ran_on, std::this_thread::get_id());
  EXPECT_GE(ms, 1500.0) << "helped a worker that was computing";
  EXPECT_LT(ms, 10000.0);
  eng->wait_all();
  eng->delete_var(busy);
  eng->delete_var(v);
}

TEST(ThreadedEngine, WaitAllRunsReadyWorkBesideABlockedWorker) {
  auto eng = make_threaded_engine(1);
  EngineVar* busy = eng->new_var();
  EngineVar* v = eng->new_var();
  Gate gate;
  std::atomic<bool> started{false};
  std::thread::id worker;
  push(*eng, [&] {
    worker = std::this_thread::get_id();
    started = true;
    gate.wait();
  }, {}, {busy});
  spin_until(started);
  std::thread::id ran_on;
  // Opens the gate: wait_all can only finish if the waiting thread runs it.
  push(*eng, [&] {
    ran_on = std::this_thread::get_id();
    gate.open();
  }, {}, {v});
  eng->wait_all();
  EXPECT_NE(ran_on, worker);
  EXPECT_EQ(ran_on, std::this_thread::get_id());
  eng->delete_var(busy);
  eng->delete_var(v);
}

TEST(ThreadedEngine, HigherPriorityRunsFirst) {
  auto eng = make_threaded_engine(1);
  EngineVar* busy = eng->new_var();
  Gate gate;
  std::atomic<bool> started{false};
  push(*eng, [&] {
    started = true;
    gate.wait();
  }, {}, {busy});
  spin_until(started);
  Vars vs;
  std::vector<int> order;  // only the single worker appends
  std::mutex mu;
  const int prios[] = {0, 5, -3, 5, 9, 0};
  for (int i = 0; i < 6; ++i) {
    vs.push_back(eng->new_var());
    PushOptions opt;
    opt.priority = prios[i];
    push(*eng, [&, i] {
      std::lock_guard<std::mutex> lock(mu);
      order.push_back(i);
    }, {}, {vs.back()}, opt);
  }
  gate.open();
  // Poll without waiting on the engine: a waiting thread would help and race the worker.
  const auto t0 = Clock::now();
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (order.size() == 6) break;
    }
    ASSERT_LT(ms_since(t0), 10000.0);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  eng->wait_all();
  // The single worker ran them by priority, ties in push order.
  EXPECT_EQ(order, (std::vector<int>{4, 1, 3, 0, 5, 2}));
  for (EngineVar* v : vs) eng->delete_var(v);
  eng->delete_var(busy);
}

TEST(ThreadedEngine, DestructorWaitsForPendingWork) {
  std::atomic<int> ran{0};
  {
    auto eng = make_threaded_engine(2);
    EngineVar* v = eng->new_var();
    for (int i = 0; i < 20; ++i) {
      push(*eng, [&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        ++ran;
      }, {}, {v});
    }
    push(*eng, [] { throw Error(ErrorCode::kInternal, "unreported"); }, {}, {v});
    eng->delete_var(v);
  }  // must not throw, leak or touch freed memory
  EXPECT_EQ(ran.load(), 20);
}

TEST(ThreadedEngine, RejectsZeroWorkers) {
  try {
    make_threaded_engine(0);
    FAIL() << "zero workers accepted";
  } catch (const Error& err) {
    EXPECT_EQ(err.code(), ErrorCode::kInvalidArg);
  }
}

// ---------------------------------------------------------------------------------------------
// A random DAG: both engines (and several worker counts) must match a serial computation.


std::vector<int64_t> run_dag(Engine& eng, const std::vector<DagOp>& ops, int num_vars,
                             const std::vector<std::vector<int64_t>>& checkpoints,
                             int64_t checkpoint_every) {
  std::vector<int64_t> val(num_vars);
  for (int i = 0; i < num_vars; ++i) val[i] = i;
  Vars vars;
  for (int i = 0; i < num_vars; ++i) vars.push_back(eng.new_var());
  const int64_t n = static_cast<int64_t>(ops.size());
  for (int64_t id = 0; id < n; ++id) {
    const DagOp& op = ops[id];
    Vars r, w;
    for (int x : op.reads) r.push_back(vars[x]);
    for (int x : op.writes) w.push_back(vars[x]);
    PushOptions opt;
    opt.priority = op.priority;
    opt.run_inline = op.run_inline;
    push(eng, [&op, id, &val] { apply_dag_op(op, id, val.data()); }, r, w, opt);
    if ((id + 1) % checkpoint_every == 0) {
      // Mid-stream waits: a variable's value after every earlier op must match the serial one.
      const size_t c = static_cast<size_t>((id + 1) / checkpoint_every - 1);
      const int which = static_cast<int>(c % num_vars);
      eng.wait_for_var(vars[which]);
      EXPECT_EQ(val[which], checkpoints[c][which]) << "var " << which << " after op " << id;
    }
  }
  eng.wait_all();
  for (EngineVar* v : vars) eng.delete_var(v);
  return val;
}

TEST(EngineDag, RandomDagMatchesSerialAndNaive) {
  const int kVars = 64;
  const int64_t n = dag_ops();
  const int64_t every = std::max<int64_t>(1, n / 20);
  const auto ops = make_dag(n, kVars, 12345);

  std::vector<int64_t> serial(kVars);
  for (int i = 0; i < kVars; ++i) serial[i] = i;
  std::vector<std::vector<int64_t>> checkpoints;
  for (int64_t id = 0; id < n; ++id) {
    apply_dag_op(ops[id], id, serial.data());
    if ((id + 1) % every == 0) checkpoints.push_back(serial);
  }

  auto naive = make_naive_engine();
  auto t0 = Clock::now();
  EXPECT_EQ(run_dag(*naive, ops, kVars, checkpoints, every), serial);
  const double naive_ms = ms_since(t0);

  for (int workers : {1, 4}) {
    auto threaded = make_threaded_engine(workers);
    t0 = Clock::now();
    EXPECT_EQ(run_dag(*threaded, ops, kVars, checkpoints, every), serial)
        << workers << " workers";
    std::printf("[ dag      ] %lld ops: naive %.0f ms, threaded(%d) %.0f ms\n",
                static_cast<long long>(n), naive_ms, workers, ms_since(t0));
  }
}

// ---------------------------------------------------------------------------------------------

TEST(EngineGet, ProcessWideEngineFollowsTheEnvironment) {
  Engine& a = Engine::get();
  Engine& b = Engine::get();
  EXPECT_EQ(&a, &b);
  const std::string kind = env_str("MXNEXT_ENGINE", "threaded");
  const std::string expect = (kind == "naive" || kind == "NaiveEngine") ? "naive" : "threaded";
  EXPECT_EQ(std::string(a.name()), expect);
  if (expect == "threaded") {
    const int64_t w = env_int("MXNEXT_CPU_WORKERS", 0);
    if (w > 0) {
      EXPECT_EQ(a.num_workers(), w);
    } else {
      EXPECT_GE(a.num_workers(), 1);
    }
  }
  EngineVar* v = a.new_var();
  int x = 0;
  push(a, [&] { x = 5; }, {}, {v});
  a.wait_for_var(v);
  EXPECT_EQ(x, 5);
  a.delete_var(v);
}

}  // namespace
}  // namespace mxn
